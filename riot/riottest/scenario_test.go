package riottest

import (
	"strconv"
	"testing"
	"time"
)

func TestSharedGameIsOneMatch(t *testing.T) {
	s, clock := newTestServer(t)
	a := s.AddPlayer("Hide on bush", "KR1", "kr")
	b := s.AddPlayer("Viper", "G170", "kr")
	id := s.AddGame(GameSpec{Platform: "kr", Players: []string{a, b}, Start: t0, Duration: 20 * time.Minute})
	clock.Advance(5 * time.Minute)

	var games [2]activeGame
	for i, puuid := range []string{a, b} {
		r := get(t, s, s.Key(), spectatorPath("kr", puuid))
		if r.status != 200 {
			t.Fatalf("spectator %d: status %d", i, r.status)
		}
		decode(t, r, &games[i])
	}
	if games[0].GameID != games[1].GameID || "KR_"+strconv.FormatInt(games[0].GameID, 10) != id {
		t.Errorf("game ids %d and %d, match %s: want one game", games[0].GameID, games[1].GameID, id)
	}
	seen := map[string]int{}
	for i, p := range games[0].Participants {
		seen[p.PUUID]++
		if wantTeam := 100 + 100*(i/5); p.TeamID != wantTeam {
			t.Errorf("participant %d on team %d, want %d", i, p.TeamID, wantTeam)
		}
	}
	if len(games[0].Participants) != 10 || len(seen) != 10 || seen[a] != 1 || seen[b] != 1 {
		t.Errorf("participants %v: want 10 distinct PUUIDs including both players", seen)
	}
	if p := games[0].Participants[1]; p.RiotID != "Viper#G170" || p.PUUID != b {
		t.Errorf("second participant %+v, want Viper#G170", p)
	}

	clock.Advance(15 * time.Minute)
	for _, puuid := range []string{a, b} {
		var ids []string
		decode(t, get(t, s, s.Key(), idsPath("asia", puuid, "")), &ids)
		if len(ids) != 1 || ids[0] != id {
			t.Errorf("match ids %v, want [%s]", ids, id)
		}
	}
}

func TestAddGameRejectsInvalidSpecs(t *testing.T) {
	s, _ := newTestServer(t)
	p := s.AddPlayer("Faker", "KR1", "kr")
	var eleven []string
	for i := range 11 {
		eleven = append(eleven, s.AddPlayer("P", strconv.Itoa(i), "kr"))
	}
	cases := []struct {
		name string
		spec GameSpec
	}{
		{"unknown platform", GameSpec{Platform: "kr2", Players: []string{p}}},
		{"region as platform", GameSpec{Platform: "asia", Players: []string{p}}},
		{"eleven players", GameSpec{Platform: "kr", Players: eleven}},
		{"repeated player", GameSpec{Platform: "kr", Players: []string{p, p}}},
		{"unknown player", GameSpec{Platform: "kr", Players: []string{"nobody"}}},
		{"negative duration", GameSpec{Platform: "kr", Players: []string{p}, Duration: -time.Second}},
		{"negative delay", GameSpec{Platform: "kr", Players: []string{p}, ProcessingDelay: -time.Second}},
	}
	for _, tc := range cases {
		if id := s.AddGame(tc.spec); id != "" {
			t.Errorf("%s: got match %q, want none", tc.name, id)
		}
	}
	if id := s.AddGame(GameSpec{Platform: "oc1"}); id != "OC1_7100000001" {
		t.Errorf("valid game after rejected ones got id %q, want OC1_7100000001", id)
	}
}

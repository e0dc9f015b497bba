package api

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/riottest"
)

// The sample match and timeline, a copy of the ones riottest rewrites into
// the games it serves.
const (
	sampleTimeline = "../../samples/KR_7014499581.timeline.json"
	sampleMatch    = "../../samples/KR_7014499581.match.json"
)

func eventCounts(tl *riot.Timeline) map[string]int {
	counts := map[string]int{}
	for _, f := range tl.Info.Frames {
		for _, e := range f.Events {
			counts[e.Type]++
		}
	}
	return counts
}

// generous are limits no test here comes near, for tests about content.
var generous = riottest.WithAppLimits(riottest.Limit{Count: 500, Seconds: 10})

func TestClientActiveGame(t *testing.T) {
	srv := newServer(t, generous)
	idle := srv.AddPlayer("Idle", "KR1", "kr")
	playing := srv.AddPlayer("Playing", "KR1", "kr")
	id := srv.AddGame(riottest.GameSpec{Platform: "kr", Players: []string{playing}, Start: time.Now().Add(-5 * time.Minute)})
	client := NewClient(newTestDoer(t, srv, telemetry.Settings{}))

	if g, err := client.ActiveGame(context.Background(), "kr", idle); !errors.Is(err, ErrNotFound) {
		t.Errorf("idle player: game %+v, err %v; want ErrNotFound", g, err)
	}
	g, err := client.ActiveGame(context.Background(), "kr", playing)
	if err != nil {
		t.Fatal(err)
	}
	if g.MatchID() != id || g.PlatformID != "KR" || g.GameQueueConfigID != 420 || len(g.Participants) != 10 {
		t.Errorf("game %s on %s queue %d with %d participants; want %s on KR queue 420 with 10", g.MatchID(), g.PlatformID, g.GameQueueConfigID, len(g.Participants), id)
	}
	if p := g.Participants[0]; p.PUUID != playing || p.RiotID != "Playing#KR1" || p.TeamID != 100 {
		t.Errorf("participant 1 = %+v, want the player on team 100", p)
	}
	if g.GameLength < 299 || g.GameLength > 301 {
		t.Errorf("game length %d s, want about 300", g.GameLength)
	}
}

// TestClientMatchDocuments fetches a played game and checks that the
// rewritten sample decodes with the sample's figures and the game's ids.
func TestClientMatchDocuments(t *testing.T) {
	srv := newServer(t, generous)
	puuid := srv.AddPlayer("젠지 한별", "GEN", "kr")
	start := time.Now().Add(-31 * time.Minute)
	id := srv.AddGame(riottest.GameSpec{Platform: "kr", Players: []string{puuid}, Start: start, Duration: 29 * time.Minute})
	pending := srv.AddGame(riottest.GameSpec{Platform: "kr", Players: []string{puuid}, Start: start, Duration: 29 * time.Minute, ProcessingDelay: time.Hour})
	client := NewClient(newTestDoer(t, srv, telemetry.Settings{}))
	ctx := context.Background()

	sampleM, err := riot.DecodeMatch(bridgetest.ReadFile(t, sampleMatch), sampleMatch)
	if err != nil {
		t.Fatal(err)
	}
	sampleTL, err := riot.DecodeTimeline(bridgetest.ReadFile(t, sampleTimeline), sampleTimeline)
	if err != nil {
		t.Fatal(err)
	}

	m, err := client.Match(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if m.Metadata.MatchID != id || m.Info.PlatformID != "KR" || m.Info.GameStartTimestamp != start.UnixMilli() || m.Info.GameDuration != 29*60 {
		t.Errorf("match %s on %s start %d duration %d; want %s on KR start %d duration %d",
			m.Metadata.MatchID, m.Info.PlatformID, m.Info.GameStartTimestamp, m.Info.GameDuration, id, start.UnixMilli(), 29*60)
	}
	if p := m.Info.Participants[0]; p.PUUID != puuid || p.RiotIDGameName != "젠지 한별" || p.RiotIDTagline != "GEN" || p.ChampionName != "Aatrox" {
		t.Errorf("participant 1 = %s %q#%s %s; want our player on the sample's Aatrox", p.PUUID, p.RiotIDGameName, p.RiotIDTagline, p.ChampionName)
	}
	if len(m.Info.Teams) != 2 {
		t.Fatalf("%d teams, want 2", len(m.Info.Teams))
	}
	for i, team := range m.Info.Teams {
		want := sampleM.Info.Teams[i]
		if team.TeamID != want.TeamID || team.Win != want.Win || !maps.Equal(team.Objectives, want.Objectives) {
			t.Errorf("team %d = %+v, want the sample's %+v", team.TeamID, team, want)
		}
	}
	// Spot-check the sample's figures, so an empty sample cannot pass.
	if obj := m.Info.Teams[1].Objectives; !m.Info.Teams[1].Win || obj["baron"].Kills != 2 || obj["tower"].Kills != 7 || obj["champion"].Kills != 26 {
		t.Errorf("team 200 won %v with %+v; want a win with 2 barons, 7 towers, 26 kills", m.Info.Teams[1].Win, obj)
	}

	tl, err := client.Timeline(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if tl.Metadata.MatchID != id || len(tl.Info.Frames) != len(sampleTL.Info.Frames) || len(tl.Info.Frames) != 30 {
		t.Errorf("timeline %s with %d frames, want %s with 30", tl.Metadata.MatchID, len(tl.Info.Frames), id)
	}
	if got, want := eventCounts(tl), eventCounts(sampleTL); !maps.Equal(got, want) {
		t.Errorf("event counts %v, want the sample's %v", got, want)
	}
	if tl.Info.Participants[0].PUUID != puuid {
		t.Errorf("timeline participant 1 = %s, want %s", tl.Info.Participants[0].PUUID, puuid)
	}
	last := tl.Info.Frames[len(tl.Info.Frames)-1]
	if pf := last.ParticipantFrames[1]; pf != sampleTL.Info.Frames[len(sampleTL.Info.Frames)-1].ParticipantFrames[1] || pf.TotalGold == 0 {
		t.Errorf("last frame of participant 1 = %+v, want the sample's", pf)
	}
	if !slices.Equal(tl.Metadata.Participants, m.Metadata.Participants) || tl.Info.GameID != m.Info.GameID {
		t.Errorf("timeline of game %d, participants %v; match of game %d, participants %v", tl.Info.GameID, tl.Metadata.Participants, m.Info.GameID, m.Metadata.Participants)
	}

	for _, fetch := range []func() error{
		func() error { _, err := client.Match(ctx, pending); return err },
		func() error { _, err := client.Timeline(ctx, pending); return err },
	} {
		if err := fetch(); !errors.Is(err, ErrNotFound) {
			t.Errorf("unprocessed match: %v, want ErrNotFound", err)
		}
	}
}

func TestClientMatchIDs(t *testing.T) {
	srv := newServer(t, generous)
	puuid := srv.AddPlayer("Lister", "OCE", "oc1")
	now := time.Now()
	old := srv.AddGame(riottest.GameSpec{Platform: "oc1", Players: []string{puuid}, Start: now.Add(-3 * time.Hour), Duration: 30 * time.Minute})
	recent := srv.AddGame(riottest.GameSpec{Platform: "oc1", Players: []string{puuid}, Start: now.Add(-time.Hour), Duration: 30 * time.Minute})
	srv.AddGame(riottest.GameSpec{Platform: "oc1", Players: []string{puuid}, Start: now.Add(-10 * time.Minute)}) // still live
	client := NewClient(newTestDoer(t, srv, telemetry.Settings{}))

	cases := []struct {
		name  string
		since time.Time
		count int
		want  []string
	}{
		{"all, newest first", time.Time{}, 20, []string{recent, old}},
		{"since", now.Add(-2 * time.Hour), 20, []string{recent}},
		{"count", time.Time{}, 1, []string{recent}},
		{"count clamped to 1", time.Time{}, 0, []string{recent}},
		{"none yet", now, 20, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := client.MatchIDs(context.Background(), "oc1", puuid, c.since, c.count)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("ids = %v, want %v", got, c.want)
			}
		})
	}
}

// TestClientRouting calls every client method for players on every
// platform riottest serves and checks that riottest saw no call on a wrong
// host and none for an unknown resource. Matches and timelines, slow to
// render and decode, are fetched on one platform of each cluster.
func TestClientRouting(t *testing.T) {
	srv := newServer(t, generous)
	client := NewClient(newTestDoer(t, srv, telemetry.Settings{}))
	ctx := context.Background()
	now := time.Now()
	platforms := []string{"kr", "jp1", "euw1", "eun1", "tr1", "ru", "me1", "na1", "br1", "la1", "la2", "oc1", "sg2", "tw2", "vn2"}
	documents := []string{"kr", "me1", "la2", "oc1"} // asia, europe, americas, sea
	for _, platform := range platforms {
		t.Run(platform, func(t *testing.T) {
			puuid := srv.AddPlayer("Player "+platform, "T1", platform)
			ended := srv.AddGame(riottest.GameSpec{Platform: platform, Players: []string{puuid}, Start: now.Add(-time.Hour), Duration: 30 * time.Minute})
			live := srv.AddGame(riottest.GameSpec{Platform: platform, Players: []string{puuid}, Start: now.Add(-time.Minute)})

			if got, err := client.PUUID(ctx, platform, "Player "+platform+"#T1"); err != nil || got != puuid {
				t.Errorf("PUUID = %s, %v; want %s", got, err, puuid)
			}
			if g, err := client.ActiveGame(ctx, platform, puuid); err != nil || g.MatchID() != live {
				t.Errorf("ActiveGame = %v, want %s", err, live)
			}
			if ids, err := client.MatchIDs(ctx, platform, puuid, time.Time{}, 20); err != nil || !slices.Equal(ids, []string{ended}) {
				t.Errorf("MatchIDs = %v, %v; want [%s]", ids, err, ended)
			}
			if !slices.Contains(documents, platform) {
				return
			}
			if _, err := client.Match(ctx, ended); err != nil {
				t.Errorf("Match: %v", err)
			}
			if _, err := client.Timeline(ctx, ended); err != nil {
				t.Errorf("Timeline: %v", err)
			}
		})
	}
	st := srv.Stats()
	if st.WrongRoute != 0 || st.Unknown != 0 || st.AuthFailures != 0 {
		t.Errorf("wrong route %d, unknown %d, auth failures %d; want none", st.WrongRoute, st.Unknown, st.AuthFailures)
	}
	if want := 3*len(platforms) + 2*len(documents); st.Accepted != want {
		t.Errorf("%d requests accepted, want %d", st.Accepted, want)
	}
}

// TestClientErrorsSayEachThingOnce: an error names the object, the endpoint
// and the route once each, outermost first.
func TestClientErrorsSayEachThingOnce(t *testing.T) {
	srv := newServer(t, generous)
	srv.AddPlayer("Hide on bush", "KR1", "kr")
	ctx := context.Background()

	wrongKey := NewClient(newTestDoerKey(t, srv, srv.Key()+"-typo", telemetry.Settings{}))
	_, err := wrongKey.PUUID(ctx, "kr", "Hide on bush#KR1")
	want := `"Hide on bush#KR1": account-v1.getByRiotId on asia: http 403: ` + ErrKeyRejected.Error()
	if err == nil || err.Error() != want {
		t.Errorf("rejected key: %v\nwant %s", err, want)
	}

	client := NewClient(newTestDoer(t, srv, telemetry.Settings{}))
	_, err = client.Match(ctx, "KR_1")
	if !errors.Is(err, ErrNotFound) || err.Error() != "KR_1: match-v5.getMatch: not found" {
		t.Errorf("unknown match: %v, want KR_1: match-v5.getMatch: not found", err)
	}
	_, err = client.PUUID(ctx, "kr", "Nobody#KR1")
	if !errors.Is(err, ErrNotFound) || err.Error() != `"Nobody#KR1": account-v1.getByRiotId: not found` {
		t.Errorf("unknown riot id: %v", err)
	}
}

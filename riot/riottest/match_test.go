package riottest

import (
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestMatchProcessing(t *testing.T) {
	s, clock := newTestServer(t)
	puuid := s.AddPlayer("Hide on bush", "KR1", "kr")
	start := t0.Add(time.Minute)
	id := s.AddGame(GameSpec{Platform: "kr", Players: []string{puuid}, Start: start, Duration: 25 * time.Minute, ProcessingDelay: 5 * time.Minute})
	end := start.Add(25 * time.Minute)

	steps := []struct {
		name         string
		at           time.Time
		wantIDs      []string
		wantDocument int // status of match and timeline
	}{
		{"before the game", t0, []string{}, 404},
		{"live", start.Add(10 * time.Minute), []string{}, 404},
		{"just ended", end, []string{id}, 404},
		{"processing", end.Add(5*time.Minute - time.Millisecond), []string{id}, 404},
		{"processed", end.Add(5 * time.Minute), []string{id}, 200},
	}
	for _, st := range steps {
		clock.Advance(st.at.Sub(clock.Now()))
		var ids []string
		decode(t, get(t, s, s.Key(), idsPath("asia", puuid, "")), &ids)
		if !slices.Equal(ids, st.wantIDs) {
			t.Errorf("%s: ids %v, want %v", st.name, ids, st.wantIDs)
		}
		for _, path := range []string{matchPath("asia", id), timelinePath("asia", id)} {
			if r := get(t, s, s.Key(), path); r.status != st.wantDocument {
				t.Errorf("%s: %s status %d, want %d", st.name, path, r.status, st.wantDocument)
			}
		}
	}
	st := s.Stats()
	if st.MatchFetches[id] != 1 || st.TimelineFetches[id] != 1 || len(st.MatchFetches) != 1 {
		t.Errorf("fetches: match %v, timeline %v; want one 200 each for %s", st.MatchFetches, st.TimelineFetches, id)
	}
	if n := st.ByEndpoint[RouteEndpoint{"asia", EndpointTimeline}]; n != len(steps) {
		t.Errorf("timeline requests %d, want %d", n, len(steps))
	}
}

// served match-v5 documents, decoded for the figures the tests check.
type servedMatch struct {
	Metadata struct {
		MatchID      string   `json:"matchId"`
		Participants []string `json:"participants"`
	} `json:"metadata"`
	Info struct {
		GameID             int64  `json:"gameId"`
		GameCreation       int64  `json:"gameCreation"`
		GameStartTimestamp int64  `json:"gameStartTimestamp"`
		GameEndTimestamp   int64  `json:"gameEndTimestamp"`
		GameDuration       int64  `json:"gameDuration"`
		GameVersion        string `json:"gameVersion"`
		PlatformID         string `json:"platformId"`
		QueueID            int    `json:"queueId"`
		Participants       []struct {
			PUUID          string `json:"puuid"`
			RiotIDGameName string `json:"riotIdGameName"`
			RiotIDTagline  string `json:"riotIdTagline"`
			ChampionName   string `json:"championName"`
			TeamID         int    `json:"teamId"`
		} `json:"participants"`
		Teams []struct {
			TeamID     int `json:"teamId"`
			Objectives map[string]struct {
				Kills int `json:"kills"`
			} `json:"objectives"`
		} `json:"teams"`
	} `json:"info"`
}

type servedTimeline struct {
	Metadata struct {
		MatchID      string   `json:"matchId"`
		Participants []string `json:"participants"`
	} `json:"metadata"`
	Info struct {
		GameID       int64 `json:"gameId"`
		Participants []struct {
			ParticipantID int    `json:"participantId"`
			PUUID         string `json:"puuid"`
		} `json:"participants"`
		Frames []struct {
			ParticipantFrames map[int]struct {
				TotalGold int `json:"totalGold"`
			} `json:"participantFrames"`
			Events []struct {
				Type          string `json:"type"`
				RealTimestamp *int64 `json:"realTimestamp"`
				GameID        int64  `json:"gameId"`
			} `json:"events"`
		} `json:"frames"`
	} `json:"info"`
}

func TestMatchRewrittenFigures(t *testing.T) {
	cases := []struct {
		platform, region, platformID string
		queue, wantQueue             int
		duration                     time.Duration
	}{
		{"kr", "asia", "KR", 0, 420, 0},
		{"euw1", "europe", "EUW1", 440, 440, 31*time.Minute + 400*time.Millisecond},
		{"oc1", "sea", "OC1", 400, 400, 20 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.platform, func(t *testing.T) {
			s, clock := newTestServer(t)
			a := s.AddPlayer("Hide on bush", "KR1", tc.platform)
			b := s.AddPlayer("100%", "a/b", tc.platform)
			start := t0.Add(90 * time.Second)
			id := s.AddGame(GameSpec{Platform: tc.platform, Players: []string{a, b}, Start: start, Duration: tc.duration, QueueID: tc.queue})
			duration := tc.duration
			if duration == 0 {
				duration = sampleDuration
			}
			end := start.Add(duration)
			clock.Advance(end.Sub(clock.Now()))
			if want := tc.platformID + "_7100000001"; id != want {
				t.Fatalf("match id %q, want %q", id, want)
			}

			var m servedMatch
			r := get(t, s, s.Key(), matchPath(tc.region, id))
			if r.status != 200 {
				t.Fatalf("match: status %d (%s)", r.status, r.body)
			}
			decode(t, r, &m)
			if m.Metadata.MatchID != id || m.Info.GameID != 7100000001 || m.Info.PlatformID != tc.platformID || m.Info.QueueID != tc.wantQueue {
				t.Errorf("match ids: %s %d %s queue %d", m.Metadata.MatchID, m.Info.GameID, m.Info.PlatformID, m.Info.QueueID)
			}
			if m.Info.GameStartTimestamp != start.UnixMilli() || m.Info.GameEndTimestamp != end.UnixMilli() ||
				m.Info.GameCreation != start.UnixMilli()-10047 || m.Info.GameDuration != int64(duration/time.Second) {
				t.Errorf("match times: creation %d start %d end %d duration %d", m.Info.GameCreation, m.Info.GameStartTimestamp, m.Info.GameEndTimestamp, m.Info.GameDuration)
			}
			if m.Metadata.Participants[0] != a || m.Metadata.Participants[1] != b || len(m.Info.Participants) != 10 {
				t.Fatalf("participants %v, want %s and %s first", m.Metadata.Participants, a, b)
			}
			for i, p := range m.Info.Participants {
				if p.PUUID != m.Metadata.Participants[i] || slices.Contains(sampleGamePUUIDs, p.PUUID) {
					t.Errorf("participant %d: puuid %s, metadata %s; want a rewritten, consistent PUUID", i, p.PUUID, m.Metadata.Participants[i])
				}
			}
			if p := m.Info.Participants[1]; p.RiotIDGameName != "100%" || p.RiotIDTagline != "a/b" || p.ChampionName != "Olaf" {
				t.Errorf("participant 2: %+v, want 100%%#a/b on the sample's Olaf", p)
			}
			if m.Info.GameVersion != "14.7.571.9528" {
				t.Errorf("gameVersion %q, want the sample's", m.Info.GameVersion)
			}
			objectives := map[string][2]int{"champion": {23, 26}, "dragon": {3, 1}, "tower": {3, 7}}
			for name, want := range objectives {
				got := [2]int{m.Info.Teams[0].Objectives[name].Kills, m.Info.Teams[1].Objectives[name].Kills}
				if got != want || m.Info.Teams[0].TeamID != 100 {
					t.Errorf("%s kills blue/red %v, want %v", name, got, want)
				}
			}

			var tl servedTimeline
			r = get(t, s, s.Key(), timelinePath(tc.region, id))
			if r.status != 200 {
				t.Fatalf("timeline: status %d (%s)", r.status, r.body)
			}
			decode(t, r, &tl)
			if tl.Metadata.MatchID != id || tl.Info.GameID != 7100000001 || !slices.Equal(tl.Metadata.Participants, m.Metadata.Participants) {
				t.Errorf("timeline metadata %s %d %v", tl.Metadata.MatchID, tl.Info.GameID, tl.Metadata.Participants)
			}
			for i, p := range tl.Info.Participants {
				if p.ParticipantID != i+1 || p.PUUID != m.Metadata.Participants[i] {
					t.Errorf("timeline participant %d: %+v", i, p)
				}
			}
			last := tl.Info.Frames[len(tl.Info.Frames)-1]
			var gold [2]int
			for pid, pf := range last.ParticipantFrames {
				gold[m.Info.Participants[pid-1].TeamID/100-1] += pf.TotalGold
			}
			if gold != [2]int{56649, 64250} {
				t.Errorf("final team gold blue/red %v, want [56649 64250]", gold)
			}
			var pauseEnd, gameEnd int64
			for _, ev := range tl.Info.Frames[0].Events {
				if ev.Type == "PAUSE_END" {
					pauseEnd = *ev.RealTimestamp
				}
			}
			for _, ev := range last.Events {
				if ev.Type == "GAME_END" {
					gameEnd = *ev.RealTimestamp
					if ev.GameID != 7100000001 {
						t.Errorf("GAME_END gameId %d", ev.GameID)
					}
				}
			}
			// The sample's PAUSE_END is 91 ms before its start, GAME_END 171 ms after its end.
			if pauseEnd != start.UnixMilli()-91 || gameEnd != end.UnixMilli()+171 {
				t.Errorf("realTimestamps PAUSE_END %d GAME_END %d, want %d %d", pauseEnd, gameEnd, start.UnixMilli()-91, end.UnixMilli()+171)
			}
		})
	}
}

// sampleGamePUUIDs are the real players of KR_7014499581, who must not leak
// into scenario games.
var sampleGamePUUIDs = []string{
	"BqaR26D2GNks3DcVII90zNj0xLB4JbrOpvjWsVFMI4rk_Fx_T40iblivRGlN3u9Zqywxkl4A6QfPpQ",
	"px4lJ55eMYD9sHII546P5Wr2MEttCfsSDqk1Gotu8tRs9WLMTAtMaUZuSSVVdXMgzGz4gKctN93HYA",
	"Ih2eC6jw8wCKbG6oEuGaBHK_bCDwK9ymugsHvY730kokWLbjJ_fyA8F9jJ0hBvGilmlkv1fIO0_pQQ",
}

func TestMatchIDsParams(t *testing.T) {
	s, clock := newTestServer(t, WithAppLimits(Limit{100, 1}))
	p := s.AddPlayer("Hide on bush", "KR1", "kr")
	// Five ended games an hour apart (oldest first) and one still live.
	queues := []int{420, 450, 440, 420, 2000}
	var ids []string
	for i, q := range queues {
		ids = append(ids, s.AddGame(GameSpec{Platform: "kr", Players: []string{p}, Start: t0.Add(time.Duration(i) * time.Hour), Duration: 30 * time.Minute, QueueID: q}))
	}
	clock.Advance(5 * time.Hour)
	s.AddGame(GameSpec{Platform: "kr", Players: []string{p}, Start: clock.Now()})
	newest := slices.Clone(ids)
	slices.Reverse(newest)
	sec := func(h int) string { return strconv.FormatInt(t0.Add(time.Duration(h)*time.Hour).Unix(), 10) }

	cases := []struct {
		query      string
		wantStatus int
		want       []string
	}{
		{"", 200, newest},
		{"?count=2", 200, newest[:2]},
		{"?start=1&count=2", 200, newest[1:3]},
		{"?start=5", 200, []string{}},
		{"?count=0", 200, []string{}},
		{"?count=100", 200, newest},
		{"?queue=420", 200, []string{ids[3], ids[0]}},
		{"?type=ranked", 200, []string{ids[3], ids[2], ids[0]}},
		{"?type=normal", 200, []string{ids[1]}},
		{"?type=tutorial", 200, []string{ids[4]}},
		{"?type=tourney", 200, []string{}},
		{"?startTime=" + sec(2), 200, []string{ids[4], ids[3], ids[2]}},
		{"?endTime=" + sec(1), 200, []string{ids[1], ids[0]}},
		{"?startTime=" + sec(1) + "&endTime=" + sec(3) + "&queue=420", 200, []string{ids[3]}},
		{"?count=101", 400, nil},
		{"?count=-1", 400, nil},
		{"?count=ten", 400, nil},
		{"?start=-1", 400, nil},
		{"?startTime=yesterday", 400, nil},
		{"?queue=solo", 400, nil},
		{"?type=ranked_solo", 400, nil},
	}
	for _, tc := range cases {
		r := get(t, s, s.Key(), idsPath("asia", p, tc.query))
		if r.status != tc.wantStatus {
			t.Errorf("%q: status %d, want %d (%s)", tc.query, r.status, tc.wantStatus, r.body)
			continue
		}
		if tc.wantStatus != 200 {
			continue
		}
		var got []string
		decode(t, r, &got)
		if got == nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q: ids %v, want %v", tc.query, got, tc.want)
		}
	}
	if r := get(t, s, s.Key(), idsPath("asia", "unknown-puuid", "")); r.status != 400 {
		t.Errorf("unknown PUUID: status %d, want 400", r.status)
	}
}

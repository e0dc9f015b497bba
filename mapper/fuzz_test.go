package mapper_test

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/liveclient"
)

// FuzzDecodeMap feeds arbitrary bytes through the decoder and, when they
// decode, through the mapper: nothing may panic, and whatever is emitted must
// be a well-formed point.
func FuzzDecodeMap(f *testing.F) {
	for _, path := range []string{seedFrame, seedEvents} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// The sample cut to two frames: the whole 546 kB timeline makes every
	// exec, and every minimization, slow enough that the fuzzer stalls.
	tl := load(f, []string{sampleTimeline}, "").Timeline
	tl.Info.Frames = tl.Info.Frames[:2]
	short, err := json.Marshal(tl)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(short)
	f.Add([]byte(`{"metadata":{"matchId":"EUW1_1"},"info":{"frames":[{"timestamp":60000,"participantFrames":{"1":{"totalGold":500}},"events":[{"type":"CHAMPION_KILL","killerId":99,"victimId":-1},{"type":"BUILDING_KILL","teamId":100},{"type":"CHAMPION_SPECIAL_KILL","killType":"KILL_MULTI"}]}]}}`))
	f.Add([]byte(`[{"type":"ELITE_MONSTER_KILL","killerTeamId":300,"monsterType":"DRAGON","timestamp":1}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tl, err := riot.DecodeTimeline(data, "fuzz.json")
		if err != nil {
			return
		}
		m := mapper.New(mapper.Describe(tl, nil), mapper.Options{})
		tb := mapper.Timebase{Origin: time.Unix(1_700_000_000, 0), Speed: 1}
		for i := range tl.Info.Frames {
			b := m.Frame(&tl.Info.Frames[i], tb)
			for _, p := range b.Points {
				if p.Name == "" || (p.Kind != mapper.Gauge && p.Kind != mapper.Count) || math.IsNaN(p.Value) {
					t.Fatalf("malformed point %+v", p)
				}
			}
		}
	})
}

// FuzzLiveGame feeds arbitrary bytes through the allgamedata decoder and,
// when they decode, through a LiveGame that resumes the first quarter of
// the events and polls the rest in two: nothing may panic, every point must
// be well formed and finite, and no moment may be stamped after its poll.
//
//	go test ./mapper -run '^$' -fuzz FuzzLiveGame -fuzzminimizetime=2s
func FuzzLiveGame(f *testing.F) {
	for _, path := range []string{captureSpectate, capturePractice} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"activePlayer":{"error":"x"},"allPlayers":[{"championName":"A","team":"ORDER","summonerName":"a","scores":{"kills":1}},{"team":"CHAOS","rawChampionName":"game_character_displayname_"}],` +
		`"events":{"Events":[{"EventID":0,"EventName":"GameStart","EventTime":0},{"EventID":1,"EventName":"DragonKill","KillerName":"a","DragonType":"Elder|#,","EventTime":1e308},` +
		`{"EventID":0,"EventName":"GameStart","EventTime":-3},{"EventID":9223372036854775807,"EventName":"TurretKilled","TurretKilled":"Turret_T1_C_99"},{"EventID":2,"EventName":"GameEnd","Result":"Win"}]},` +
		`"gameData":{"gameMode":"CLASSIC","gameTime":-5,"mapNumber":11}}`))
	f.Add([]byte(`{"activePlayer":{"summonerName":"a","championStats":{"magicPenetrationPercent":-1}},"allPlayers":[{"summonerName":"a","team":"ORDER","items":[{"itemID":1,"slot":-1}]}],"events":{"Events":[]},"gameData":{"gameTime":1e308}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := liveclient.DecodeAllGameData(data)
		if err != nil {
			return
		}
		evs := g.Events.Events
		quarter, half := len(evs)/4, len(evs)/2
		m := mapper.NewLiveGame(mapper.Options{})
		m.Resume(evs[:quarter])
		at := time.Unix(1_700_000_000, 0)
		for i, p := range []mapper.LivePoll{{Game: g, Events: evs[quarter:half], MatchID: "EUW1_1", At: at}, {Game: g, Events: evs[half:], At: at.Add(time.Second)}} {
			b := m.Poll(p)
			for _, pt := range b.Points {
				if pt.Name == "" || (pt.Kind != mapper.Gauge && pt.Kind != mapper.Count) || math.IsNaN(pt.Value) || math.IsInf(pt.Value, 0) || !pt.Time.Equal(p.At) {
					t.Fatalf("poll %d: malformed point %+v", i, pt)
				}
				for _, tag := range pt.Tags {
					if tag == "" || len(tag) > 200 || strings.ContainsAny(tag, "|,#\n") {
						t.Fatalf("poll %d: %s carries tag %q", i, pt.Name, tag)
					}
				}
			}
			for _, e := range b.Events {
				if e.Time.After(p.At) || e.Title == "" {
					t.Fatalf("poll %d: moment %+v, poll at %v", i, e, p.At)
				}
			}
		}
	})
}

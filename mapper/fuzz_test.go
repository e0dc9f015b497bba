package mapper_test

import (
	"encoding/json"
	"math"
	"os"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot"
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

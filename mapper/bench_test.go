package mapper_test

import (
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/mapper"
)

// BenchmarkMap maps every frame of the sample match, the mapper's share of a
// full replay.
func BenchmarkMap(b *testing.B) {
	rec := load(b, []string{sampleTimeline}, sampleMatch)
	info := mapper.Describe(rec.Timeline, rec.Match)
	tb := mapper.Timebase{Origin: time.Unix(1_700_000_000, 0), Speed: 1}
	b.ReportAllocs()
	points := 0
	for b.Loop() {
		m := mapper.New(info, mapper.Options{})
		points = 0
		for i := range rec.Timeline.Info.Frames {
			points += len(m.Frame(&rec.Timeline.Info.Frames[i], tb).Points)
		}
	}
	b.ReportMetric(float64(points)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

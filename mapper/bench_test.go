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

// BenchmarkLiveGamePoll maps one poll of a followed game late in the game
// (the ranked capture at 29 minutes: ten players, the active player's
// stats, two new events), the mapper's share of a Live Client poll.
func BenchmarkLiveGamePoll(b *testing.B) {
	g := loadCapture(b, captureRanked)
	history := g.Events.Events
	at := time.Unix(1_700_000_000, 0)
	m := mapper.NewLiveGame(mapper.Options{})
	m.Resume(history[:len(history)-2])
	m.Poll(mapper.LivePoll{Game: g, At: at})
	points := 0
	b.ReportAllocs()
	for b.Loop() {
		points = len(m.Poll(mapper.LivePoll{Game: g, Events: history[len(history)-2:], At: at}).Points)
	}
	b.ReportMetric(float64(points), "points/poll")
}

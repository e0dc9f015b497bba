package bridge

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/liveclient"
	"github.com/riftbridge/riftbridge/riot/source"
	"github.com/riftbridge/riftbridge/sink"
	"github.com/riftbridge/riftbridge/sink/sinktest"
)

const (
	sampleTimeline = "../samples/KR_7014499581.timeline.json"
	sampleMatch    = "../samples/KR_7014499581.match.json"
)

func loadSample(t *testing.T) *riot.Recording {
	t.Helper()
	rec, err := riot.LoadRecording([]string{sampleTimeline}, sampleMatch)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// emitAll begins rec at from and delivers every frame after it.
func emitAll(t *testing.T, p *pipeline, rec *riot.Recording, from int) {
	t.Helper()
	e, err := p.BeginMatch(context.Background(), rec, from)
	if err != nil {
		t.Fatal(err)
	}
	defer e.End()
	for i := from; i < len(rec.Timeline.Info.Frames); i++ {
		if err := e.Frame(context.Background(), i); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
}

// counted sums the recorder's counts by metric name.
func counted(tel *recorder, now time.Time) map[string]float64 {
	counts := map[string]float64{}
	for _, pt := range tel.flush(nil, now).Points {
		if pt.Kind == mapper.Count {
			counts[pt.Name] += pt.Value
		}
	}
	return counts
}

// TestPipelineIntakeWindow: a finished match is sent with true timestamps,
// and only the points Datadog's intake accepts (the last hour) go out; the
// rest are counted.
func TestPipelineIntakeWindow(t *testing.T) {
	rec := loadSample(t)
	start := time.UnixMilli(rec.Match.Info.GameStartTimestamp)
	// 70 minutes after the start, frames of the first 10 minutes are older
	// than an hour.
	early := 0
	for i, points := range mapAllPoints(t, rec) {
		if rec.Timeline.Info.Frames[i].Timestamp <= (10 * time.Minute).Milliseconds() {
			early += len(points)
		}
	}
	tests := []struct {
		name    string
		now     time.Time
		sent    int
		outside int
	}{
		{"just ended", start.Add(30 * time.Minute), 16750, 0},
		{"ended 41 minutes ago", start.Add(70 * time.Minute), 16750 - early, early},
		{"ended yesterday", start.Add(24 * time.Hour), 0, 16750},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mem sinktest.Memory
			tel := newRecorder(clockwork.NewRealClock())
			p := newPipeline(&mem, mapper.Options{}, tel, clockwork.NewFakeClockAt(tt.now))
			emitAll(t, p, rec, 0)
			if got := len(mem.Points()); got != tt.sent {
				t.Errorf("sent %d points, want %d", got, tt.sent)
			}
			for _, pt := range mem.Points() {
				if pt.Time.Before(tt.now.Add(-time.Hour)) {
					t.Fatalf("%s stamped %v, outside the intake window", pt.Name, pt.Time)
				}
			}
			counts := counted(tel, tt.now)
			if counts[mapper.MetricBridgeOutsideIntake] != float64(tt.outside) || counts[mapper.MetricBridgeMatches] != 1 {
				t.Errorf("telemetry %v, want %d outside and 1 match", counts, tt.outside)
			}
		})
	}
}

// mapAllPoints maps the recording and returns each frame's points.
func mapAllPoints(t *testing.T, rec *riot.Recording) [][]mapper.Point {
	t.Helper()
	m := mapper.New(mapper.Describe(rec.Timeline, rec.Match), mapper.Options{})
	var out [][]mapper.Point
	for i := range rec.Timeline.Info.Frames {
		out = append(out, m.Frame(&rec.Timeline.Info.Frames[i], mapper.Timebase{}).Points)
	}
	return out
}

// TestPipelineResume: frames an earlier run sent are mapped but not
// written, so a resumed match sends exactly the remaining frames' points,
// with the running totals a full run would have, and counts the match once.
func TestPipelineResume(t *testing.T) {
	rec := loadSample(t)
	now := time.UnixMilli(rec.Match.Info.GameStartTimestamp).Add(30 * time.Minute)
	run := func(sentBefore int) ([]mapper.Point, float64) {
		var mem sinktest.Memory
		tel := newRecorder(clockwork.NewRealClock())
		p := newPipeline(&mem, mapper.Options{}, tel, clockwork.NewFakeClockAt(now))
		emitAll(t, p, rec, sentBefore)
		return mem.Points(), counted(tel, now)[mapper.MetricBridgeMatches]
	}
	full, _ := run(0)
	const resumeAt = 17
	cut := time.UnixMilli(rec.Match.Info.GameStartTimestamp + rec.Timeline.Info.Frames[resumeAt].Timestamp)
	var want []mapper.Point
	for _, pt := range full {
		if !pt.Time.Before(cut) {
			want = append(want, pt)
		}
	}
	got, matches := run(resumeAt)
	if len(got) == 0 || len(got) != len(want) {
		t.Fatalf("resumed run sent %d points, want %d (those of frames %d on)", len(got), len(want), resumeAt)
	}
	for i := range got {
		if got[i].Name != want[i].Name || got[i].Value != want[i].Value || !got[i].Time.Equal(want[i].Time) {
			t.Fatalf("point %d = %s %v at %v, want %s %v at %v", i, got[i].Name, got[i].Value, got[i].Time, want[i].Name, want[i].Value, want[i].Time)
		}
	}
	if matches != 1 {
		t.Errorf("resumed match counted %v times, want 1", matches)
	}
	if _, matches := run(len(rec.Timeline.Info.Frames)); matches != 0 {
		t.Errorf("a match whose every frame was sent counted %v times, want 0", matches)
	}
}

// lossySink is a Memory whose Flush reports that the Agent lost something
// when lost says so for that flush (counted from 1), as the DogStatsD sink
// does after a refused or dropped write.
type lossySink struct {
	sinktest.Memory
	flushes int
	lost    func(flush int) bool
}

func (s *lossySink) Flush(context.Context) error {
	s.flushes++
	if s.lost != nil && s.lost(s.flushes) {
		return sink.ErrUndelivered
	}
	return nil
}

// TestPipelineEmissionContract: a frame is acknowledged only once the sink
// reports it delivered; frames come in order; after a failure or the end
// the emission takes no more frames, and beginning the match again resumes
// it from the frame the source recorded, with the same running totals.
func TestPipelineEmissionContract(t *testing.T) {
	ctx := context.Background()
	rec := loadSample(t)
	frames := rec.Timeline.Info.Frames
	now := time.UnixMilli(rec.Match.Info.GameStartTimestamp).Add(30 * time.Minute)
	lose := false
	s := &lossySink{lost: func(int) bool { return lose }}
	tel := newRecorder(clockwork.NewRealClock())
	p := newPipeline(s, mapper.Options{}, tel, clockwork.NewFakeClockAt(now))

	if _, err := p.BeginMatch(ctx, rec, len(frames)+1); err == nil {
		t.Error("BeginMatch past the last frame: no error")
	}
	e, err := p.BeginMatch(ctx, rec, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Frame(ctx, 1); err == nil {
		t.Error("frame 1 before frame 0: no error")
	}
	for i := range 3 {
		if err := e.Frame(ctx, i); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	lose = true
	if err := e.Frame(ctx, 3); !errors.Is(err, sink.ErrUndelivered) {
		t.Fatalf("frame 3 with the Agent losing it = %v, want ErrUndelivered", err)
	}
	lose = false
	if err := e.Frame(ctx, 4); !errors.Is(err, errEnded) {
		t.Errorf("frame 4 after a failed frame = %v, want %v", err, errEnded)
	}
	if n := counted(tel, now)[mapper.MetricBridgeUndelivered]; n != 1 {
		t.Errorf("%v undelivered frames counted, want 1", n)
	}

	// The source recorded frames 0 to 2 as sent: it begins again at 3, and
	// the rest goes out as a full run would send it.
	sentBefore := len(s.Points())
	emitAll(t, p, rec, 3)
	var whole sinktest.Memory
	emitAll(t, newPipeline(&whole, mapper.Options{}, newRecorder(clockwork.NewRealClock()), clockwork.NewFakeClockAt(now)), rec, 0)
	resumed := s.Points()
	all := whole.Points()
	if len(resumed) != len(all)+len(mapAllPoints(t, rec)[3]) {
		// Frame 3 was written before its flush failed, and is sent again.
		t.Fatalf("%d points in all, want the %d of a whole run plus frame 3's again", len(resumed), len(all))
	}
	tail := resumed[sentBefore:]
	wantTail := all[len(all)-len(tail):]
	for i := range tail {
		if tail[i].Name != wantTail[i].Name || tail[i].Value != wantTail[i].Value || !tail[i].Time.Equal(wantTail[i].Time) {
			t.Fatalf("resumed point %d = %s %v, want %s %v", i, tail[i].Name, tail[i].Value, wantTail[i].Name, wantTail[i].Value)
		}
	}

	e, err = p.BeginMatch(ctx, rec, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.End()
	e.End()
	if err := e.Frame(ctx, 0); !errors.Is(err, errEnded) {
		t.Errorf("frame after End = %v, want %v", err, errEnded)
	}
}

// TestPipelineFlushesOthersFirst: what live gauges left in the sink is
// flushed before a frame is written, and a loss it reports is not blamed
// on the frame.
func TestPipelineFlushesOthersFirst(t *testing.T) {
	ctx := context.Background()
	rec := loadSample(t)
	now := time.UnixMilli(rec.Match.Info.GameStartTimestamp).Add(30 * time.Minute)
	// The first flush reports a loss from before the frame; the frame's
	// own flush finds nothing lost.
	s := &lossySink{lost: func(n int) bool { return n == 1 }}
	p := newPipeline(s, mapper.Options{}, newRecorder(clockwork.NewRealClock()), clockwork.NewFakeClockAt(now))
	e, err := p.BeginMatch(ctx, rec, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer e.End()
	if err := e.Frame(ctx, 0); err != nil {
		t.Fatalf("frame 0 = %v, want nil: the loss predates it", err)
	}
	if s.flushes != 2 {
		t.Errorf("%d flushes, want 2: one before the frame, one for it", s.flushes)
	}
}

const rankedCapture = "../riot/liveclient/testdata/allgamedata_ranked_00.json"

// eventCounts sums lol.event.count in points, and reports the match ids
// the points carry.
func eventCounts(points []mapper.Point) (total float64, matchIDs map[string]bool) {
	matchIDs = map[string]bool{}
	for _, pt := range points {
		if pt.Name == mapper.MetricEventCount {
			total += pt.Value
		}
		for _, tag := range pt.Tags {
			if id, ok := strings.CutPrefix(tag, mapper.TagMatchID+":"); ok {
				matchIDs[id] = true
			}
		}
	}
	return total, matchIDs
}

// TestPipelineGame: a followed game's polls are delivered as they come; a
// game resumed at event N counts none before it; the match id is tagged
// only when a tracked player's spectator game holds one of its players.
func TestPipelineGame(t *testing.T) {
	ctx := context.Background()
	doc, err := liveclient.DecodeAllGameData(bridgetest.ReadFile(t, rankedCapture))
	if err != nil {
		t.Fatal(err)
	}
	// As a client since the Riot ID change names its players.
	for i := range doc.AllPlayers {
		doc.AllPlayers[i].RiotID = doc.AllPlayers[i].SummonerName + "#EUW"
	}
	events := doc.Events.Events
	now := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		from    int
		tracked *riot.ActiveGame // a tracked player's spectator game
		matchID string
	}{
		{"from the start, no tracked player", 0, nil, ""},
		{"resumed at 40", 40, nil, ""},
		{"a tracked player in it", 0, &riot.ActiveGame{PlatformID: "EUW1", GameID: 7,
			Participants: []riot.ActiveParticipant{{RiotID: "someone#else"}, {RiotID: strings.ToUpper(doc.AllPlayers[3].RiotID)}}}, "euw1_7"},
		{"a tracked player in another game", 0, &riot.ActiveGame{PlatformID: "EUW1", GameID: 8,
			Participants: []riot.ActiveParticipant{{RiotID: "someone#else"}}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mem sinktest.Memory
			p := newPipeline(&mem, mapper.Options{}, newRecorder(clockwork.NewRealClock()), clockwork.NewFakeClockAt(now))
			if tc.tracked != nil {
				if err := p.Live(ctx, riot.Live{Player: riot.Player{PUUID: "p1"}, Game: tc.tracked, Started: true}); err != nil {
					t.Fatal(err)
				}
			}
			g, err := p.BeginGame(ctx, "lc-test", tc.from)
			if err != nil {
				t.Fatal(err)
			}
			defer g.End()
			// The first poll holds the whole history; the new events come
			// in two polls.
			half := (tc.from + len(events)) / 2
			for _, fresh := range [][]liveclient.Event{events[tc.from:half], events[half:]} {
				if err := g.Poll(ctx, source.GamePoll{Game: doc, Events: fresh, At: now}); err != nil {
					t.Fatal(err)
				}
			}
			total, ids := eventCounts(mem.Points())
			if want := float64(len(events) - tc.from); total != want {
				t.Errorf("%v events counted, want %v", total, want)
			}
			if tc.matchID == "" && len(ids) != 0 || tc.matchID != "" && (len(ids) != 1 || !ids[tc.matchID]) {
				t.Errorf("match ids tagged %v, want %q", ids, tc.matchID)
			}
			g.End()
			if err := g.Poll(ctx, source.GamePoll{Game: doc, At: now}); !errors.Is(err, errEnded) {
				t.Errorf("poll after End = %v, want %v", err, errEnded)
			}
		})
	}
}

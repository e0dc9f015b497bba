package main

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/sink"
)

// TestPipelineIntakeWindow: a finished match is sent with true timestamps,
// and only the points Datadog's intake accepts (the last hour) go out; the
// rest are counted.
func TestPipelineIntakeWindow(t *testing.T) {
	rec, err := riot.LoadRecording([]string{sampleTimeline}, sampleMatch)
	if err != nil {
		t.Fatal(err)
	}
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
			var mem sink.Memory
			tel := newTelemetry()
			p := newPipeline(&mem, mapper.Options{}, tel)
			p.now = func() time.Time { return tt.now }
			for i := range rec.Timeline.Info.Frames {
				if err := p.emit(context.Background(), riot.Update{Recording: rec, Frame: i}); err != nil {
					t.Fatal(err)
				}
			}
			if got := len(mem.Points()); got != tt.sent {
				t.Errorf("sent %d points, want %d", got, tt.sent)
			}
			for _, pt := range mem.Points() {
				if pt.Time.Before(tt.now.Add(-time.Hour)) {
					t.Fatalf("%s stamped %v, outside the intake window", pt.Name, pt.Time)
				}
			}
			counts := map[string]float64{}
			for _, pt := range tel.flush(nil, tt.now).Points {
				counts[pt.Name] += pt.Value
			}
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
	rec, err := riot.LoadRecording([]string{sampleTimeline}, sampleMatch)
	if err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(rec.Match.Info.GameStartTimestamp).Add(30 * time.Minute)
	run := func(sentBefore int) ([]mapper.Point, float64) {
		var mem sink.Memory
		tel := newTelemetry()
		p := newPipeline(&mem, mapper.Options{}, tel)
		p.now = func() time.Time { return now }
		for i := range rec.Timeline.Info.Frames {
			if err := p.emit(context.Background(), riot.Update{Recording: rec, Frame: i, Sent: i < sentBefore}); err != nil {
				t.Fatal(err)
			}
		}
		matches := 0.0
		for _, pt := range tel.flush(nil, now).Points {
			if pt.Name == mapper.MetricBridgeMatches {
				matches += pt.Value
			}
		}
		return mem.Points(), matches
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

// TestPipelineDropsAbandoned: a match whose emission stopped halfway (a
// failed write, a lost claim) does not keep its mapper once the next match
// starts long after.
func TestPipelineDropsAbandoned(t *testing.T) {
	rec, err := riot.LoadRecording([]string{sampleTimeline}, sampleMatch)
	if err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(rec.Match.Info.GameStartTimestamp).Add(30 * time.Minute)
	p := newPipeline(&sink.Memory{}, mapper.Options{}, newTelemetry())
	p.now = func() time.Time { return now }
	for i := range 5 {
		if err := p.emit(context.Background(), riot.Update{Recording: rec, Frame: i}); err != nil {
			t.Fatal(err)
		}
	}
	if len(p.matches) != 1 {
		t.Fatalf("%d emissions under way, want 1", len(p.matches))
	}
	now = now.Add(abandonedAfter + time.Minute)
	other := *rec
	otherTimeline := *rec.Timeline
	otherTimeline.Metadata.MatchID = "KR_1"
	other.Timeline = &otherTimeline
	if err := p.emit(context.Background(), riot.Update{Recording: &other, Frame: 0}); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.matches[rec.Timeline.Metadata.MatchID]; ok || len(p.matches) != 1 {
		t.Errorf("emissions %v after %v idle, want only KR_1", slices.Collect(maps.Keys(p.matches)), abandonedAfter)
	}
}

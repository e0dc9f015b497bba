package riot

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

var _ Clock = clockwork.Clock(nil)

// fakeClock runs on simulated time: After advances the clock by d and fires
// at once, unless block is set, in which case it calls block and never fires.
type fakeClock struct {
	now   time.Time
	waits []time.Duration
	block func()
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.waits = append(c.waits, d)
	if c.block != nil {
		c.block()
		return nil
	}
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func recordingAt(timestamps ...int64) *Recording {
	tl := &Timeline{Metadata: Metadata{MatchID: "KR_1"}}
	for _, ts := range timestamps {
		tl.Info.Frames = append(tl.Info.Frames, Frame{Timestamp: ts})
	}
	return &Recording{Timeline: tl}
}

func TestReplaySchedule(t *testing.T) {
	sample, err := LoadRecording([]string{sampleTimeline}, "")
	if err != nil {
		t.Fatal(err)
	}
	s := time.Second
	cases := []struct {
		name     string
		rec      *Recording
		speed    float64
		emitCost time.Duration // simulated time each emit takes
		// wantAt is when each frame is emitted, relative to the start of Run.
		wantAt    []time.Duration
		wantWaits []time.Duration
	}{
		{
			name: "speed 0 does not wait", rec: recordingAt(0, 60000, 120500, 121000), speed: 0,
			wantAt: []time.Duration{0, 0, 0, 0},
		},
		{
			name: "sample at speed 0", rec: sample, speed: 0,
			wantAt: make([]time.Duration, 30),
		},
		{
			name: "real time", rec: recordingAt(0, 60000, 120500, 121000), speed: 1,
			wantAt:    []time.Duration{0, 60 * s, 120500 * time.Millisecond, 121 * s},
			wantWaits: []time.Duration{60 * s, 60500 * time.Millisecond, 500 * time.Millisecond},
		},
		{
			name: "double speed", rec: recordingAt(0, 60000, 120500, 121000), speed: 2,
			wantAt:    []time.Duration{0, 30 * s, 60250 * time.Millisecond, 60500 * time.Millisecond},
			wantWaits: []time.Duration{30 * s, 30250 * time.Millisecond, 250 * time.Millisecond},
		},
		{
			name: "half speed", rec: recordingAt(0, 60000), speed: 0.5,
			wantAt:    []time.Duration{0, 120 * s},
			wantWaits: []time.Duration{120 * s},
		},
		{
			name: "first frame not at 0", rec: recordingAt(420000, 480000), speed: 1,
			wantAt:    []time.Duration{0, 60 * s},
			wantWaits: []time.Duration{60 * s},
		},
		{
			name: "emit time is absorbed, a late frame goes at once", rec: recordingAt(0, 60000, 120500, 121000), speed: 1,
			emitCost:  10 * s,
			wantAt:    []time.Duration{0, 60 * s, 120500 * time.Millisecond, 130500 * time.Millisecond},
			wantWaits: []time.Duration{50 * s, 50500 * time.Millisecond},
		},
		{
			name: "sample at 60x", rec: sample, speed: 60,
			wantAt: func() []time.Duration {
				var at []time.Duration
				for _, f := range sample.Timeline.Info.Frames {
					at = append(at, time.Duration(f.Timestamp)*time.Millisecond/60)
				}
				return at
			}(),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Date(2024, 4, 3, 16, 0, 0, 0, time.UTC)
			clock := &fakeClock{now: start}
			var at []time.Duration
			var frames []int
			r := &Replay{Recording: c.rec, Speed: c.speed, Clock: clock}
			err := r.Run(t.Context(), func(_ context.Context, u Update) error {
				if u.Recording != c.rec {
					t.Errorf("update %d carries another recording", u.Frame)
				}
				at = append(at, clock.now.Sub(start))
				frames = append(frames, u.Frame)
				clock.now = clock.now.Add(c.emitCost)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			wantFrames := make([]int, len(c.rec.Timeline.Info.Frames))
			for i := range wantFrames {
				wantFrames[i] = i
			}
			if !slices.Equal(frames, wantFrames) {
				t.Errorf("frames = %v, want %v", frames, wantFrames)
			}
			if !slices.Equal(at, c.wantAt) {
				t.Errorf("emitted at %v, want %v", at, c.wantAt)
			}
			if c.wantWaits != nil && !slices.Equal(clock.waits, c.wantWaits) {
				t.Errorf("waits = %v, want %v", clock.waits, c.wantWaits)
			}
			if c.speed == 0 && len(clock.waits) != 0 {
				t.Errorf("speed 0 waited %v", clock.waits)
			}
		})
	}
}

func TestReplayCancel(t *testing.T) {
	cases := []struct {
		name string
		// speed and cancelAt: with speed 0 the emit of frame cancelAt cancels;
		// otherwise the first wait cancels and then blocks forever.
		speed     float64
		cancelAt  int
		wantEmits int
	}{
		{name: "during a wait", speed: 1, wantEmits: 1},
		{name: "between frames at speed 0", speed: 0, cancelAt: 2, wantEmits: 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			clock := &fakeClock{now: time.Unix(0, 0), block: cancel}
			emits := 0
			r := &Replay{Recording: recordingAt(0, 60000, 120000, 180000, 240000), Speed: c.speed, Clock: clock}
			err := r.Run(ctx, func(context.Context, Update) error {
				if c.speed == 0 && emits == c.cancelAt {
					cancel()
				}
				emits++
				return nil
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v, want context.Canceled", err)
			}
			if emits != c.wantEmits {
				t.Errorf("emitted %d frames, want %d", emits, c.wantEmits)
			}
		})
	}
}

func TestReplayEmitError(t *testing.T) {
	errSink := errors.New("sink closed")
	var emitted []int
	r := &Replay{Recording: recordingAt(0, 60000, 120000), Speed: 0}
	err := r.Run(t.Context(), func(_ context.Context, u Update) error {
		emitted = append(emitted, u.Frame)
		if u.Frame == 1 {
			return errSink
		}
		return nil
	})
	if !errors.Is(err, errSink) {
		t.Fatalf("Run = %v, want it to wrap %v", err, errSink)
	}
	if want := "replay KR_1: frame 1 of 3: sink closed"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if !slices.Equal(emitted, []int{0, 1}) {
		t.Errorf("emitted %v, want [0 1]", emitted)
	}
}

func TestReplayInvalid(t *testing.T) {
	cases := []struct {
		name   string
		replay *Replay
		want   string
	}{
		{name: "no recording", replay: &Replay{}, want: "replay: no recording"},
		{name: "no timeline", replay: &Replay{Recording: &Recording{}}, want: "replay: no recording"},
		{name: "negative speed", replay: &Replay{Recording: recordingAt(0), Speed: -1}, want: "replay KR_1: invalid speed -1"},
		{name: "NaN speed", replay: &Replay{Recording: recordingAt(0), Speed: math.NaN()}, want: "replay KR_1: invalid speed NaN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.replay.Run(t.Context(), func(context.Context, Update) error {
				t.Error("emit called")
				return nil
			})
			if err == nil || err.Error() != c.want {
				t.Errorf("Run = %v, want %q", err, c.want)
			}
		})
	}
}

// A nil Clock means the system clock; the speed keeps the real waits to
// microseconds, and nothing about their length is asserted.
func TestReplaySystemClock(t *testing.T) {
	emits := 0
	r := &Replay{Recording: recordingAt(0, 60000, 120000), Speed: 1e9}
	if err := r.Run(t.Context(), func(context.Context, Update) error { emits++; return nil }); err != nil {
		t.Fatal(err)
	}
	if emits != 3 {
		t.Errorf("emitted %d frames, want 3", emits)
	}
}

// BenchmarkReplay is a whole replay from file to emitted frames, to compare
// with BenchmarkDecodeTimelineStdlib.
func BenchmarkReplay(b *testing.B) {
	b.SetBytes(int64(len(readFixture(b, sampleTimeline))))
	b.ReportAllocs()
	for b.Loop() {
		rec, err := LoadRecording([]string{sampleTimeline}, "")
		if err != nil {
			b.Fatal(err)
		}
		r := &Replay{Recording: rec}
		if err := r.Run(b.Context(), func(context.Context, Update) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

package source

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot"
)

const sampleTimeline = "../../samples/KR_7014499581.timeline.json"

// recorder is an Emitter that records, in order, what it is handed:
// "begin KR_1 from 0", "frame 0", …, "end", "live …".
type recorder struct {
	// begin, if set, is called by BeginMatch; its error is returned.
	begin func(rec *riot.Recording, from int) error
	// frame, if set, is called by Frame once the frame is recorded; its
	// error is returned.
	frame func(i int) error

	mu     sync.Mutex
	events []string
	recs   []*riot.Recording // handed to BeginMatch
	frames []int
}

var _ Emitter = (*recorder)(nil)

func (r *recorder) record(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

func (r *recorder) Live(_ context.Context, l riot.Live) error {
	r.record("live %s", l.Player.RiotID)
	return nil
}

func (r *recorder) BeginMatch(_ context.Context, rec *riot.Recording, from int) (Emission, error) {
	r.record("begin %s from %d", rec.Name(), from)
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.mu.Unlock()
	if r.begin != nil {
		if err := r.begin(rec, from); err != nil {
			return nil, err
		}
	}
	return &recordedEmission{r: r}, nil
}

func (r *recorder) BeginGame(_ context.Context, key string, from int) (GameEmission, error) {
	r.record("begin game %s from %d", key, from)
	return &recordedEmission{r: r}, nil
}

// Events returns what was recorded so far.
func (r *recorder) Events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Frames returns the frames handed to Frame so far, in order.
func (r *recorder) Frames() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.frames)
}

type recordedEmission struct {
	r     *recorder
	ended bool
}

func (m *recordedEmission) Frame(_ context.Context, i int) error {
	m.r.record("frame %d", i)
	m.r.mu.Lock()
	m.r.frames = append(m.r.frames, i)
	m.r.mu.Unlock()
	if m.r.frame != nil {
		return m.r.frame(i)
	}
	return nil
}

func (m *recordedEmission) Poll(_ context.Context, p GamePoll) error {
	m.r.record("poll at %s: %d events", p.At.Format(time.RFC3339), len(p.Events))
	return nil
}

func (m *recordedEmission) End() {
	if m.ended {
		return // calling End again does nothing
	}
	m.ended = true
	m.r.record("end")
}

// emitted is what a recorder holds after a whole emission of frames of the
// recording named name: its beginning, each frame, its end.
func emitted(name string, frames []int) []string {
	ev := []string{fmt.Sprintf("begin %s from 0", name)}
	for _, i := range frames {
		ev = append(ev, fmt.Sprintf("frame %d", i))
	}
	return append(ev, "end")
}

// upTo returns 0, 1, …, n-1.
func upTo(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// timerClock is a clockwork fake clock that also records the duration of
// every timer made on it: the replay's waits.
type timerClock struct {
	*clockwork.FakeClock
	mu    sync.Mutex
	waits []time.Duration
}

func newTimerClock(at time.Time) *timerClock {
	return &timerClock{FakeClock: clockwork.NewFakeClockAt(at)}
}

func (c *timerClock) NewTimer(d time.Duration) clockwork.Timer {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	return c.FakeClock.NewTimer(d)
}

// Waits returns the duration of every timer made so far.
func (c *timerClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.waits)
}

// play runs r into emit on a goroutine and, each time the replay waits on
// clk, advances clk by that wait, until Run returns; it returns Run's
// error. Simulated time moves only by the replay's waits and what emit
// advances.
func play(t *testing.T, clk *timerClock, r Source, emit Emitter) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.Run(t.Context(), emit) }()
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		waiting := make(chan error, 1)
		go func() { waiting <- clk.BlockUntilContext(ctx, 1) }()
		select {
		case err := <-done:
			cancel()
			return err
		case err := <-waiting:
			cancel()
			if err != nil {
				t.Fatal("the replay neither waits nor returns")
			}
			// The timer is recorded before it waits on the clock.
			waits := clk.Waits()
			clk.Advance(waits[len(waits)-1])
		}
	}
}

func recordingAt(timestamps ...int64) *riot.Recording {
	tl := &riot.Timeline{Metadata: riot.Metadata{MatchID: "KR_1"}}
	for _, ts := range timestamps {
		tl.Info.Frames = append(tl.Info.Frames, riot.Frame{Timestamp: ts})
	}
	return &riot.Recording{Timeline: tl}
}

func TestReplaySchedule(t *testing.T) {
	sample, err := riot.LoadRecording([]string{sampleTimeline}, "")
	if err != nil {
		t.Fatal(err)
	}
	s := time.Second
	cases := []struct {
		name     string
		rec      *riot.Recording
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
			clk := newTimerClock(start)
			var at []time.Duration
			rec := &recorder{frame: func(int) error {
				at = append(at, clk.Now().Sub(start))
				clk.Advance(c.emitCost)
				return nil
			}}
			r := NewReplay(c.rec, telemetry.Settings{Clock: clk}, WithSpeed(c.speed))
			if err := play(t, clk, r, rec); err != nil {
				t.Fatal(err)
			}
			rec.mu.Lock()
			recs := slices.Clone(rec.recs)
			rec.mu.Unlock()
			if len(recs) != 1 || recs[0] != c.rec {
				t.Errorf("BeginMatch got %d recordings, want the replayed one once", len(recs))
			}
			wantFrames := upTo(len(c.rec.Timeline.Info.Frames))
			if frames := rec.Frames(); !slices.Equal(frames, wantFrames) {
				t.Errorf("frames = %v, want %v", frames, wantFrames)
			}
			if ev, want := rec.Events(), emitted(c.rec.Name(), wantFrames); !slices.Equal(ev, want) {
				t.Errorf("emitted %q, want %q", ev, want)
			}
			if !slices.Equal(at, c.wantAt) {
				t.Errorf("emitted at %v, want %v", at, c.wantAt)
			}
			waits := clk.Waits()
			if c.wantWaits != nil && !slices.Equal(waits, c.wantWaits) {
				t.Errorf("waits = %v, want %v", waits, c.wantWaits)
			}
			if c.speed == 0 && len(waits) != 0 {
				t.Errorf("speed 0 waited %v", waits)
			}
		})
	}
}

func TestReplayCancel(t *testing.T) {
	cases := []struct {
		name string
		// speed and cancelAt: with speed 0 the emit of frame cancelAt cancels;
		// otherwise the test cancels once the replay waits for the second
		// frame, and the clock never moves.
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
			clk := clockwork.NewFakeClockAt(time.Unix(0, 0))
			rec := &recorder{frame: func(i int) error {
				if c.speed == 0 && i == c.cancelAt {
					cancel()
				}
				return nil
			}}
			r := NewReplay(recordingAt(0, 60000, 120000, 180000, 240000), telemetry.Settings{Clock: clk}, WithSpeed(c.speed))
			done := make(chan error, 1)
			go func() { done <- r.Run(ctx, rec) }()
			if c.speed != 0 {
				if err := blockUntil(clk, 1); err != nil {
					t.Fatal(err)
				}
				cancel()
			}
			err := bridgetest.Recv(t, done, "end of Run", 5*time.Second)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v, want context.Canceled", err)
			}
			if emits := len(rec.Frames()); emits != c.wantEmits {
				t.Errorf("emitted %d frames, want %d", emits, c.wantEmits)
			}
			if ev, want := rec.Events(), emitted("KR_1", upTo(c.wantEmits)); !slices.Equal(ev, want) {
				t.Errorf("emitted %q, want %q: the emission ends when cancelled", ev, want)
			}
		})
	}
}

func TestReplayEmitError(t *testing.T) {
	errSink := errors.New("sink closed")
	rec := &recorder{frame: func(i int) error {
		if i == 1 {
			return errSink
		}
		return nil
	}}
	r := NewReplay(recordingAt(0, 60000, 120000), telemetry.Settings{}, WithSpeed(0))
	err := r.Run(t.Context(), rec)
	if !errors.Is(err, errSink) {
		t.Fatalf("Run = %v, want it to wrap %v", err, errSink)
	}
	if want := "replay KR_1: frame 1 of 3: sink closed"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if emitted := rec.Frames(); !slices.Equal(emitted, []int{0, 1}) {
		t.Errorf("emitted %v, want [0 1]", emitted)
	}
	if ev, want := rec.Events(), emitted("KR_1", []int{0, 1}); !slices.Equal(ev, want) {
		t.Errorf("emitted %q, want %q: no frame after the error, then the end", ev, want)
	}
}

// TestReplayBeginError: a match the Emitter refuses to begin is not
// emitted, and Run says which recording it was.
func TestReplayBeginError(t *testing.T) {
	errLease := errors.New("lease lost")
	rec := &recorder{begin: func(*riot.Recording, int) error { return errLease }}
	err := NewReplay(recordingAt(0, 60000), telemetry.Settings{}).Run(t.Context(), rec)
	if !errors.Is(err, errLease) {
		t.Fatalf("Run = %v, want it to wrap %v", err, errLease)
	}
	if want := "replay KR_1: lease lost"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if ev, want := rec.Events(), []string{"begin KR_1 from 0"}; !slices.Equal(ev, want) {
		t.Errorf("emitted %q, want %q", ev, want)
	}
}

func TestReplayInvalid(t *testing.T) {
	cases := []struct {
		name   string
		replay *Replay
		want   string
	}{
		{name: "no recording", replay: NewReplay(nil, telemetry.Settings{}), want: "replay: no recording"},
		{name: "no timeline", replay: NewReplay(&riot.Recording{}, telemetry.Settings{}), want: "replay: no recording"},
		{name: "negative speed", replay: NewReplay(recordingAt(0), telemetry.Settings{}, WithSpeed(-1)), want: "replay KR_1: invalid speed -1"},
		{name: "NaN speed", replay: NewReplay(recordingAt(0), telemetry.Settings{}, WithSpeed(math.NaN())), want: "replay KR_1: invalid speed NaN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recorder{}
			err := c.replay.Run(t.Context(), rec)
			if ev := rec.Events(); len(ev) != 0 {
				t.Errorf("emitted %q, want nothing", ev)
			}
			if err == nil || err.Error() != c.want {
				t.Errorf("Run = %v, want %q", err, c.want)
			}
		})
	}
}

// Settings without a Clock mean the system clock; the speed keeps the real
// waits to microseconds, and nothing about their length is asserted.
func TestReplaySystemClock(t *testing.T) {
	rec := &recorder{}
	r := NewReplay(recordingAt(0, 60000, 120000), telemetry.Settings{}, WithSpeed(1e9))
	if err := r.Run(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	if emits := len(rec.Frames()); emits != 3 {
		t.Errorf("emitted %d frames, want 3", emits)
	}
}

// discard is an Emitter and Emission that drops everything.
type discard struct{}

func (discard) Live(context.Context, riot.Live) error { return nil }
func (discard) BeginMatch(context.Context, *riot.Recording, int) (Emission, error) {
	return discard{}, nil
}
func (discard) BeginGame(context.Context, string, int) (GameEmission, error) {
	return discard{}, nil
}
func (discard) Frame(context.Context, int) error     { return nil }
func (discard) Poll(context.Context, GamePoll) error { return nil }
func (discard) End()                                 {}

// BenchmarkReplay is a whole replay from file to emitted frames, to compare
// with BenchmarkDecodeTimelineStdlib.
func BenchmarkReplay(b *testing.B) {
	b.SetBytes(int64(len(bridgetest.ReadFile(b, sampleTimeline))))
	b.ReportAllocs()
	for b.Loop() {
		rec, err := riot.LoadRecording([]string{sampleTimeline}, "")
		if err != nil {
			b.Fatal(err)
		}
		if err := NewReplay(rec, telemetry.Settings{}).Run(b.Context(), discard{}); err != nil {
			b.Fatal(err)
		}
	}
}

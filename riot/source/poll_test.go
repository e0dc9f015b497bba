package source

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/bridge/telemetry"
)

// t0 is where the tests' fake clocks start.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// blockUntil waits, for at most a few seconds, until n goroutines wait on clk.
func blockUntil(clk *clockwork.FakeClock, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return clk.BlockUntilContext(ctx, n)
}

// hour is an interval that never falls due in a test that fires the ticks.
func hour() time.Duration { return time.Hour }

// pollEvents is an Observer that hands each poll report to the test.
type pollEvents struct {
	telemetry.Nop
	polled  chan error
	skipped chan struct{}
}

func newPollEvents() *pollEvents {
	return &pollEvents{polled: make(chan error, 100), skipped: make(chan struct{}, 100)}
}

func (e *pollEvents) Polled(_ string, _ time.Duration, err error) { e.polled <- err }
func (e *pollEvents) Skipped(string)                              { e.skipped <- struct{}{} }

// runLoop runs l until the test ends.
func runLoop(t *testing.T, l *PollLoop) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		l.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-ch })
}

func TestPollLoopTicks(t *testing.T) {
	ev := newPollEvents()
	ticks := make(chan time.Time)
	trigger := make(chan struct{})
	var polls atomic.Int32
	l := NewPollLoop("test", hour, func(context.Context) error { polls.Add(1); return nil },
		telemetry.Settings{Observer: ev}, WithTicks(ticks), WithTrigger(trigger))
	runLoop(t, l)

	bridgetest.Recv(t, ev.polled, "poll at start", 5*time.Second)
	for i := range 3 {
		ticks <- time.Now()
		bridgetest.Recv(t, ev.polled, "poll on tick", 5*time.Second)
		if got := polls.Load(); got != int32(i+2) {
			t.Fatalf("%d polls after %d ticks, want %d", got, i+1, i+2)
		}
	}
	trigger <- struct{}{}
	bridgetest.Recv(t, ev.polled, "poll on trigger", 5*time.Second)
	if got := polls.Load(); got != 5 {
		t.Errorf("%d polls, want 5: start, 3 ticks, 1 trigger", got)
	}
	if len(ev.skipped) != 0 {
		t.Errorf("%d ticks skipped, want none", len(ev.skipped))
	}
}

// TestPollLoopSkipsWhileBusy holds a poll and checks that ticks and
// triggers meanwhile are skipped and reported, not queued.
func TestPollLoopSkipsWhileBusy(t *testing.T) {
	ev := newPollEvents()
	ticks := make(chan time.Time)
	trigger := make(chan struct{})
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	var polls atomic.Int32
	l := NewPollLoop("test", hour, func(context.Context) error {
		polls.Add(1)
		started <- struct{}{}
		<-release
		return nil
	}, telemetry.Settings{Observer: ev}, WithTicks(ticks), WithTrigger(trigger))
	runLoop(t, l)
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(free) // runs before runLoop's: Run waits for the held poll

	bridgetest.Recv(t, started, "poll at start", 5*time.Second)
	for range 3 {
		ticks <- time.Now()
		bridgetest.Recv(t, ev.skipped, "skip report", 5*time.Second)
	}
	trigger <- struct{}{}
	bridgetest.Recv(t, ev.skipped, "skip report for the trigger", 5*time.Second)
	free()
	bridgetest.Recv(t, ev.polled, "end of the held poll", 5*time.Second)
	if got := polls.Load(); got != 1 {
		t.Fatalf("%d polls while one was held, want 1", got)
	}
	// Free again: the next tick polls.
	ticks <- time.Now()
	bridgetest.Recv(t, ev.polled, "poll after the held one", 5*time.Second)
	if got := polls.Load(); got != 2 {
		t.Errorf("%d polls, want 2", got)
	}
}

// tickOnReport is an Observer that, as the first poll is reported, sends a
// tick and waits until the loop has either started a poll for it or skipped
// it.
type tickOnReport struct {
	telemetry.Nop
	ticks   chan<- time.Time
	started <-chan struct{}
	skipped chan struct{}
	polled  chan struct{}
	once    sync.Once
}

func (o *tickOnReport) Polled(string, time.Duration, error) {
	o.once.Do(func() {
		o.ticks <- time.Now()
		select {
		case <-o.started:
		case <-o.skipped:
			o.skipped <- struct{}{} // for the test to see
		}
	})
	o.polled <- struct{}{}
}

func (o *tickOnReport) Skipped(string) { o.skipped <- struct{}{} }

// TestPollLoopFreeWhenReported checks that once a poll is reported done,
// the loop takes the next tick: a tick sent while the report is made must
// poll, not be skipped as if the poll still ran.
func TestPollLoopFreeWhenReported(t *testing.T) {
	ticks := make(chan time.Time)
	second := make(chan struct{})
	ev := &tickOnReport{ticks: ticks, started: second, skipped: make(chan struct{}, 10), polled: make(chan struct{}, 10)}
	var polls atomic.Int32
	l := NewPollLoop("test", hour, func(context.Context) error {
		if polls.Add(1) == 2 {
			close(second)
		}
		return nil
	}, telemetry.Settings{Observer: ev}, WithTicks(ticks))
	runLoop(t, l)
	bridgetest.Recv(t, ev.polled, "first report", 5*time.Second)
	select {
	case <-ev.polled:
	case <-ev.skipped:
		t.Fatal("the tick sent as the poll was reported done was skipped")
	case <-time.After(5 * time.Second):
		t.Fatal("no second poll")
	}
}

func TestPollLoopTimeout(t *testing.T) {
	ev := newPollEvents()
	var hadDeadline atomic.Bool
	l := NewPollLoop("test", hour, func(ctx context.Context) error {
		_, ok := ctx.Deadline()
		hadDeadline.Store(ok)
		<-ctx.Done() // a poll stuck until its timeout
		return ctx.Err()
	}, telemetry.Settings{Observer: ev}, WithTimeout(20*time.Millisecond), WithTicks(make(chan time.Time)))
	runLoop(t, l)
	if err := bridgetest.Recv(t, ev.polled, "poll end", 5*time.Second); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("poll ended with %v, want the timeout", err)
	}
	if !hadDeadline.Load() {
		t.Error("the poll's context had no deadline")
	}
}

// checkRunWaitsForPoll cancels a Run while its poll ignores the
// cancellation, and checks that Run returns only after the poll did. start
// builds what runs poll and returns its Run.
func checkRunWaitsForPoll(t *testing.T, start func(poll func(context.Context) error) func(context.Context)) {
	t.Helper()
	started, release := make(chan struct{}), make(chan struct{})
	var pollReturned atomic.Bool
	run := start(func(context.Context) error {
		close(started)
		<-release
		pollReturned.Store(true)
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	var returnedAfterPoll atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(ctx)
		returnedAfterPoll.Store(pollReturned.Load())
	}()
	<-started
	cancel()
	select {
	case <-done:
		t.Error("Run returned while its poll was still running")
	default:
	}
	close(release)
	<-done
	if !returnedAfterPoll.Load() {
		t.Error("Run returned before its poll")
	}
}

func TestPollLoopRunWaitsForPoll(t *testing.T) {
	checkRunWaitsForPoll(t, func(poll func(context.Context) error) func(context.Context) {
		return NewPollLoop("test", hour, poll, telemetry.Settings{}, WithTicks(make(chan time.Time))).Run
	})
}

// TestPollLoopInterval drives the loop's own timer with a fake clock: each
// wait is in [interval, interval·(1+jitter)], and a changed interval applies
// to the next wait.
func TestPollLoopInterval(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	ev := newPollEvents()
	var mu sync.Mutex
	interval := 60 * time.Second
	arms := 0 // calls of Interval: the loop reads it right before each wait
	const jitter = 0.1
	l := NewPollLoop("test", func() time.Duration {
		mu.Lock()
		defer mu.Unlock()
		arms++
		return interval
	}, func(context.Context) error { return nil },
		telemetry.Settings{Clock: clk, Observer: ev}, WithJitter(jitter))
	armed := func() int {
		mu.Lock()
		defer mu.Unlock()
		return arms
	}
	runLoop(t, l)

	// step advances the clock in whole seconds until the timer fires, waits
	// for the poll it starts and returns the wait. Once something waits on
	// the clock again, the timer is either still armed or was re-armed,
	// after reading the interval.
	step := func() time.Duration {
		t.Helper()
		before, n := clk.Now(), armed()
		for armed() == n {
			clk.Advance(time.Second)
			if err := blockUntil(clk, 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := bridgetest.Recv(t, ev.polled, "poll on tick", 5*time.Second); err != nil {
			t.Fatal(err)
		}
		return clk.Since(before)
	}
	if err := bridgetest.Recv(t, ev.polled, "poll at start", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := blockUntil(clk, 1); err != nil {
		t.Fatal(err)
	}
	checkIntervals(t, step, func(d time.Duration) {
		mu.Lock()
		interval = d
		mu.Unlock()
	})
	if n := len(ev.skipped); n != 0 {
		t.Errorf("%d ticks skipped, want none", n)
	}
}

// TestPollLoopNext samples the jitter directly: within [interval,
// interval·(1+jitter)] and actually spread over it.
func TestPollLoopNext(t *testing.T) {
	cases := []struct {
		name     string
		interval time.Duration
		jitter   float64
		min, max time.Duration
	}{
		{"no jitter", 57 * time.Second, 0, 57 * time.Second, 57 * time.Second},
		{"5 %", 57 * time.Second, 0.05, 57 * time.Second, 59850 * time.Millisecond},
		{"50 %", time.Minute, 0.5, time.Minute, 90 * time.Second},
		{"unset interval is a minute", 0, 0, time.Minute, time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := NewPollLoop("test", func() time.Duration { return c.interval }, nil, telemetry.Settings{}, WithJitter(c.jitter))
			lo, hi := time.Duration(1<<62), time.Duration(0)
			for range 2000 {
				d := l.next()
				lo, hi = min(lo, d), max(hi, d)
			}
			if lo < c.min || hi > c.max {
				t.Errorf("waits in [%v, %v], want within [%v, %v]", lo, hi, c.min, c.max)
			}
			// 2000 uniform draws cover all but a sliver of the range.
			if span := c.max - c.min; span > 0 && (lo-c.min > span/20 || c.max-hi > span/20) {
				t.Errorf("waits in [%v, %v] do not spread over [%v, %v]", lo, hi, c.min, c.max)
			}
		})
	}
}

// TestPollLoopFailuresWarnSparingly: failing polls are logged at warn once
// per poller per FailureLog.Every, whatever the number of loops, and at
// debug otherwise, so a Riot outage over many players is one line.
func TestPollLoopFailuresWarnSparingly(t *testing.T) {
	clk := clockwork.NewFakeClock()
	var buf bridgetest.SyncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	logs := buf.String
	failures := &FailureLog{Every: time.Minute}
	bad := errors.New("spectator-v5 on kr: invalid JSON at byte 0: <html>")
	var loops []*PollLoop
	var ticks []chan time.Time
	evs := newPollEvents()
	for _, poller := range []string{"spectator", "spectator", "spectator", "matches"} {
		tick := make(chan time.Time)
		l := NewPollLoop(poller, hour, func(context.Context) error { return bad },
			telemetry.Settings{Clock: clk, Observer: evs, Logger: log}, WithTicks(tick), WithFailureLog(failures))
		loops, ticks = append(loops, l), append(ticks, tick)
	}
	for _, l := range loops {
		runLoop(t, l)
		bridgetest.Recv(t, evs.polled, "poll at start", 5*time.Second)
	}
	for _, tick := range ticks {
		tick <- clk.Now()
		bridgetest.Recv(t, evs.polled, "poll on tick", 5*time.Second)
	}
	warns := func() int { return strings.Count(logs(), "level=WARN") }
	failed := func() int { return strings.Count(logs(), `msg="poll failed`) }
	// A poll is reported before its failure is logged: wait for the lines.
	bridgetest.Eventually(t, "8 failures logged", 5*time.Second, func() bool { return failed() >= 8 }, logs)
	if n, all := warns(), failed(); n != 2 || all != 8 {
		t.Fatalf("%d warnings of %d failures, want 2 (one per poller) of 8:\n%s", n, all, logs())
	}
	clk.Advance(time.Minute)
	ticks[0] <- clk.Now()
	bridgetest.Recv(t, evs.polled, "poll on tick", 5*time.Second)
	bridgetest.Eventually(t, "9 failures logged", 5*time.Second, func() bool { return failed() >= 9 }, logs)
	if n := warns(); n != 3 {
		t.Errorf("%d warnings once Every has passed, want 3", n)
	}
	if !strings.Contains(logs(), "poller=spectator") || !strings.Contains(logs(), "<html>") {
		t.Errorf("the warning does not name the poller and the error:\n%s", logs())
	}
}

// TestPollLoopRearm: a rearm starts the wait over from the interval as it
// is now, without a poll, so a loop whose interval shrank does not sit out
// the long wait it armed before.
func TestPollLoopRearm(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	ev := newPollEvents()
	var mu sync.Mutex
	interval := time.Hour
	rearm := make(chan struct{})
	l := NewPollLoop("test", func() time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return interval
	}, func(context.Context) error { return nil }, telemetry.Settings{Clock: clk, Observer: ev}, WithRearm(rearm))
	runLoop(t, l)
	if err := bridgetest.Recv(t, ev.polled, "poll at start", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := blockUntil(clk, 1); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	interval = time.Second
	mu.Unlock()
	rearm <- struct{}{}
	select {
	case <-ev.polled:
		t.Fatal("a rearm polled")
	case <-time.After(50 * time.Millisecond):
	}
	// A poll within seconds of fake time, not the hour armed before; the
	// steps leave the loop time to re-arm.
	for step := 0; ; step++ {
		if err := blockUntil(clk, 1); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
		select {
		case err := <-ev.polled:
			if err != nil {
				t.Fatal(err)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		if step == 5 {
			t.Fatal("no poll within 5 s of the rearm")
		}
	}
}

// checkIntervals takes ten waits of a 60 s interval with 10 % jitter, then
// sets the interval to 10 s: the wait armed before the change runs out, and
// the next five take the new interval.
func checkIntervals(t *testing.T, step func() time.Duration, setInterval func(time.Duration)) {
	t.Helper()
	for range 10 {
		if d := step(); d < 60*time.Second || d > 66*time.Second {
			t.Errorf("waited %v, want 60s to 66s", d)
		}
	}
	setInterval(10 * time.Second)
	step() // the wait armed before the change
	for range 5 {
		if d := step(); d < 10*time.Second || d > 11*time.Second {
			t.Errorf("after the change: waited %v, want 10s to 11s", d)
		}
	}
}

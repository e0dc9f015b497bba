package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/bridge/telemetry"
)

// The schedule's tests move a fake clock only while Run is parked, and make
// each Add while Run is parked and wait for what it starts, so that Run is
// never woken twice for one change: Settled cannot tell a Run that parked
// again from one that has just been woken.

// runSchedule runs s until the test ends or the returned stop is called,
// and waits until Run is parked. stop cancels Run and waits for it.
func runSchedule(t *testing.T, s *Schedule) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	bridgetest.Eventually(t, "the schedule to park", 5*time.Second, s.Settled)
	return stop
}

// parked reports whether Run waits for the next due poll, whether or not
// polls run.
func parked(s *Schedule) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parked && len(s.changed) == 0
}

// scheduledLoops counts the loops on s.
func scheduledLoops(s *Schedule) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.due)
}

// advance moves clk by d, once s is settled, and waits until s has started
// what fell due and settled again. Only the schedule's timer waits on clk:
// a timer that fires leaves the clock until Run has started what is due
// and set it again.
func advance(t *testing.T, clk *clockwork.FakeClock, s *Schedule, d time.Duration) {
	t.Helper()
	clk.Advance(d)
	if err := blockUntil(clk, 1); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, "the schedule to settle", 5*time.Second, s.Settled)
}

// counter is a poll that counts its calls.
type counter struct{ n atomic.Int32 }

func (c *counter) poll(context.Context) error { c.n.Add(1); return nil }
func (c *counter) load() int                  { return int(c.n.Load()) }

// every returns an interval of d.
func every(d time.Duration) func() time.Duration { return func() time.Duration { return d } }

// pollCounts is an Observer that counts the polls and skips of each poller.
type pollCounts struct {
	telemetry.Nop
	mu      sync.Mutex
	polled  map[string]int
	skipped map[string]int
}

func (o *pollCounts) Polled(poller string, _ time.Duration, _ error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.polled == nil {
		o.polled = map[string]int{}
	}
	o.polled[poller]++
}

func (o *pollCounts) Skipped(poller string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.skipped == nil {
		o.skipped = map[string]int{}
	}
	o.skipped[poller]++
}

func (o *pollCounts) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return fmt.Sprintf("polled %v, skipped %v", o.polled, o.skipped)
}

// TestScheduleIntervals runs two loops on one schedule: each polls at once
// when added, then once per its own interval, and reports to its own
// observer.
func TestScheduleIntervals(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	obs := &pollCounts{}
	set := telemetry.Settings{Clock: clk, Observer: obs}
	s := NewSchedule(set)
	runSchedule(t, s)

	var fast, slow counter
	s.Add(t.Context(), NewPollLoop("fast", every(10*time.Second), fast.poll, set), nil)
	bridgetest.Eventually(t, "the first poll of fast", 5*time.Second, func() bool { return fast.load() == 1 && s.Settled() })
	s.Add(t.Context(), NewPollLoop("slow", every(25*time.Second), slow.poll, set), nil)
	bridgetest.Eventually(t, "the first poll of slow", 5*time.Second, func() bool { return slow.load() == 1 && s.Settled() })
	if got := fast.load(); got != 1 {
		t.Fatalf("fast polled %d times by the time slow was added, want 1", got)
	}

	for step := 1; step <= 20; step++ {
		advance(t, clk, s, 5*time.Second)
		elapsed := time.Duration(step) * 5 * time.Second
		wantFast, wantSlow := 1+int(elapsed/(10*time.Second)), 1+int(elapsed/(25*time.Second))
		if f, sl := fast.load(), slow.load(); f != wantFast || sl != wantSlow {
			t.Fatalf("after %v: fast polled %d times, slow %d; want %d and %d", elapsed, f, sl, wantFast, wantSlow)
		}
	}
	bridgetest.Eventually(t, "every poll to be reported", 5*time.Second, func() bool {
		obs.mu.Lock()
		defer obs.mu.Unlock()
		return obs.polled["fast"] == 11 && obs.polled["slow"] == 5
	}, obs.String)
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.skipped) != 0 {
		t.Errorf("skipped %v, want none", obs.skipped)
	}
}

// TestScheduleInterval is TestPollLoopInterval on a schedule: each wait is
// in [interval, interval·(1+jitter)], and a changed interval applies to the
// next wait.
func TestScheduleInterval(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	obs := &pollCounts{}
	set := telemetry.Settings{Clock: clk, Observer: obs}
	var mu sync.Mutex
	interval := 60 * time.Second
	const jitter = 0.1
	var polls counter
	l := NewPollLoop("test", func() time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return interval
	}, polls.poll, set, WithJitter(jitter))
	s := NewSchedule(set)
	runSchedule(t, s)
	s.Add(t.Context(), l, nil)
	bridgetest.Eventually(t, "the first poll", 5*time.Second, func() bool { return polls.load() == 1 && s.Settled() })

	// step advances the clock in whole seconds until the loop polls again
	// and returns the wait.
	step := func() time.Duration {
		t.Helper()
		before, n := clk.Now(), polls.load()
		for polls.load() == n {
			if clk.Since(before) > time.Hour {
				t.Fatal("no poll in an hour")
			}
			advance(t, clk, s, time.Second)
		}
		if got := polls.load(); got != n+1 {
			t.Fatalf("%d polls at once, want 1", got-n)
		}
		return clk.Since(before)
	}
	checkIntervals(t, step, func(d time.Duration) {
		mu.Lock()
		interval = d
		mu.Unlock()
	})
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.skipped) != 0 {
		t.Errorf("skipped %v, want none", obs.skipped)
	}
}

// TestScheduleSkipsWhileBusy holds a poll and checks that the loop falling
// due meanwhile is skipped and reported, not queued, and polls again on
// time once free.
func TestScheduleSkipsWhileBusy(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	ev := newPollEvents()
	set := telemetry.Settings{Clock: clk, Observer: ev}
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	var polls atomic.Int32
	l := NewPollLoop("test", every(10*time.Second), func(context.Context) error {
		if polls.Add(1) == 1 {
			started <- struct{}{}
			<-release
		}
		return nil
	}, set)
	s := NewSchedule(set)
	runSchedule(t, s)
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(free) // runs before runSchedule's: Run waits for the held poll

	s.Add(t.Context(), l, nil)
	bridgetest.Recv(t, started, "poll at once", 5*time.Second)
	for range 3 {
		bridgetest.Eventually(t, "Run to park", 5*time.Second, func() bool { return parked(s) })
		clk.Advance(10 * time.Second)
		bridgetest.Recv(t, ev.skipped, "skip report", 5*time.Second)
	}
	free()
	bridgetest.Recv(t, ev.polled, "end of the held poll", 5*time.Second)
	if got := polls.Load(); got != 1 {
		t.Fatalf("%d polls while one was held, want 1", got)
	}
	bridgetest.Eventually(t, "the schedule to settle", 5*time.Second, s.Settled)
	// Free again: the next due time polls.
	advance(t, clk, s, 10*time.Second)
	bridgetest.Recv(t, ev.polled, "poll after the held one", 5*time.Second)
	if got := polls.Load(); got != 2 {
		t.Errorf("%d polls, want 2", got)
	}
	if n := len(ev.skipped); n != 0 {
		t.Errorf("%d more skips once free, want none", n)
	}
}

// TestScheduleStop ends one loop's context: it stops polling and its onStop
// runs once, while the other loop goes on.
func TestScheduleStop(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	set := telemetry.Settings{Clock: clk}
	s := NewSchedule(set)
	stopSchedule := runSchedule(t, s)

	ctxA, cancelA := context.WithCancel(t.Context())
	defer cancelA()
	ctxB, cancelB := context.WithCancel(t.Context())
	defer cancelB()
	var a, b counter
	var stopsA, stopsB atomic.Int32
	s.Add(ctxA, NewPollLoop("a", every(10*time.Second), a.poll, set), func() { stopsA.Add(1) })
	bridgetest.Eventually(t, "the first poll of a", 5*time.Second, func() bool { return a.load() == 1 && s.Settled() })
	s.Add(ctxB, NewPollLoop("b", every(10*time.Second), b.poll, set), func() { stopsB.Add(1) })
	bridgetest.Eventually(t, "the first poll of b", 5*time.Second, func() bool { return b.load() == 1 && s.Settled() })

	cancelA()
	bridgetest.Eventually(t, "a's onStop", 5*time.Second, func() bool { return stopsA.Load() == 1 })
	if n := scheduledLoops(s); n != 1 {
		t.Errorf("%d loops scheduled once a stopped, want 1", n)
	}
	for i := range 3 {
		advance(t, clk, s, 10*time.Second)
		if got := b.load(); got != i+2 {
			t.Fatalf("b polled %d times, want %d", got, i+2)
		}
	}
	if got := a.load(); got != 1 {
		t.Errorf("a polled %d times, want 1: none once stopped", got)
	}
	if got := stopsB.Load(); got != 0 {
		t.Errorf("b's onStop called %d times while b runs", got)
	}

	cancelB()
	bridgetest.Eventually(t, "b's onStop", 5*time.Second, func() bool { return stopsB.Load() == 1 })
	stopSchedule()
	if a, b := stopsA.Load(), stopsB.Load(); a != 1 || b != 1 {
		t.Errorf("onStop called %d and %d times, want once each", a, b)
	}
}

// TestScheduleStopWaitsForPoll ends a loop's context while its poll runs:
// the poll sees its context end, and onStop waits for it to return.
func TestScheduleStopWaitsForPoll(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	set := telemetry.Settings{Clock: clk}
	s := NewSchedule(set)
	runSchedule(t, s)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	started, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(free)
	var sawEnd, returned atomic.Bool
	stopped := make(chan bool, 1) // whether the poll had returned
	l := NewPollLoop("test", every(10*time.Second), func(ctx context.Context) error {
		close(started)
		<-release
		sawEnd.Store(ctx.Err() != nil)
		returned.Store(true)
		return nil
	}, set)
	s.Add(ctx, l, func() { stopped <- returned.Load() })
	bridgetest.Recv(t, started, "poll at once", 5*time.Second)

	cancel()
	bridgetest.Eventually(t, "the loop to leave the schedule", 5*time.Second, func() bool { return scheduledLoops(s) == 0 })
	select {
	case <-stopped:
		t.Fatal("onStop called while the poll runs")
	default:
	}
	free()
	if !bridgetest.Recv(t, stopped, "onStop", 5*time.Second) {
		t.Error("onStop called before the poll returned")
	}
	if !sawEnd.Load() {
		t.Error("the poll did not run under the loop's context")
	}
	select {
	case <-stopped:
		t.Error("onStop called twice")
	default:
	}
}

func TestScheduleRunWaitsForPolls(t *testing.T) {
	checkRunWaitsForPoll(t, func(poll func(context.Context) error) func(context.Context) {
		set := telemetry.Settings{Clock: clockwork.NewFakeClockAt(t0)}
		s := NewSchedule(set)
		s.Add(t.Context(), NewPollLoop("test", every(time.Hour), poll, set), nil)
		return s.Run
	})
}

// pollReports is an Observer that hands each poll report to the test.
type pollReports struct {
	telemetry.Nop
	ch chan pollReport
}

type pollReport struct {
	poller string
	err    error
}

func (o *pollReports) Polled(poller string, _ time.Duration, err error) {
	o.ch <- pollReport{poller, err}
}

// TestScheduleLoopSettings: on a schedule a loop keeps its own timeout,
// observer and logger, and its ticks and trigger are not used.
func TestScheduleLoopSettings(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	s := NewSchedule(telemetry.Settings{Clock: clk})
	runSchedule(t, s)

	var logs bridgetest.SyncBuffer
	obs := &pollReports{ch: make(chan pollReport, 10)}
	set := telemetry.Settings{Clock: clk, Observer: obs,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	ticks := make(chan time.Time, 1)
	ticks <- t0
	trigger := make(chan struct{}, 1)
	trigger <- struct{}{}
	var hadDeadline atomic.Bool
	l := NewPollLoop("spectator", every(time.Hour), func(ctx context.Context) error {
		_, ok := ctx.Deadline()
		hadDeadline.Store(ok)
		<-ctx.Done() // a poll stuck until its timeout
		return ctx.Err()
	}, set, WithTimeout(20*time.Millisecond), WithTicks(ticks), WithTrigger(trigger))
	s.Add(t.Context(), l, nil)

	r := bridgetest.Recv(t, obs.ch, "poll report", 5*time.Second)
	if r.poller != "spectator" || !errors.Is(r.err, context.DeadlineExceeded) {
		t.Errorf("reported %s ending with %v, want spectator and the timeout", r.poller, r.err)
	}
	if !hadDeadline.Load() {
		t.Error("the poll's context had no deadline")
	}
	bridgetest.Eventually(t, "the failure logged", 5*time.Second, func() bool {
		return strings.Contains(logs.String(), `msg="poll failed"`)
	}, logs.String)
	if !strings.Contains(logs.String(), "poller=spectator") {
		t.Errorf("the failure does not name the poller:\n%s", logs.String())
	}
	bridgetest.Eventually(t, "the schedule to settle", 5*time.Second, s.Settled)
	if len(ticks) != 1 || len(trigger) != 1 {
		t.Error("the schedule read the loop's ticks or trigger")
	}
	if len(obs.ch) != 0 {
		t.Errorf("%d more polls, want none", len(obs.ch))
	}
}

// TestScheduleManyLoops puts a thousand loops on one schedule: each polls
// at its own interval, and an idle loop costs no goroutine. The loops are
// added before Run, which starts them all at once; the one wake the Adds
// leave over finds nothing due, and the first loop falls due ten settled
// steps later.
func TestScheduleManyLoops(t *testing.T) {
	const loops = 1000
	clk := clockwork.NewFakeClockAt(t0)
	set := telemetry.Settings{Clock: clk}
	s := NewSchedule(set)
	counts := make([]counter, loops)
	intervals := make([]time.Duration, loops)
	total := func() (n int) {
		for i := range counts {
			n += counts[i].load()
		}
		return n
	}
	base := runtime.NumGoroutine()
	for i := range loops {
		intervals[i] = time.Duration(10+i%7) * time.Second
		s.Add(t.Context(), NewPollLoop(fmt.Sprint("loop", i), every(intervals[i]), counts[i].poll, set), nil)
	}
	runSchedule(t, s)
	bridgetest.Eventually(t, "every first poll", 5*time.Second, func() bool { return total() == loops && s.Settled() })
	if n := scheduledLoops(s); n != loops {
		t.Fatalf("%d loops scheduled, want %d", n, loops)
	}
	// Run's goroutine, and none per loop once the polls have returned.
	bridgetest.Eventually(t, "the poll goroutines to end", 5*time.Second, func() bool {
		return runtime.NumGoroutine() <= base+10
	}, func() string { return fmt.Sprintf("%d goroutines, %d before", runtime.NumGoroutine(), base) })

	const span = 100 * time.Second
	for range span / time.Second {
		advance(t, clk, s, time.Second)
	}
	for i := range counts {
		if got, want := counts[i].load(), 1+int(span/intervals[i]); got != want {
			t.Errorf("loop %d every %v polled %d times in %v, want %d", i, intervals[i], got, span, want)
		}
	}
}

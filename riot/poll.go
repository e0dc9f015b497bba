package riot

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
)

// PollObserver receives the poll loop's self-telemetry.
type PollObserver interface {
	// Polled reports one finished poll of a source.
	Polled(source string, d time.Duration, err error)
	// Skipped reports a tick that came while the previous poll still ran.
	Skipped(source string)
}

// PollLoop runs Poll once at start and then at most once per interval, like
// an Agent check's min_collection_interval: each wait is the interval plus
// up to Jitter of it, so many loops do not fire in lockstep. A tick that
// comes while a poll still runs is skipped, not queued. The loop owns the
// timeout and the telemetry, so polls stay plain functions.
type PollLoop struct {
	Source string // telemetry tag: spectator, matches
	// Interval is read before every wait, so a config reload applies at once.
	Interval func() time.Duration
	Jitter   float64 // fraction of the interval, e.g. 0.05
	Timeout  time.Duration
	Poll     func(ctx context.Context) error
	// Trigger asks for a poll now (e.g. a game just ended); it counts as a tick.
	Trigger <-chan struct{}
	// Ticks replaces the timer, so tests fire ticks by hand.
	Ticks    <-chan time.Time
	Clock    clockwork.Clock
	Observer PollObserver
	Logger   *slog.Logger
	// Failures, when set, logs a failed poll at warn as it allows; without
	// it, failures are logged at debug.
	Failures *FailureLog
}

// FailureLog lets failed polls be logged at warn at most once per source
// per Every, and the rest at debug: a Riot outage over a thousand players is
// one line per source, and a player whose polls keep failing (bad JSON, an
// HTML error page, timeouts) still shows. It is safe for concurrent use.
type FailureLog struct {
	Every time.Duration

	mu   sync.Mutex
	last map[string]time.Time // by source: the last warning
}

// warn reports whether a failure of source at now is logged at warn.
func (f *FailureLog) warn(source string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if last, ok := f.last[source]; ok && now.Sub(last) < f.Every {
		return false
	}
	if f.last == nil {
		f.last = map[string]time.Time{}
	}
	f.last[source] = now
	return true
}

// Run polls until ctx ends, then waits for a running poll to return.
func (l *PollLoop) Run(ctx context.Context) {
	clock := l.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	var (
		busy    atomic.Bool
		running sync.WaitGroup
	)
	defer running.Wait()
	start := func() {
		if !busy.CompareAndSwap(false, true) {
			if l.Observer != nil {
				l.Observer.Skipped(l.Source)
			}
			return
		}
		running.Go(func() { l.pollOnce(ctx, clock, func() { busy.Store(false) }) })
	}

	start()
	ticks := l.Ticks
	var timer clockwork.Timer
	if ticks == nil {
		timer = clock.NewTimer(l.next())
		defer timer.Stop()
		ticks = timer.Chan()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			if timer != nil {
				timer.Reset(l.next())
			}
		case <-l.Trigger:
		}
		start()
	}
}

// next is the interval plus up to Jitter of it.
func (l *PollLoop) next() time.Duration {
	iv := l.Interval()
	if iv <= 0 {
		iv = time.Minute
	}
	if l.Jitter > 0 {
		iv += time.Duration(rand.Float64() * l.Jitter * float64(iv))
	}
	return iv
}

// pollOnce runs one poll and calls free once it has returned, before
// reporting it, so a tick that follows the report is never skipped for it.
func (l *PollLoop) pollOnce(ctx context.Context, clock clockwork.Clock, free func()) {
	pctx, cancel := ctx, context.CancelFunc(func() {})
	if l.Timeout > 0 {
		pctx, cancel = context.WithTimeout(ctx, l.Timeout)
	}
	begin := clock.Now()
	err := l.Poll(pctx)
	took := clock.Since(begin)
	cancel()
	free()
	if l.Observer != nil {
		l.Observer.Polled(l.Source, took, err)
	}
	if err == nil || ctx.Err() != nil || l.Logger == nil {
		return
	}
	if l.Failures != nil && l.Failures.warn(l.Source, clock.Now()) {
		l.Logger.Warn("poll failed; more failures of this poller are logged at debug for a while", "poller", l.Source, "every", l.Failures.Every, "error", err)
		return
	}
	l.Logger.Debug("poll failed", "poller", l.Source, "error", err)
}

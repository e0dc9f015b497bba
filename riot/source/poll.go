package source

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
)

// PollLoop runs a poll once at start and then at most once per interval,
// like an Agent check's min_collection_interval: each wait is the interval
// plus up to the jitter of it, so many loops do not fire in lockstep. A tick
// that comes while a poll still runs is skipped, not queued. The loop owns
// the timeout and the telemetry, so polls stay plain functions. Run runs it
// on a goroutine of its own; a Schedule runs many on one timer.
type PollLoop struct {
	poller   string
	interval func() time.Duration
	poll     func(ctx context.Context) error
	jitter   float64
	timeout  time.Duration
	trigger  <-chan struct{}
	rearm    <-chan struct{}
	ticks    <-chan time.Time
	failures *FailureLog
	set      telemetry.Settings
}

// PollOption configures a PollLoop.
type PollOption func(*PollLoop)

// WithJitter adds up to this fraction of the interval to each wait.
// Default: 0.
func WithJitter(f float64) PollOption { return func(l *PollLoop) { l.jitter = f } }

// WithTimeout bounds each poll. Default: none.
func WithTimeout(d time.Duration) PollOption { return func(l *PollLoop) { l.timeout = d } }

// WithTrigger makes each value received from ch ask for a poll now (a game
// just ended); it counts as a tick. Run only. Default: none.
func WithTrigger(ch <-chan struct{}) PollOption { return func(l *PollLoop) { l.trigger = ch } }

// WithRearm makes each value received from ch start the current wait over
// from interval(), without a poll: for a loop whose interval just changed
// (a game began), so that it need not sit out the old one. Run only.
func WithRearm(ch <-chan struct{}) PollOption { return func(l *PollLoop) { l.rearm = ch } }

// WithTicks replaces the timer with ch, so that tests fire ticks by hand.
// Run only. Default: the interval's timer.
func WithTicks(ch <-chan time.Time) PollOption { return func(l *PollLoop) { l.ticks = ch } }

// WithFailureLog logs a failed poll at warn as f allows, the others at
// debug. Default: every failure at debug.
func WithFailureLog(f *FailureLog) PollOption { return func(l *PollLoop) { l.failures = f } }

// NewPollLoop returns the loop of poller (its telemetry tag), calling poll
// every interval(), which is read before every wait so that a config
// reload applies at once.
func NewPollLoop(poller string, interval func() time.Duration, poll func(ctx context.Context) error, set telemetry.Settings, opts ...PollOption) *PollLoop {
	l := &PollLoop{poller: poller, interval: interval, poll: poll, set: set.Defaults()}
	for _, o := range opts {
		o(l)
	}
	return l
}

// FailureLog lets failed polls be logged at warn at most once per poller
// per Every, and the rest at debug: a Riot outage over a thousand players is
// one line per poller, and a player whose polls keep failing (bad JSON, an
// HTML error page, timeouts) still shows. It is safe for concurrent use.
type FailureLog struct {
	Every time.Duration

	mu   sync.Mutex
	last map[string]time.Time // by poller: the last warning
}

// warn reports whether a failure of poller at now is logged at warn.
func (f *FailureLog) warn(poller string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if last, ok := f.last[poller]; ok && now.Sub(last) < f.Every {
		return false
	}
	if f.last == nil {
		f.last = map[string]time.Time{}
	}
	f.last[poller] = now
	return true
}

// Run polls until ctx ends, then waits for a running poll to return.
func (l *PollLoop) Run(ctx context.Context) {
	var (
		busy    atomic.Bool
		running sync.WaitGroup
	)
	defer running.Wait()
	start := func() {
		if !busy.CompareAndSwap(false, true) {
			l.set.Observer.Skipped(l.poller)
			return
		}
		running.Go(func() { l.pollOnce(ctx, func() { busy.Store(false) }) })
	}

	start()
	ticks := l.ticks
	var timer clockwork.Timer
	if ticks == nil {
		timer = l.set.Clock.NewTimer(l.next())
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
		case <-l.trigger:
		case <-l.rearm:
			if timer != nil {
				timer.Reset(l.next())
			}
			continue
		}
		start()
	}
}

// next is the interval plus up to the jitter of it.
func (l *PollLoop) next() time.Duration {
	iv := l.interval()
	if iv <= 0 {
		iv = time.Minute
	}
	if l.jitter > 0 {
		iv += time.Duration(rand.Float64() * l.jitter * float64(iv))
	}
	return iv
}

// pollOnce runs one poll and calls free once it has returned, before
// reporting it, so a tick that follows the report is never skipped for it.
func (l *PollLoop) pollOnce(ctx context.Context, free func()) {
	pctx, cancel := ctx, context.CancelFunc(func() {})
	if l.timeout > 0 {
		pctx, cancel = context.WithTimeout(ctx, l.timeout)
	}
	clock := l.set.Clock
	begin := clock.Now()
	err := l.poll(pctx)
	took := clock.Since(begin)
	cancel()
	free()
	l.set.Observer.Polled(l.poller, took, err)
	if err == nil || ctx.Err() != nil {
		return
	}
	if l.failures != nil && l.failures.warn(l.poller, clock.Now()) {
		l.set.Logger.Warn("poll failed; more failures of this poller are logged at debug for a while", "poller", l.poller, "every", l.failures.Every, "error", err)
		return
	}
	l.set.Logger.Debug("poll failed", "poller", l.poller, "error", err)
}

// Package ratelimit paces Riot API requests so riftbridge spends its
// application and method budgets fully without drawing a 429: Limiter in one
// process, Shared across replicas through Redis.
package ratelimit

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/riftbridge/riftbridge/riot"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
)

// Permit is one request admitted by a Reserver. It counts as in flight until
// Done or Cancel; the first request of a method whose limits are unknown, the
// probe, also holds back the other requests of that method until then.
type Permit interface {
	// Waited is how long Wait blocked for this permit.
	Waited() time.Duration
	// Done updates the limiter from the response to the request. Call it for
	// every status, 404 and 429 included: the headers carry Riot's limits and
	// counts. Limits replace the current ones when they differ; a count
	// higher than the limiter's (another client on the key) is adopted. For a
	// 429 Done returns an error holding a *ThrottleError and, when Riot sent
	// Retry-After, blocks the application limit of the route (type
	// application) or the method (method, service or no type) until it has
	// passed. Calls after the first Done or Cancel do nothing.
	Done(status int, h http.Header) error
	// Cancel finishes a permit whose request got no response, such as a
	// transport error. The request stays counted, since it may have reached
	// Riot, and a probe lets the next request of its method through. Calls
	// after the first Done or Cancel do nothing, so it is safe to defer.
	Cancel()
}

// Reserver paces requests per Riot routing value ("route": kr, asia, …) on
// the application limit of the route and the method limit of each endpoint
// ("method", any stable name the caller picks) on it. Limiter does so in
// memory for one process, Shared through Redis for several.
type Reserver interface {
	// Wait blocks until one more request fits the application limit of route
	// and the method limit of route+method, and reserves it. While the
	// method's limits are unknown only one request (the probe) is let
	// through. Wait fails fast, with an error wrapping
	// context.DeadlineExceeded, when ctx's deadline comes before the wait
	// would end. The caller must finish the permit with Done or Cancel.
	Wait(ctx context.Context, route, method string) (Permit, error)
}

var (
	_ error    = (*ThrottleError)(nil)
	_ Reserver = (*Limiter)(nil)
	_ Permit   = (*reservation)(nil)
)

// config is what the options set, for Limiter and Shared alike.
type config struct {
	clock    clockwork.Clock
	log      *slog.Logger
	defaults []riot.Limit
	prefix   string
}

// newConfig takes the clock and the logger from set: the logger hears of
// limit changes (debug), malformed headers (debug), 429s (info for service
// and backend throttling, warn when our own budget was overrun) and, for
// Shared, losing and regaining Redis (warn, info). Shared keeps its windows
// on the Redis server's clock and uses set's only to time its waits.
func newConfig(set telemetry.Settings, opts []Option) config {
	set = set.Defaults()
	c := config{
		clock:    set.Clock,
		log:      set.Logger,
		defaults: []riot.Limit{{Count: 20, Window: time.Second}, {Count: 100, Window: 120 * time.Second}},
		prefix:   DefaultPrefix,
	}
	for _, opt := range opts {
		opt(&c)
	}
	return c
}

// Option configures a Limiter or a Shared.
type Option func(*config)

// WithAppDefaults sets the application limits every route starts with, so a
// cold start stays inside the key's budget until X-App-Rate-Limit replaces
// them. Entries with a non-positive count or window are dropped; if none
// remain the default stays. Default: the development key's 20:1,100:120.
func WithAppDefaults(limits []riot.Limit) Option {
	return func(cfg *config) {
		valid := slices.DeleteFunc(slices.Clone(limits), func(x riot.Limit) bool { return x.Count <= 0 || x.Window <= 0 })
		if len(valid) > 0 {
			cfg.defaults = valid
		}
	}
}

// Padding is how long past a window's end the limiters wait before they
// count a new window, so replicas agree on it: a twentieth of the window,
// clamped to [20ms, 1s]. The client opens a window when it sends and Riot when
// the request arrives, so a request sent right after our reset lands in Riot's
// previous window only if its one-way latency beats the opening request's by
// more than the padding. That jitter is tens of milliseconds whatever the
// window, so a short window gets a small pad (50 ms keeps 95 % of a 1 s window
// usable, where equinox's flat 1 s would halve it) and a long window, where
// even a full second costs under 1 %, gets the second equinox and Riven use.
func Padding(window time.Duration) time.Duration {
	return min(max(window/20, 20*time.Millisecond), time.Second)
}

// Limiter is the Reserver of one process, holding every window in memory. It
// is safe for concurrent use; waits hold no lock, so one throttled route never
// stalls another.
type Limiter struct {
	config
	routes sync.Map // route name → *route
}

// New returns a Limiter. Every route starts with the application defaults and
// learns its method limits from the first response of each method.
func New(set telemetry.Settings, opts ...Option) *Limiter {
	return &Limiter{config: newConfig(set, opts)}
}

// Wait implements Reserver. Requests held back by a probe wait for its Done or
// Cancel.
func (l *Limiter) Wait(ctx context.Context, route, method string) (Permit, error) {
	r := l.route(route)
	start := l.clock.Now()
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("rate limit %s %s: %w", route, method, err)
		}
		now := l.clock.Now()
		m, probe, delay, wake := r.reserve(method, now)
		if m != nil {
			return &reservation{l: l, r: r, m: m, method: method, at: now, waited: now.Sub(start), probe: probe}, nil
		}
		if err := l.sleep(ctx, delay, wake); err != nil {
			return nil, fmt.Errorf("rate limit %s %s: %w", route, method, err)
		}
	}
}

// sleep blocks for d, or until wake closes when d is 0, holding no lock.
func (c *config) sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	var fire <-chan time.Time
	if d > 0 {
		// Context deadlines are on the wall clock, hence time.Until rather
		// than the limiter's clock.
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
			return fmt.Errorf("wait of %v ends after the context deadline: %w", d, context.DeadlineExceeded)
		}
		t := c.clock.NewTimer(d)
		defer t.Stop()
		fire = t.Chan()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-fire:
	case <-wake:
	}
	return nil
}

func (l *Limiter) route(name string) *route {
	if r, ok := l.routes.Load(name); ok {
		return r.(*route)
	}
	r := &route{name: name, methods: map[string]*budget{}, wake: make(chan struct{})}
	r.app.known = true
	for _, d := range l.defaults {
		r.app.windows = append(r.app.windows, newWindow(d, Padding))
	}
	actual, _ := l.routes.LoadOrStore(name, r)
	return actual.(*route)
}

// reservation is the Limiter's Permit.
type reservation struct {
	l      *Limiter
	r      *route
	m      *budget
	method string
	at     time.Time // when the request was counted
	waited time.Duration
	probe  bool
	closed bool // guarded by r.mu
}

func (res *reservation) Waited() time.Duration { return res.waited }

// Done implements Permit; its error is nil or a *ThrottleError.
func (res *reservation) Done(status int, h http.Header) error {
	l, r := res.l, res.r
	now := l.clock.Now()

	r.mu.Lock()
	if res.closed {
		r.mu.Unlock()
		return nil
	}
	wake := res.close()
	appChanged, appErr := r.app.observe(h.Get(headerAppLimit), h.Get(headerAppCount), res.at, now, Padding)
	methodChanged, methodErr := res.m.observe(h.Get(headerMethodLimit), h.Get(headerMethodCount), res.at, now, Padding)
	var throttled *ThrottleError
	if status == http.StatusTooManyRequests {
		throttled = r.throttle(res.m, res.method, h, now)
	}
	if wake || appChanged || methodChanged {
		r.broadcast()
	}
	r.mu.Unlock()

	for _, err := range []error{appErr, methodErr} {
		if err != nil {
			l.log.Debug("ignoring malformed rate limit header", "route", r.name, "method", res.method, "error", err)
		}
	}
	if appChanged {
		l.log.Debug("application rate limit changed", "route", r.name, "limit", h.Get(headerAppLimit))
	}
	if methodChanged {
		l.log.Debug("method rate limit changed", "route", r.name, "method", res.method, "limit", h.Get(headerMethodLimit))
	}
	if throttled == nil {
		return nil
	}
	logThrottle(l.log, throttled)
	return throttled
}

func (res *reservation) Cancel() {
	r := res.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if res.closed {
		return
	}
	if res.close() {
		r.broadcast()
	}
}

// close takes the reservation out of flight and reports whether it was the
// probe, whose waiters must be woken. The caller holds r.mu.
func (res *reservation) close() bool {
	res.closed = true
	res.r.app.inflight--
	res.m.inflight--
	if res.probe {
		res.m.probing = false
	}
	return res.probe
}

// ThrottleError is Done's result for a 429. When Paced, the limiter holds the
// next Wait on the charged budget until Retry-After has passed, so the caller
// may retry through Wait right away. Otherwise Riot sent no Retry-After (its
// backend throttled), or Shared could not store it in Redis, and the caller
// must back off on its own, ≥1 s and exponentially.
type ThrottleError struct {
	Route, Method string
	// Type is X-Rate-Limit-Type: "application", "method", "service", or ""
	// when Riot's backend throttled.
	Type string
	// RetryAfter is the wait, at most MaxRetryAfter; Asked is what Riot
	// asked for when that was longer, else 0.
	RetryAfter, Asked time.Duration
	Paced             bool
}

// logThrottle logs a 429: at warn when it is the key's own doing (an
// application or method limit) or Riot asked for a wait longer than
// MaxRetryAfter, at info when Riot's service or backend throttled.
func logThrottle(log *slog.Logger, e *ThrottleError) {
	if e.Asked > 0 {
		log.Warn("riot asked for a wait longer than its longest window; waiting the cap instead", "route", e.Route, "method", e.Method,
			"type", e.Type, "retry_after", e.Asked, "waiting", e.RetryAfter)
		return
	}
	level := slog.LevelInfo
	if e.Type == typeApplication || e.Type == "method" {
		level = slog.LevelWarn
	}
	log.Log(context.Background(), level, "rate limited by riot", "route", e.Route, "method", e.Method,
		"type", e.Type, "retry_after", e.RetryAfter, "paced", e.Paced)
}

func (e *ThrottleError) Error() string {
	typ := cmp.Or(e.Type, "backend")
	if !e.Paced {
		return fmt.Sprintf("%s %s: rate limited (%s) without retry-after", e.Route, e.Method, typ)
	}
	return fmt.Sprintf("%s %s: rate limited (%s), retry after %v", e.Route, e.Method, typ, e.RetryAfter)
}

// BucketState is one window of the limiter as Snapshot saw it.
type BucketState struct {
	Route  string
	Method string // "" for the application limit of Route
	Limit  riot.Limit
	Count  int // requests counted in the open window; 0 when none is open
	// WindowEnd is when the limiter lets the window reset: Riot's window plus
	// padding. Zero when no window is open.
	WindowEnd time.Time
	// BlockedUntil is the end of a 429's Retry-After on the window's budget;
	// zero when none is pending.
	BlockedUntil time.Time
}

// Snapshot returns the state of every known window, sorted by route, method
// and window length, for telemetry and tests.
func (l *Limiter) Snapshot() []BucketState {
	now := l.clock.Now()
	var out []BucketState
	l.routes.Range(func(_, v any) bool {
		r := v.(*route)
		r.mu.Lock()
		defer r.mu.Unlock()
		out = r.app.appendState(out, r.name, "", now)
		for method, m := range r.methods {
			out = m.appendState(out, r.name, method, now)
		}
		return true
	})
	slices.SortFunc(out, func(a, b BucketState) int {
		return cmp.Or(cmp.Compare(a.Route, b.Route), cmp.Compare(a.Method, b.Method), cmp.Compare(a.Limit.Window, b.Limit.Window))
	})
	return out
}

// route holds the budgets of one routing value. Its mutex covers the
// application budget and all method budgets, since a reservation must take
// from both at once.
type route struct {
	name    string
	mu      sync.Mutex
	app     budget
	methods map[string]*budget
	// wake is closed, then replaced, when waiters may get through sooner than
	// they computed: a probe finished or limits changed.
	wake chan struct{}
}

// reserve takes one request from the application budget and the method's
// budget if both have room. Otherwise it returns how long the blocking windows
// still run (0 while a probe is out) and the channel that announces an earlier
// chance.
func (r *route) reserve(method string, now time.Time) (m *budget, probe bool, delay time.Duration, wake <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m = r.methods[method]
	if m == nil {
		m = &budget{}
		r.methods[method] = m
	}
	delay = max(r.app.delay(now), m.delay(now))
	if delay > 0 || (!m.known && m.probing) {
		return nil, false, delay, r.wake
	}
	r.app.take(now)
	m.take(now)
	probe = !m.known
	m.probing = probe
	return m, probe, 0, nil
}

func (r *route) broadcast() {
	close(r.wake)
	r.wake = make(chan struct{})
}

// throttle applies a 429 to the budget its X-Rate-Limit-Type names: the
// route's application budget, or the method's for method and service limits
// and for an untyped 429 that still carries Retry-After.
func (r *route) throttle(m *budget, method string, h http.Header, now time.Time) *ThrottleError {
	e := &ThrottleError{Route: r.name, Method: method, Type: h.Get(headerLimitType)}
	e.RetryAfter, e.Asked, e.Paced = retryAfter(h.Get(headerRetryAfter), now)
	if e.Paced {
		b := m
		if e.Type == typeApplication {
			b = &r.app
		}
		if until := now.Add(e.RetryAfter); until.After(b.blockedUntil) {
			b.blockedUntil = until
		}
	}
	return e
}

// budget is one Riot rate limit scope: the application limit of a route or
// the method limit of one endpoint on it. A request fits when every window
// has room and no Retry-After is pending.
type budget struct {
	windows      []window
	header       string // the limit header the windows were built from
	known        bool   // a method's limits are unknown until its first header
	probing      bool   // a request of an unknown method is in flight
	inflight     int    // reserved, not yet done or cancelled
	blockedUntil time.Time
}

// delay is how long until b has room: every full window must reset first, so
// it is the last of their ends, or a pending Retry-After if that is later.
func (b *budget) delay(now time.Time) time.Duration {
	d := b.blockedUntil.Sub(now)
	for i := range b.windows {
		w := &b.windows[i]
		w.roll(now)
		// In the padding Riot's window may be over already: a request sent
		// now could open Riot's next window while we count it in this one.
		if w.count >= w.limit || w.padding(now) {
			d = max(d, w.end().Sub(now))
		}
	}
	return max(d, 0)
}

func (b *budget) take(now time.Time) {
	for i := range b.windows {
		w := &b.windows[i]
		if w.start.IsZero() {
			w.start = now
		}
		w.count++
	}
	b.inflight++
}

func (b *budget) window(length time.Duration) *window {
	for i := range b.windows {
		if b.windows[i].length == length {
			return &b.windows[i]
		}
	}
	return nil
}

// observe syncs b with the limit and count headers of the response to a
// request counted at `at`, and reports whether the limits changed.
func (b *budget) observe(limitHeader, countHeader string, at, now time.Time, pad func(time.Duration) time.Duration) (changed bool, err error) {
	if limitHeader == "" {
		return false, nil
	}
	if limitHeader != b.header {
		limits, err := riot.ParseLimits(limitHeader)
		if err != nil {
			return false, err
		}
		counts, err := riot.ParseCounts(countHeader)
		if err != nil {
			return false, err
		}
		changed = b.replace(limits, counts, at, now, pad)
		b.header = limitHeader
		b.known = true
	}
	if countHeader == "" {
		return changed, nil
	}
	// All or nothing, as Shared does: a header malformed part-way says
	// nothing reliable about the entries before the fault either.
	if err := riot.EachLimit(countHeader, 0, func(riot.Limit) {}); err != nil {
		return changed, err
	}
	return changed, riot.EachLimit(countHeader, 0, func(c riot.Limit) {
		if w := b.window(c.Window); w != nil {
			w.sync(c.Count, at, now)
		}
	})
}

// replace swaps in new limits and reports whether they differ. A window whose
// length stays keeps its state. A new one is taken to have opened at `at`
// holding Riot's count plus every request still in flight, which Riot may not
// have counted yet: overcounting once costs a little budget, undercounting
// costs 429s.
func (b *budget) replace(limits, counts []riot.Limit, at, now time.Time, pad func(time.Duration) time.Duration) bool {
	same := slices.EqualFunc(limits, b.windows, func(l riot.Limit, w window) bool {
		return l.Count == w.limit && l.Window == w.length
	})
	if same {
		return false
	}
	windows := make([]window, 0, len(limits))
	for _, lim := range limits {
		if old := b.window(lim.Window); old != nil {
			w := *old
			w.limit = lim.Count
			windows = append(windows, w)
			continue
		}
		used := 1 // this request, if Riot sent no count for the window
		for _, c := range counts {
			if c.Window == lim.Window {
				used = c.Count
			}
		}
		w := newWindow(lim, pad)
		w.start, w.count = at, used+b.inflight
		w.roll(now)
		windows = append(windows, w)
	}
	b.windows = windows
	return true
}

func (b *budget) appendState(out []BucketState, route, method string, now time.Time) []BucketState {
	var blocked time.Time
	if b.blockedUntil.After(now) {
		blocked = b.blockedUntil
	}
	for _, w := range b.windows {
		s := BucketState{Route: route, Method: method, Limit: riot.Limit{Count: w.limit, Window: w.length}, BlockedUntil: blocked}
		if w.open(now) {
			s.Count, s.WindowEnd = w.count, w.end()
		}
		out = append(out, s)
	}
	return out
}

// window mirrors one of Riot's fixed windows, which open at the first request
// counted and reset a window length later. The client keeps its copy open for
// span, the length plus padding, because it starts counting when it sends,
// before Riot does.
type window struct {
	limit  int
	length time.Duration
	span   time.Duration
	start  time.Time // zero while no window is open
	count  int
}

func newWindow(l riot.Limit, pad func(time.Duration) time.Duration) window {
	return window{limit: l.Count, length: l.Window, span: l.Window + max(pad(l.Window), 0)}
}

func (w *window) end() time.Time { return w.start.Add(w.span) }

func (w *window) open(now time.Time) bool { return !w.start.IsZero() && now.Before(w.end()) }

// padding reports whether now is past the window's length but before its
// padded end.
func (w *window) padding(now time.Time) bool {
	return w.open(now) && !now.Before(w.start.Add(w.length))
}

func (w *window) roll(now time.Time) {
	if !w.open(now) {
		w.start, w.count = time.Time{}, 0
	}
}

// sync adopts Riot's count when it is higher than ours (another client on the
// key), but only for a request counted in the current window: a late answer
// from a window that has since reset would otherwise fill the new one.
func (w *window) sync(used int, at, now time.Time) {
	if w.open(now) && !at.Before(w.start) && used > w.count {
		w.count = used
	}
}

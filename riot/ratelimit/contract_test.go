package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/ratelimit"
)

// devKey is the development key's application limit, the defaults.
const devKey = "20:1,100:120"

// Windows with their padding: how long after its first request each resets.
const (
	win1   = time.Second + pad1s
	win3   = 3*time.Second + 150*time.Millisecond
	win120 = 120*time.Second + pad120s
)

// forever is the patience of a fake clock.
const forever = time.Duration(math.MaxInt64)

// eventuallyTimeout guards a check that something happens; every case keeps
// the other outcome (a window or Retry-After running out) further away.
const eventuallyTimeout = 5 * time.Second

// How the redis harness lets time pass: Shared keeps its windows on the
// Redis server's clock, so the harness waits in real time.
const (
	// redisSlack is added to every advance: Redis counts whole milliseconds.
	redisSlack = 20 * time.Millisecond
	// redisMargin is how far before a reset a check can still count on a
	// window or Retry-After being in force, scheduling included.
	redisMargin = 400 * time.Millisecond
	// redisSettle is how long a check waits for Waits that should stay
	// blocked to show they do not: a false pass at worst, never a false
	// failure.
	redisSettle = 100 * time.Millisecond
	// redisPatience is the most of the limiter's clock a redis case lets
	// pass; the cases run in parallel.
	redisPatience = 3500 * time.Millisecond
)

// harness is one Reserver implementation under the contract, fresh for one
// case.
type harness struct {
	t    *testing.T
	name string
	// ctx ends with the case, releasing every Wait left; the harness waits
	// for the goroutines it started before the case ends.
	ctx context.Context
	wg  sync.WaitGroup
	// rs are three replicas sharing one budget: the same Limiter three times
	// for memory (a process shares with itself), three Shared on their own
	// connections for redis.
	rs []ratelimit.Reserver
	// start is when the case began on the limiter's clock, now that clock.
	start time.Time
	now   func() time.Time
	// sleep lets d pass: the fake clock's advance for memory, a real sleep
	// for redis. settle returns once Waits that can get through have had
	// the chance: synctest.Wait for memory, a short sleep for redis.
	sleep  func(d time.Duration)
	settle func()
	slack  time.Duration // added to every advance
	// margin is how far before a reset a check runs to see the reset has
	// not happened yet: a nanosecond on the fake clock.
	margin time.Duration
	// patience is the most of the limiter's clock a case may let pass; a
	// case that needs more is skipped from that point on.
	patience time.Duration
	// snapshot is the Limiter's Snapshot; nil for redis, since Shared keeps
	// its windows in Redis and has no Snapshot.
	snapshot func() []ratelimit.BucketState
}

// opener runs a case on a fresh harness of one implementation.
type opener func(t *testing.T, opts []ratelimit.Option, run func(t *testing.T, h *harness))

type reserverImpl struct {
	name     string
	patience time.Duration // the harness's
	// open runs once in the implementation's subtest, which outlives its
	// cases, and returns what opens a harness for each.
	open func(t *testing.T) opener
}

func reserverImpls() []reserverImpl {
	return []reserverImpl{
		{
			name: "memory", patience: forever,
			open: func(*testing.T) opener {
				return func(t *testing.T, opts []ratelimit.Option, run func(*testing.T, *harness)) {
					// The fake clock drives the Limiter; the bubble gives
					// synctest.Wait, which returns once every goroutine is
					// parked, so a check knows exactly who got through.
					synctest.Test(t, func(t *testing.T) {
						clock := clockwork.NewFakeClockAt(epoch)
						l := ratelimit.New(telemetry.Settings{Clock: clock}, opts...)
						h := &harness{
							t: t, name: "memory", rs: []ratelimit.Reserver{l, l, l},
							now: clock.Now,
							sleep: func(d time.Duration) {
								clock.Advance(d)
								synctest.Wait()
							},
							settle:   synctest.Wait,
							margin:   time.Nanosecond,
							patience: forever,
							snapshot: l.Snapshot,
						}
						h.run(run)
					})
				}
			},
		},
		{
			name: "redis", patience: redisPatience,
			open: func(t *testing.T) opener {
				url := redisURL(t)
				return func(t *testing.T, opts []ratelimit.Option, run func(*testing.T, *harness)) {
					var rs []ratelimit.Reserver
					for _, s := range replicas(t, url, 3, opts...) {
						rs = append(rs, s)
					}
					h := &harness{
						t: t, name: "redis", rs: rs,
						now:      time.Now,
						sleep:    time.Sleep,
						settle:   func() { time.Sleep(redisSettle) },
						slack:    redisSlack,
						margin:   redisMargin,
						patience: redisPatience,
					}
					h.run(run)
				}
			},
		},
	}
}

func (h *harness) run(f func(*testing.T, *harness)) {
	ctx, cancel := context.WithCancel(h.t.Context())
	h.ctx = ctx
	defer h.wg.Wait()
	defer cancel()
	h.start = h.now()
	f(h.t, h)
}

// advanceTo lets the limiter's clock reach at since the case began, and the
// Waits it wakes settle. On real time it measures from the harness's start,
// before the case's first request, so a check lands early rather than late.
func (h *harness) advanceTo(at time.Duration) {
	h.t.Helper()
	if at > h.patience {
		h.t.Skipf("checks so far passed; stopping before %v of the limiter's clock, since %s lets at most %v pass in a case", at, h.name, h.patience)
	}
	h.sleep(max(h.start.Add(at+h.slack).Sub(h.now()), 0))
}

// justBefore is advanceTo for a check that a reset at `at` has not come yet.
func (h *harness) justBefore(at time.Duration) { h.advanceTo(at - h.margin) }

// exactly waits until got() is want, lets everything settle, and checks it
// still is, so a count that overshoots fails too.
func (h *harness) exactly(what string, want int, got func() int) {
	h.t.Helper()
	bridgetest.Eventually(h.t, fmt.Sprintf("%s to be %d", what, want), eventuallyTimeout,
		func() bool { return got() == want },
		func() string { return fmt.Sprintf("%s: %d", what, got()) })
	h.settle()
	if n := got(); n != want {
		h.t.Fatalf("%s: %d, want %d", what, n, want)
	}
}

// call is one Wait running in its own goroutine.
type call struct {
	done chan struct{}
	res  ratelimit.Permit
	err  error
	at   time.Time // when Wait returned, on the limiter's clock
}

func (c *call) finished() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func finished(calls []*call) int {
	n := 0
	for _, c := range calls {
		if c.finished() {
			n++
		}
	}
	return n
}

func (h *harness) startWait(ctx context.Context, r ratelimit.Reserver, route, method string) *call {
	c := &call{done: make(chan struct{})}
	h.wg.Go(func() {
		defer close(c.done)
		c.res, c.err = r.Wait(ctx, route, method)
		c.at = h.now()
	})
	return c
}

// startWaits starts n Waits on ctx, taking turns among rs.
func (h *harness) startWaits(rs []ratelimit.Reserver, route, method string, n int) []*call {
	calls := make([]*call, n)
	for i := range calls {
		calls[i] = h.startWait(h.ctx, rs[i%len(rs)], route, method)
	}
	return calls
}

// client runs n goroutines, taking turns among the replicas, that each send
// one request to s as soon as Wait lets it and finish the permit with s's
// response. It returns how many got through.
func (h *harness) client(s *fakeRiot, route, method string, n int) *atomic.Int64 {
	var sent atomic.Int64
	for i := range n {
		r := h.rs[i%len(h.rs)]
		h.wg.Go(func() {
			p, err := r.Wait(h.ctx, route, method)
			if err != nil {
				if h.ctx.Err() == nil {
					h.t.Errorf("wait: %v", err)
				}
				return
			}
			sent.Add(1)
			if err := p.Done(s.serve(route, method, h.now())); err != nil {
				h.t.Errorf("done: %v", err)
			}
		})
	}
	return &sent
}

// mustWait is a Wait that must get through at once.
func mustWait(t *testing.T, r ratelimit.Reserver, route, method string) ratelimit.Permit {
	t.Helper()
	p, ok := admit(t, r, route, method)
	if !ok {
		t.Fatalf("Wait(%s, %s) was held back", route, method)
	}
	return p
}

// admittedAcross is admitted, taking turns among rs.
func admittedAcross(t testing.TB, rs []ratelimit.Reserver, route, method string, max int) int {
	t.Helper()
	for n := range max {
		if _, ok := admit(t, rs[n%len(rs)], route, method); !ok {
			return n
		}
	}
	return max
}

// used sums the counts of every window.
func used(state []ratelimit.BucketState) int {
	n := 0
	for _, s := range state {
		n += s.Count
	}
	return n
}

// fillStep is a point in a run of requests sent as fast as the limiter lets
// them.
type fillStep struct {
	at     time.Duration // of the limiter's clock since the case began
	before bool          // check just before at instead
	sent   int           // requests through by then
	// failFast, if set: then a Wait with this deadline, shorter than what is
	// left of the binding window, fails at once.
	failFast time.Duration
}

// fill sends requests through the replicas to a fakeRiot enforcing app and
// method, and checks the steps, and that Riot never answered 429.
func fill(app, method string, requests int, steps ...fillStep) func(*testing.T, *harness) {
	return func(t *testing.T, h *harness) {
		s := newRiot(t, app, method)
		sent := h.client(s, "kr", "match", requests)
		count := func() int { return int(sent.Load()) }
		for _, st := range steps {
			if st.before {
				h.justBefore(st.at)
				if got := count(); got != st.sent {
					t.Fatalf("just before %v: %d requests sent, want %d", st.at, got, st.sent)
				}
			} else {
				h.advanceTo(st.at)
				h.exactly(fmt.Sprintf("requests sent after %v", st.at), st.sent, count)
			}
			if st.failFast > 0 {
				ctx, cancel := context.WithTimeout(h.ctx, st.failFast)
				_, err := h.rs[1].Wait(ctx, "kr", "match")
				failedFast := ctx.Err() == nil
				cancel()
				if !errors.Is(err, context.DeadlineExceeded) || !failedFast {
					t.Fatalf("after %v: Wait with a %v deadline = %v, failed fast %t; want a fast context.DeadlineExceeded", st.at, st.failFast, err, failedFast)
				}
			}
		}
		if _, throttled := s.stats(); throttled != 0 {
			t.Errorf("riot answered %d requests with 429", throttled)
		}
	}
}

// coldStart sends 200 requests from a cold start on the dev key's defaults,
// answering those through as of when they got through, and checks the probe
// goes alone, then 20 a second for the given number of 1 s windows after the
// first; after the fifth the 120 s window binds until it resets.
func coldStart(windows int) func(*testing.T, *harness) {
	return func(t *testing.T, h *harness) {
		s := newRiot(t, devKey, "2000:10")
		calls := h.startWaits(h.rs, "kr", "match", 200)
		through := func() int { return finished(calls) }
		answered := map[*call]bool{}
		// answer sends every request that got through to riot. It picks them
		// before answering any, since an answer can let more through at once.
		answer := func() {
			var picked []*call
			for _, c := range calls {
				if c.finished() && !answered[c] {
					picked = append(picked, c)
				}
			}
			for _, c := range picked {
				if c.err != nil {
					t.Fatalf("wait: %v", c.err)
				}
				answered[c] = true
				if err := c.res.Done(s.serve("kr", "match", c.at)); err != nil {
					t.Fatalf("done: %v", err)
				}
			}
		}
		h.exactly("requests through before any response (the probe alone)", 1, through)
		answer()
		h.exactly("requests through after the probe's response (20:1)", 20, through)
		answer()
		// The dev key's 100 per 120 s: four more full windows of one second,
		// then nothing until the 120 s window resets.
		for i := 1; i <= windows; i++ {
			h.advanceTo(time.Duration(i) * win1)
			h.exactly(fmt.Sprintf("requests through after %v", time.Duration(i)*win1), min(20+20*i, 100), through)
			answer()
		}
		if windows >= 5 {
			h.justBefore(win120)
			if got := through(); got != 100 {
				t.Fatalf("just before the 120 s window reset: %d requests, want 100", got)
			}
			h.advanceTo(win120)
			h.exactly("requests through after the 120 s window reset", 120, through)
			answer()
		}
		if _, throttled := s.stats(); throttled != 0 {
			t.Errorf("riot answered %d requests with 429", throttled)
		}
	}
}

type contractCase struct {
	name     string
	defaults string // the application defaults; "" keeps the dev key's
	run      func(t *testing.T, h *harness)
	// needs, if set, is how much of the limiter's clock the case must let
	// pass to show anything its others do not; a harness with less
	// patience skips it.
	needs time.Duration
}

// TestReserverContract runs every behaviour a Reserver promises against both
// implementations: the in-memory Limiter on a fake clock, and Shared on a real
// Redis in real time, whose cases stop (skip) where they would need more than
// a few seconds of it. The harness's three replicas are one Limiter for
// memory, so there every check across replicas is one within a process.
func TestReserverContract(t *testing.T) {
	cases := []contractCase{
		{name: "fills a window, then blocks until it resets", defaults: "3:1", run: fill("3:1", "100:1", 7,
			fillStep{at: 0, sent: 3},
			fillStep{at: win1, before: true, sent: 3},
			// The new window takes three again, and holds the seventh.
			fillStep{at: win1, sent: 6},
		)},
		{name: "the longest full window binds", defaults: "3:1,5:3", run: fill("3:1,5:3", "100:1", 7,
			fillStep{at: 0, sent: 3},
			fillStep{at: win1, before: true, sent: 3},
			fillStep{at: win1, sent: 5},
			// The 1 s window resets, the 3 s one holds 5 for another 1.05 s.
			fillStep{at: 2 * win1, sent: 5, failFast: 500 * time.Millisecond},
			fillStep{at: win3, before: true, sent: 5},
			fillStep{at: win3, sent: 7},
		)},
		{name: "the method limit binds", defaults: devKey, run: fill(devKey, "5:1", 12,
			fillStep{at: 0, sent: 5},
			fillStep{at: win1, sent: 10},
			fillStep{at: 2 * win1, sent: 12},
		)},
		{name: "the dev key's 120 s window binds after five 1 s windows", defaults: devKey, run: fill(devKey, "2000:10", 130,
			fillStep{at: 0, sent: 20},
			fillStep{at: win1, sent: 40},
			fillStep{at: 2 * win1, sent: 60},
			fillStep{at: 3 * win1, sent: 80},
			fillStep{at: 4 * win1, sent: 100},
			fillStep{at: 5 * win1, sent: 100},
			fillStep{at: win120, before: true, sent: 100},
			fillStep{at: win120, sent: 120},
		), needs: win120},
		{name: "a method limit binds its method only", defaults: "20:1", run: func(t *testing.T, h *harness) {
			learn(t, h.rs[0], "kr", "a", "20:1", "2:1")
			learn(t, h.rs[1], "kr", "b", "20:1", "2:1")
			for _, m := range []string{"a", "b"} {
				if got := admittedAcross(t, h.rs, "kr", m, 2); got != 1 {
					t.Errorf("%d requests of %s through, want 1", got, m)
				}
			}
		}},
		{name: "the application limit binds every method", defaults: "4:1", run: func(t *testing.T, h *harness) {
			learn(t, h.rs[0], "kr", "a", "4:1", "100:1")
			learn(t, h.rs[1], "kr", "b", "4:1", "100:1")
			if got := admittedAcross(t, h.rs, "kr", "a", 3); got != 2 {
				t.Errorf("%d requests of a through, want 2", got)
			}
			if got := admittedAcross(t, h.rs, "kr", "b", 1); got != 0 {
				t.Errorf("%d requests of b through a full application window", got)
			}
		}},
		{name: "a cold start sends one probe, then fills the dev key's 20:1", run: coldStart(1)},
		{name: "a cold start spends the dev key's 100:120 and no more", run: coldStart(5), needs: win120},
	}

	for _, end := range []struct {
		name string
		end  func(ratelimit.Permit)
	}{
		{name: "cancel after a transport error", end: func(p ratelimit.Permit) { p.Cancel() }},
		{name: "answer without method headers", end: func(p ratelimit.Permit) { _ = p.Done(http.StatusBadGateway, nil) }},
	} {
		// Counted against a 120 s window, which cannot reset meanwhile.
		cases = append(cases, contractCase{name: "a probe's " + end.name + " passes the probe on", defaults: "20:120", run: func(t *testing.T, h *harness) {
			probe := mustWait(t, h.rs[0], "kr", "match")
			for i, r := range h.rs {
				if _, ok := admit(t, r, "kr", "match"); ok {
					t.Fatalf("replica %d: a request passed an unanswered probe", i)
				}
			}
			end.end(probe)
			// Another replica probes next.
			second, ok := admit(t, h.rs[1], "kr", "match")
			if !ok {
				t.Fatal("no request through after the probe ended")
			}
			// The first request may have reached Riot, so it stays counted.
			if h.snapshot != nil {
				if got := h.snapshot()[0]; got.Count != 2 {
					t.Errorf("application window counts %d requests, want 2", got.Count)
				}
			}
			if _, ok := admit(t, h.rs[0], "kr", "match"); ok {
				t.Fatal("a request passed the second probe")
			}
			// Waiters on the probe's replica are woken when it ends, and one
			// of them probes.
			calls := h.startWaits(h.rs[1:2], "kr", "match", 3)
			h.settle()
			if n := finished(calls); n != 0 {
				t.Fatalf("%d requests passed an unanswered probe", n)
			}
			end.end(second)
			through := func() int { return finished(calls) }
			h.exactly("requests through after the second probe ended (one new probe)", 1, through)
			if _, ok := admit(t, h.rs[2], "kr", "match"); ok {
				t.Fatal("a request passed the third probe")
			}
			third := calls[slices.IndexFunc(calls, (*call).finished)]
			if err := third.res.Done(http.StatusOK, limitHeaders("20:120", "3:120", "1000:10", "3:10")); err != nil {
				t.Fatal(err)
			}
			h.exactly("requests through once the limits are known", 3, through)
			// Three probes and two requests counted: 15 left in the 120 s
			// window.
			if got := admittedAcross(t, h.rs, "kr", "match", 20); got != 15 {
				t.Errorf("%d more requests through, want 15", got)
			}
		}})
	}

	cases = append(cases, contractCase{name: "only the first end of a permit counts", run: func(t *testing.T, h *harness) {
		learn(t, h.rs[0], "kr", "match", devKey, "1000:10")
		p := mustWait(t, h.rs[0], "kr", "match")
		if err := p.Done(http.StatusOK, limitHeaders(devKey, "2:1,2:120", "1000:10", "2:10")); err != nil {
			t.Fatal(err)
		}
		throttle := header("X-Rate-Limit-Type", "application", "Retry-After", "60")
		if err := p.Done(http.StatusTooManyRequests, throttle); err != nil {
			t.Errorf("second Done = %v, want nil", err)
		}
		p.Cancel()
		if _, ok := admit(t, h.rs[1], "kr", "match"); !ok {
			t.Error("a Done after the first blocked the route")
		}
	}})

	// The probe goes through the first replica and the requests in flight
	// through the others, so on Redis every count crosses replicas.
	for _, lc := range []struct {
		name     string
		first    http.Header // the probe's answer
		inFlight int         // requests reserved after the probe, still unanswered
		second   http.Header // the answer to the first of those
		more     int         // further requests let through at once
		state    []ratelimit.BucketState
	}{
		{
			name:  "a lowered limit binds at once",
			first: limitHeaders("3:1", "1:1", "100:1", "1:1"),
			more:  2,
			state: []ratelimit.BucketState{
				{Route: "kr", Limit: riot.Limit{Count: 3, Window: time.Second}, Count: 3, WindowEnd: epoch.Add(win1)},
				{Route: "kr", Method: "match", Limit: riot.Limit{Count: 100, Window: time.Second}, Count: 3, WindowEnd: epoch.Add(win1)},
			},
		},
		{
			// A new window starts from Riot's count plus the requests still in
			// flight, which Riot may not have counted yet: 2 + 3 of 6.
			name:     "a new window counts the requests in flight",
			first:    limitHeaders("20:1", "1:1", "100:1", "1:1"),
			inFlight: 4,
			second:   limitHeaders("20:1,6:10", "2:1,2:10", "100:1", "2:1"),
			more:     1,
			state: []ratelimit.BucketState{
				{Route: "kr", Limit: riot.Limit{Count: 20, Window: time.Second}, Count: 6, WindowEnd: epoch.Add(win1)},
				{Route: "kr", Limit: riot.Limit{Count: 6, Window: 10 * time.Second}, Count: 6, WindowEnd: epoch.Add(10*time.Second + pad10s)},
				{Route: "kr", Method: "match", Limit: riot.Limit{Count: 100, Window: time.Second}, Count: 6, WindowEnd: epoch.Add(win1)},
			},
		},
		{
			name:     "a dropped window no longer binds",
			first:    limitHeaders("20:1,2:120", "1:1,1:120", "100:1", "1:1"),
			inFlight: 1,
			second:   limitHeaders("20:1", "2:1", "100:1", "2:1"),
			more:     18,
			state: []ratelimit.BucketState{
				{Route: "kr", Limit: riot.Limit{Count: 20, Window: time.Second}, Count: 20, WindowEnd: epoch.Add(win1)},
				{Route: "kr", Method: "match", Limit: riot.Limit{Count: 100, Window: time.Second}, Count: 20, WindowEnd: epoch.Add(win1)},
			},
		},
		{
			// Another client on the key used 17 more than the 2 we sent.
			name:     "a higher count is adopted",
			first:    limitHeaders(devKey, "1:1,1:120", "1000:10", "1:10"),
			inFlight: 1,
			second:   limitHeaders(devKey, "19:1,19:120", "1000:10", "2:10"),
			more:     1,
		},
		{
			name:     "a lower count is ignored",
			first:    limitHeaders(devKey, "1:1,1:120", "1000:10", "1:10"),
			inFlight: 1,
			second:   limitHeaders(devKey, "1:1,1:120", "1000:10", "2:10"),
			more:     18,
		},
		{
			// Ignored whole, not applied up to the fault: 19 would leave 1.
			name:     "a partly malformed count header is ignored whole",
			first:    limitHeaders(devKey, "1:1,1:120", "1000:10", "1:10"),
			inFlight: 1,
			second:   limitHeaders(devKey, "19:1,x", "1000:10", "2:10"),
			more:     18,
		},
	} {
		cases = append(cases, contractCase{name: lc.name, run: func(t *testing.T, h *harness) {
			probe := mustWait(t, h.rs[0], "kr", "match")
			if err := probe.Done(http.StatusOK, lc.first); err != nil {
				t.Fatal(err)
			}
			var inFlight []ratelimit.Permit
			for i := range lc.inFlight {
				inFlight = append(inFlight, mustWait(t, h.rs[1+i%2], "kr", "match"))
			}
			if len(inFlight) > 0 {
				if err := inFlight[0].Done(http.StatusOK, lc.second); err != nil {
					t.Fatal(err)
				}
			}
			if got := admittedAcross(t, h.rs[1:], "kr", "match", 25); got != lc.more {
				t.Errorf("%d more requests through in the window, want %d", got, lc.more)
			}
			if h.snapshot != nil && lc.state != nil {
				if got := h.snapshot(); !slices.Equal(got, lc.state) {
					t.Errorf("Snapshot() =\n%v\nwant\n%v", got, lc.state)
				}
			}
		}})
	}

	cases = append(cases,
		contractCase{name: "a late answer from a reset window is ignored", run: func(t *testing.T, h *harness) {
			learn(t, h.rs[0], "kr", "match", devKey, "1000:10")
			late := mustWait(t, h.rs[0], "kr", "match")
			if got := admittedAcross(t, h.rs, "kr", "match", 18); got != 18 {
				t.Fatalf("%d requests through, want 18 to fill 20:1", got)
			}
			h.advanceTo(win1)
			mustWait(t, h.rs[1], "kr", "match") // opens the next 1 s window
			// Riot counts 20 in the 1 s window late was counted in, which has
			// reset since, and all 21 in the 120 s one.
			if err := late.Done(http.StatusOK, limitHeaders(devKey, "20:1,21:120", "1000:10", "21:10")); err != nil {
				t.Fatal(err)
			}
			if got := admittedAcross(t, h.rs, "kr", "match", 25); got != 19 {
				t.Errorf("%d more requests through in the new window, want 19", got)
			}
		}},
		// Shared wakes the waiters of its own process only; another replica's
		// waiters see raised limits when they next ask Redis.
		contractCase{name: "raised limits wake the waiters of the reserver that learns them", defaults: "2:120", run: func(t *testing.T, h *harness) {
			probe := mustWait(t, h.rs[0], "kr", "match")
			if err := probe.Done(http.StatusOK, limitHeaders("2:120", "1:120", "100:1", "1:1")); err != nil {
				t.Fatal(err)
			}
			second := mustWait(t, h.rs[0], "kr", "match")
			calls := h.startWaits(h.rs[:1], "kr", "match", 3)
			h.settle()
			if n := finished(calls); n != 0 {
				t.Fatalf("%d waits passed a full 2:120 window", n)
			}
			if err := second.Done(http.StatusOK, limitHeaders("10:120", "2:120", "100:1", "2:1")); err != nil {
				t.Fatal(err)
			}
			// The 120 s window cannot reset in the meantime.
			h.exactly("waits through after 10:120 arrived", 3, func() int { return finished(calls) })
		}},
	)

	// The setup learns an application limit without a 1 s window, whose
	// padding would otherwise hold every target back right after a 1 s
	// Retry-After.
	for _, tc := range []struct {
		name       string
		header     http.Header
		wantErr    ratelimit.ThrottleError
		wantBlock  []string // "route method" held back until Retry-After passes
		retryAfter time.Duration
	}{
		{
			name:       "a 429 of the application blocks every method of the route",
			header:     header("X-Rate-Limit-Type", "application", "Retry-After", "1"),
			wantErr:    ratelimit.ThrottleError{Route: "kr", Method: "a", Type: "application", RetryAfter: time.Second, Paced: true},
			wantBlock:  []string{"kr a", "kr b"},
			retryAfter: time.Second,
		},
		{
			name:       "a 429 of the method blocks that method",
			header:     header("X-Rate-Limit-Type", "method", "Retry-After", "1"),
			wantErr:    ratelimit.ThrottleError{Route: "kr", Method: "a", Type: "method", RetryAfter: time.Second, Paced: true},
			wantBlock:  []string{"kr a"},
			retryAfter: time.Second,
		},
		{
			name:       "a 429 of the service blocks that method",
			header:     header("X-Rate-Limit-Type", "service", "Retry-After", "1"),
			wantErr:    ratelimit.ThrottleError{Route: "kr", Method: "a", Type: "service", RetryAfter: time.Second, Paced: true},
			wantBlock:  []string{"kr a"},
			retryAfter: time.Second,
		},
		{
			name:       "an untyped 429 with Retry-After blocks that method",
			header:     header("Retry-After", "2"),
			wantErr:    ratelimit.ThrottleError{Route: "kr", Method: "a", RetryAfter: 2 * time.Second, Paced: true},
			wantBlock:  []string{"kr a"},
			retryAfter: 2 * time.Second,
		},
		{
			name:       "an application Retry-After beyond Riot's longest window is cut to MaxRetryAfter",
			header:     header("X-Rate-Limit-Type", "application", "Retry-After", "999999"),
			wantErr:    ratelimit.ThrottleError{Route: "kr", Method: "a", Type: "application", RetryAfter: ratelimit.MaxRetryAfter, Asked: 24 * time.Hour, Paced: true},
			wantBlock:  []string{"kr a", "kr b"},
			retryAfter: ratelimit.MaxRetryAfter,
		},
		{
			name:       "a method Retry-After beyond Riot's longest window is cut to MaxRetryAfter",
			header:     header("X-Rate-Limit-Type", "method", "Retry-After", "999999"),
			wantErr:    ratelimit.ThrottleError{Route: "kr", Method: "a", Type: "method", RetryAfter: ratelimit.MaxRetryAfter, Asked: 24 * time.Hour, Paced: true},
			wantBlock:  []string{"kr a"},
			retryAfter: ratelimit.MaxRetryAfter,
		},
		{
			name:    "backend throttling leaves the backoff to the caller",
			header:  http.Header{},
			wantErr: ratelimit.ThrottleError{Route: "kr", Method: "a"},
		},
		{
			name:    "an unreadable Retry-After leaves the backoff to the caller",
			header:  header("X-Rate-Limit-Type", "method", "Retry-After", "soon"),
			wantErr: ratelimit.ThrottleError{Route: "kr", Method: "a", Type: "method"},
		},
	} {
		cases = append(cases, contractCase{name: tc.name, run: func(t *testing.T, h *harness) {
			targets := []string{"kr a", "kr b", "euw1 a"}
			for _, target := range targets {
				route, method, _ := strings.Cut(target, " ")
				learn(t, h.rs[0], route, method, "100:120", "1000:10")
			}
			p := mustWait(t, h.rs[0], "kr", "a")
			err := p.Done(http.StatusTooManyRequests, tc.header)
			var te *ratelimit.ThrottleError
			if !errors.As(err, &te) || *te != tc.wantErr {
				t.Fatalf("Done(429) = %v, want %+v", err, tc.wantErr)
			}
			// Checked on another replica: the block is the whole key's.
			check := func(when string, blocked []string) {
				t.Helper()
				for _, target := range targets {
					route, method, _ := strings.Cut(target, " ")
					_, through := admit(t, h.rs[1], route, method)
					if want := !slices.Contains(blocked, target); through != want {
						t.Errorf("%s: %s let through = %t, want %t", when, target, through, want)
					}
				}
			}
			check("at once", tc.wantBlock)
			if tc.retryAfter > 0 {
				h.justBefore(tc.retryAfter)
				check("just before Retry-After", tc.wantBlock)
				h.advanceTo(tc.retryAfter)
				check("after Retry-After", nil)
			}
		}})
	}

	cases = append(cases, contractCase{name: "a throttled route does not stall others", run: func(t *testing.T, h *harness) {
		r := h.rs[:1] // one process's waiters
		learn(t, r[0], "kr", "match", devKey, "1000:10")
		p := mustWait(t, r[0], "kr", "match")
		_ = p.Done(http.StatusTooManyRequests, header("X-Rate-Limit-Type", "application", "Retry-After", "60"))
		blocked := append(h.startWaits(r, "kr", "match", 50), h.startWaits(r, "kr", "spectator", 5)...)
		euw := h.startWaits(r, "euw1", "match", 20)
		// euw1: the probe alone, then its answer lets 19 more through.
		h.exactly("euw1 requests through before the probe's answer", 1, func() int { return finished(euw) })
		if n := finished(blocked); n != 0 {
			t.Errorf("%d kr requests passed an application Retry-After", n)
		}
		probe := euw[slices.IndexFunc(euw, (*call).finished)]
		_ = probe.res.Done(http.StatusOK, limitHeaders(devKey, "1:1,1:120", "1000:10", "1:10"))
		h.exactly("euw1 requests through while kr is throttled", 20, func() int { return finished(euw) })
		if n := finished(blocked); n != 0 {
			t.Errorf("%d kr requests passed an application Retry-After", n)
		}
	}})

	for _, tc := range []struct {
		name string
		// blocker is what holds the Wait back: "window", kr's 2:1 window is
		// full; "probe", a probe is out; "room", a learned method with room;
		// "", a cold start.
		blocker string
		ctx     func(context.Context) (context.Context, context.CancelFunc)
		cancel  bool          // cancel the context: once the wait is parked, or before it without blocker
		advance time.Duration // then let this much of the limiter's clock pass
		wantErr error         // nil: the wait succeeds
	}{
		{
			name: "cancel while waiting for a window", blocker: "window", cancel: true,
			ctx: context.WithCancel, wantErr: context.Canceled,
		},
		{
			name: "cancel while waiting for a probe", blocker: "probe", cancel: true,
			ctx: context.WithCancel, wantErr: context.Canceled,
		},
		{
			name: "a deadline after the window resets waits", blocker: "window", advance: win1,
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, 2*time.Second)
			},
		},
		{
			name: "already cancelled takes no slot even with room", blocker: "room", cancel: true,
			ctx: context.WithCancel, wantErr: context.Canceled,
		},
		{
			name: "already cancelled takes no probe", cancel: true,
			ctx: context.WithCancel, wantErr: context.Canceled,
		},
	} {
		cases = append(cases, contractCase{name: tc.name, defaults: "2:1", run: func(t *testing.T, h *harness) {
			switch tc.blocker {
			case "window", "room":
				learn(t, h.rs[0], "kr", "match", "2:1", "100:1")
				if tc.blocker == "window" {
					mustWait(t, h.rs[0], "kr", "match")
				}
			case "probe":
				mustWait(t, h.rs[0], "kr", "match")
			}
			var before int
			if h.snapshot != nil {
				before = used(h.snapshot())
			}
			ctx, cancel := tc.ctx(h.ctx)
			defer cancel()
			parked := tc.blocker == "window" || tc.blocker == "probe"
			if tc.cancel && !parked {
				cancel()
			}
			from := h.now()
			c := h.startWait(ctx, h.rs[1], "kr", "match")
			if parked {
				h.settle()
				if c.finished() {
					t.Fatalf("wait returned while blocked: %v", c.err)
				}
				if tc.cancel {
					cancel()
				}
			}
			if tc.advance > 0 {
				h.advanceTo(tc.advance)
			}
			bridgetest.Eventually(t, "the wait to return", eventuallyTimeout, c.finished)
			if tc.wantErr == nil {
				if c.err != nil {
					t.Fatalf("Wait() = %v, want success", c.err)
				}
				// Waited is how long Wait blocked: what the caller saw, but
				// for the scheduling around it.
				saw := h.now().Sub(from)
				if got := c.res.Waited(); got > saw || saw-got >= h.margin {
					t.Errorf("Waited() = %v, want the %v the caller waited, less under %v", got, saw, h.margin)
				}
				return
			}
			if !errors.Is(c.err, tc.wantErr) {
				t.Fatalf("Wait() = %v, want %v", c.err, tc.wantErr)
			}
			if h.snapshot != nil {
				if after := used(h.snapshot()); after != before {
					t.Errorf("a failed wait took a slot: %d counted, want %d", after, before)
				}
			}
			switch tc.blocker {
			case "room":
				if got := admittedAcross(t, h.rs, "kr", "match", 2); got != 1 {
					t.Errorf("%d requests through after the cancelled wait, want the 1 left", got)
				}
			case "":
				if _, ok := admit(t, h.rs[0], "kr", "match"); !ok {
					t.Error("the cancelled wait left a probe out")
				}
			}
		}})
	}

	cases = append(cases, contractCase{name: "a deadline before the window resets fails fast", defaults: "2:1", run: func(t *testing.T, h *harness) {
		learn(t, h.rs[0], "kr", "match", "2:1", "100:1")
		mustWait(t, h.rs[0], "kr", "match")
		var before int
		if h.snapshot != nil {
			before = used(h.snapshot())
		}
		ctx, cancel := context.WithTimeout(h.ctx, win1-h.margin)
		defer cancel()
		_, err := h.rs[1].Wait(ctx, "kr", "match")
		if failedFast := ctx.Err() == nil; !errors.Is(err, context.DeadlineExceeded) || !failedFast {
			t.Fatalf("Wait() = %v, failed fast %t; want a fast context.DeadlineExceeded", err, failedFast)
		}
		if h.snapshot != nil {
			if after := used(h.snapshot()); after != before {
				t.Errorf("a failed wait took a slot: %d counted, want %d", after, before)
			}
		}
	}})

	for _, impl := range reserverImpls() {
		t.Run(impl.name, func(t *testing.T) {
			open := impl.open(t)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					if tc.needs > impl.patience {
						t.Skipf("needs %v of the limiter's clock; %s lets at most %v pass in a case", tc.needs, impl.name, impl.patience)
					}
					var opts []ratelimit.Option
					if tc.defaults != "" {
						opts = append(opts, ratelimit.WithAppDefaults(mustLimits(t, tc.defaults)))
					}
					open(t, opts, tc.run)
				})
			}
		})
	}
}

package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/ratelimit"
	"github.com/riftbridge/riftbridge/riot/riottest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// t0 is where every fake clock starts.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newServer(tb testing.TB, opts ...riottest.Option) *riottest.Server {
	tb.Helper()
	srv := riottest.NewServer(opts...)
	tb.Cleanup(srv.Close)
	return srv
}

// newTestDoer builds a Doer for srv sending its key: its base URL and an
// http.Client whose idle connections close with the test, unless opts set
// them.
func newTestDoer(tb testing.TB, srv *riottest.Server, set telemetry.Settings, opts ...Option) *Doer {
	tb.Helper()
	return newTestDoerKey(tb, srv, srv.Key(), set, opts...)
}

// newTestDoerKey is newTestDoer sending key instead of srv's.
func newTestDoerKey(tb testing.TB, srv *riottest.Server, key string, set telemetry.Settings, opts ...Option) *Doer {
	tb.Helper()
	tr := &http.Transport{}
	tb.Cleanup(tr.CloseIdleConnections)
	// The defaults first: options apply in order, so opts override them.
	opts = append([]Option{
		WithBaseURL(srv.BaseURL()),
		WithHTTPClient(&http.Client{Transport: tr, Timeout: 10 * time.Second}),
	}, opts...)
	d, err := NewDoer(key, set, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// autoAdvance moves clk by step whenever something waits on it, so waits
// on the fake clock end in simulated time. It stops with the test.
func autoAdvance(tb testing.TB, clk *clockwork.FakeClock, step time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for clk.BlockUntilContext(ctx, 1) == nil {
			clk.Advance(step)
		}
	}()
	tb.Cleanup(func() { cancel(); <-done })
}

// recorder is an Observer that counts what the Doer reports; it drops the
// rest of the telemetry.
type recorder struct {
	telemetry.Nop

	mu        sync.Mutex
	throttled map[string]int // by limit type
	waited    map[string]int // by endpoint
	retried   map[string]int // by endpoint
	requests  map[string]int // answered (body read), by endpoint
}

func newRecorder() *recorder {
	return &recorder{throttled: map[string]int{}, waited: map[string]int{}, retried: map[string]int{}, requests: map[string]int{}}
}

func (r *recorder) Request(endpoint, _ string, _ int, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests[endpoint]++
}

func (r *recorder) Throttled(_, _, limitType string, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.throttled[limitType]++
}

func (r *recorder) Waited(endpoint string, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waited[endpoint]++
}

func (r *recorder) Retried(endpoint string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retried[endpoint]++
}

func (r *recorder) count(m map[string]int, key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return m[key]
}

// saturation is a real-time run of demand far above a tight limit.
type saturation struct {
	stats riottest.Stats
	// share is the accepted requests over what the binding limit allows in
	// the span the route was served, first to last accepted request.
	share             float64
	accepted, allowed int
	// limited counts every 429, whatever its type.
	limited int
}

// saturate starts 200 goroutines at once against a cold Doer, half asking
// account-v1 and half the match id list, all on asia, for about dur. The
// key allows 10:1,30:3 per route and the match id list 4:1 on its own.
func saturate(tb testing.TB, dur time.Duration) saturation {
	return saturateDoers(tb, dur, 1, nil)
}

// saturateDoers is saturate with the goroutines spread over n cold Doers,
// each with the limiter newLimiter returns (nil: the Doer's own), as n
// replicas sharing one key are.
func saturateDoers(tb testing.TB, dur time.Duration, n int, newLimiter func() ratelimit.Reserver) saturation {
	tb.Helper()
	srv := newServer(tb,
		riottest.WithAppLimits(riottest.Limit{Count: 10, Seconds: 1}, riottest.Limit{Count: 30, Seconds: 3}),
		riottest.WithMethodLimits(riottest.EndpointMatchIDs, riottest.Limit{Count: 4, Seconds: 1}))
	puuid := srv.AddPlayer("Saturated", "KR1", "kr")
	clients := make([]*Client, n)
	for i := range clients {
		var opts []Option
		if newLimiter != nil {
			opts = append(opts, WithLimiter(newLimiter()))
		}
		clients[i] = NewClient(newTestDoer(tb, srv, telemetry.Settings{}, opts...))
	}

	// A cancel rather than a deadline: with a deadline the limiter fails
	// fast on waits that would outlast it, and 200 goroutines would spin.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			<-start
			client := clients[i%n]
			for ctx.Err() == nil {
				if i/n%2 == 0 {
					_, _ = client.PUUID(ctx, "kr", "Saturated#KR1")
				} else {
					_, _ = client.MatchIDs(ctx, "kr", puuid, time.Time{}, 20)
				}
			}
		})
	}
	close(start)
	stop := time.AfterFunc(dur, cancel)
	defer stop.Stop()
	wg.Wait()

	st := srv.Stats()
	s := saturation{stats: st, accepted: st.Routes["asia"].Accepted}
	for _, n := range st.RateLimited {
		s.limited += n
	}
	s.allowed = st.Allowed("asia")
	if s.allowed > 0 {
		s.share = float64(s.accepted) / float64(s.allowed)
	}
	return s
}

// TestDoerSaturation is the acceptance test of the Doer's pacing: under a
// cold start and demand far above the limits, no 429 of any kind and at
// least 90 % of the binding limit used, with the method limit held apart
// from the application limit.
func TestDoerSaturation(t *testing.T) {
	s := saturate(t, 3300*time.Millisecond)
	rs := s.stats.Routes["asia"]
	t.Logf("asia accepted %d of %d allowed (%.3f) over %v, 429s %d, requests %d", s.accepted, s.allowed, s.share, rs.Last.Sub(rs.First), s.limited, s.stats.Requests)
	if s.limited != 0 {
		t.Errorf("429s by type: %v, want none", s.stats.RateLimited)
	}
	if ex := s.stats.Exceeded(); len(ex) != 0 {
		t.Errorf("windows over their limit: %+v", ex)
	}
	if s.share < 0.9 {
		t.Errorf("used %.3f of the binding limit (%d of %d), want >= 0.9", s.share, s.accepted, s.allowed)
	}
	// Both endpoints wanted the same; the match id list, held to its own
	// 4:1 (no window over it, checked above), got less than account-v1,
	// whose requests filled the rest of the application windows.
	ids := s.stats.ByEndpoint[riottest.RouteEndpoint{Route: "asia", Endpoint: riottest.EndpointMatchIDs}]
	accounts := s.stats.ByEndpoint[riottest.RouteEndpoint{Route: "asia", Endpoint: riottest.EndpointAccount}]
	if accounts <= ids {
		t.Errorf("account %d requests, match ids %d: the method limit of match ids held back account-v1", accounts, ids)
	}
}

// TestDoerRoutesIndependent saturates kr on a stopped fake clock, so its
// waits never end, and checks that asia is served meanwhile without a wait.
func TestDoerRoutesIndependent(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	srv := newServer(t, riottest.WithClock(clk), riottest.WithAppLimits(riottest.Limit{Count: 10, Seconds: 1}))
	puuid := srv.AddPlayer("Idle", "KR1", "kr")
	rec := newRecorder()
	client := NewClient(newTestDoer(t, srv, telemetry.Settings{Clock: clk, Observer: rec}))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const krDemand = 30
	errs := make(chan error, krDemand)
	for range krDemand {
		go func() {
			_, err := client.ActiveGame(ctx, "kr", puuid)
			errs <- err
		}()
	}
	// 10 got through; the other 20 each wait on a timer of the fake clock.
	if err := blockUntil(clk, krDemand-10); err != nil {
		t.Fatalf("kr waiters: %v", err)
	}
	// The 10 admitted may still be on their way: let them be answered
	// before counting, and before the cancel below.
	bridgetest.Eventually(t, "kr's 10 admitted requests to be answered", 10*time.Second,
		func() bool { return rec.count(rec.requests, EndpointSpectator) >= 10 },
		func() string {
			return fmt.Sprintf("kr: %d of 10 admitted requests answered", rec.count(rec.requests, EndpointSpectator))
		})

	for i := range 8 {
		if _, err := client.PUUID(ctx, "kr", "Idle#KR1"); err != nil {
			t.Fatalf("asia request %d: %v", i, err)
		}
	}
	st := srv.Stats()
	if got := st.Routes["asia"].Accepted; got != 8 {
		t.Errorf("asia accepted %d, want 8", got)
	}
	if got := st.Routes["kr"].Accepted; got != 10 {
		t.Errorf("kr accepted %d, want 10 (its limit)", got)
	}
	if n := rec.count(rec.waited, EndpointAccount); n != 0 {
		t.Errorf("asia requests waited %d times behind kr", n)
	}

	// Cancelling ends every wait at once.
	cancel()
	notFound, canceled := 0, 0
	for range krDemand {
		switch err := <-errs; {
		case errors.Is(err, ErrNotFound):
			notFound++
		case errors.Is(err, context.Canceled):
			canceled++
		default:
			t.Errorf("kr request: %v", err)
		}
	}
	if notFound != 10 || canceled != krDemand-10 {
		t.Errorf("kr: %d answered, %d cancelled; want 10 and %d", notFound, canceled, krDemand-10)
	}
	if got := srv.Stats().Routes["kr"].Accepted; got != 10 {
		t.Errorf("kr accepted %d after cancel, want 10", got)
	}
}

// TestDoerWindowTail sends a request in the padding at the end of the
// limiter's window, after Riot's own window has closed: Riot opens its next
// window with that request, so the limiter must not hand out a fresh
// window's full count right after. The fake clock is shared with the
// server, so Riot's windows open exactly when the limiter's do, and a gate
// in the transport holds the burst until every request of it was admitted,
// so no response can correct the limiter's count in between.
func TestDoerWindowTail(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	srv := newServer(t, riottest.WithClock(clk), riottest.WithAppLimits(riottest.Limit{Count: 10, Seconds: 1}))
	puuid := srv.AddPlayer("Tail", "KR1", "kr")
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	gate := &gateTransport{rt: tr, arrived: make(chan struct{}), release: make(chan struct{})}
	d := newTestDoer(t, srv, telemetry.Settings{Clock: clk}, WithHTTPClient(&http.Client{Transport: gate}))
	get := func() error {
		_, err := d.Do(spectatorRequest(t, context.Background(), puuid))
		return err
	}
	// advanceWhileWaiting runs f and moves the clock by step whenever f
	// waits on it.
	advanceWhileWaiting := func(step time.Duration, f func() error) {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- f() }()
		for {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				return
			case <-waiting(t, clk):
				clk.Advance(step)
			}
		}
	}

	if err := get(); err != nil { // opens both windows at t0
		t.Fatal(err)
	}
	// Past Riot's 1 s window, inside the limiter's padded one (1.05 s).
	padded := time.Second + ratelimit.Padding(time.Second)
	if padded <= 1020*time.Millisecond {
		t.Fatalf("the limiter pads a 1 s window to %v: no room for a request in its tail", padded)
	}
	clk.Advance(1020 * time.Millisecond)
	advanceWhileWaiting(10*time.Millisecond, get)
	if d := clk.Since(t0); d < padded {
		clk.Advance(padded - d) // the limiter's window is over
	}

	// A burst of 10: whatever the limiter admits now goes out together.
	gate.hold.Store(true)
	const burst = 10
	errs := make(chan error, burst)
	for range burst {
		go func() { errs <- get() }()
	}
	admitted := 0
	for w := waiting(t, clk); admitted < burst; {
		select {
		case <-gate.arrived:
			admitted++
			continue
		case <-w:
		}
		break // the rest wait on the limiter
	}
	gate.hold.Store(false)
	close(gate.release)
	autoAdvance(t, clk, 10*time.Millisecond)
	for range burst {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if st := srv.Stats(); len(st.RateLimited) != 0 || len(st.Exceeded()) != 0 {
		t.Errorf("burst of %d admitted at once: 429s %v, windows over their limit %+v; want none", admitted, st.RateLimited, st.Exceeded())
	}
}

// gateTransport holds requests, while hold is set, until release closes.
type gateTransport struct {
	rt      http.RoundTripper
	hold    atomic.Bool
	arrived chan struct{}
	release chan struct{}
}

func (g *gateTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if g.hold.Load() {
		select {
		case g.arrived <- struct{}{}:
		case <-g.release:
		}
		<-g.release
	}
	return g.rt.RoundTrip(r)
}

// waiting closes its channel once something waits on clk; it gives up with
// the test.
func waiting(tb testing.TB, clk *clockwork.FakeClock) <-chan struct{} {
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	ch := make(chan struct{})
	go func() {
		if clk.BlockUntilContext(ctx, 1) == nil {
			close(ch)
		}
	}()
	return ch
}

// blockUntil waits, for at most a few seconds, until n goroutines wait on clk.
func blockUntil(clk *clockwork.FakeClock, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return clk.BlockUntilContext(ctx, n)
}

// TestDoerFaults checks retries against injected faults, on a fake clock
// that advances whenever the Doer waits, so backoff and Retry-After cost no
// real time.
func TestDoerFaults(t *testing.T) {
	type want struct {
		err       error // errors.Is target; nil for success
		status    int   // *StatusError status, or the response's status
		requests  int   // seen by the server
		retried   int
		throttled map[string]int
		// minWait is the least simulated time the call must take: the
		// Retry-After or the shortest backoff.
		minWait time.Duration
	}
	cases := []struct {
		name       string
		maxRetries int
		inject     func(*riottest.Server)
		key        string // sent instead of the server's key when set
		want       want
	}{
		{
			name:   "503 twice",
			inject: func(s *riottest.Server) { s.InjectStatus(503, 2) },
			want:   want{status: 404, requests: 3, retried: 2, minWait: backoffBase/2 + backoffBase},
		},
		{
			name: "500 then 503",
			inject: func(s *riottest.Server) {
				s.InjectStatus(500, 1)
				s.InjectStatus(503, 1)
			},
			want: want{status: 404, requests: 3, retried: 2},
		},
		{
			name: "service 429 with retry-after",
			inject: func(s *riottest.Server) {
				s.Inject(riottest.Fault{Status: 429, LimitType: riottest.LimitService, RetryAfter: 2, Count: 1})
			},
			want: want{status: 404, requests: 2, retried: 1, throttled: map[string]int{"service": 1}, minWait: 2 * time.Second},
		},
		{
			name: "method 429 with retry-after",
			inject: func(s *riottest.Server) {
				s.Inject(riottest.Fault{Status: 429, LimitType: riottest.LimitMethod, RetryAfter: 1, Count: 1})
			},
			want: want{status: 404, requests: 2, retried: 1, throttled: map[string]int{"method": 1}, minWait: time.Second},
		},
		{
			name: "application 429 with retry-after",
			inject: func(s *riottest.Server) {
				s.Inject(riottest.Fault{Status: 429, LimitType: riottest.LimitApplication, RetryAfter: 3, Count: 1})
			},
			want: want{status: 404, requests: 2, retried: 1, throttled: map[string]int{"application": 1}, minWait: 3 * time.Second},
		},
		{
			name:   "untyped 429 backs off",
			inject: func(s *riottest.Server) { s.InjectStatus(429, 2) },
			want:   want{status: 404, requests: 3, retried: 2, throttled: map[string]int{"": 2}, minWait: backoffBase/2 + backoffBase},
		},
		{
			name:       "500s past the retries",
			maxRetries: 2,
			inject:     func(s *riottest.Server) { s.InjectStatus(500, 10) },
			want:       want{status: 500, requests: 3, retried: 2},
		},
		{
			name:   "untyped 429s past the retries",
			inject: func(s *riottest.Server) { s.InjectStatus(429, 10) },
			want:   want{status: 429, requests: 4, retried: 3, throttled: map[string]int{"": 4}},
		},
		{
			name: "service 429s past the retries",
			inject: func(s *riottest.Server) {
				s.Inject(riottest.Fault{Status: 429, LimitType: riottest.LimitService, RetryAfter: 1, Count: 10})
			},
			want: want{status: 429, requests: 4, retried: 3, throttled: map[string]int{"service": 4}},
		},
		{
			name:   "401",
			inject: func(s *riottest.Server) { s.InjectStatus(401, 5) },
			want:   want{err: ErrKeyRejected, requests: 1},
		},
		{
			name:   "403",
			inject: func(s *riottest.Server) { s.InjectStatus(403, 5) },
			want:   want{err: ErrKeyRejected, requests: 1},
		},
		{
			name:   "expired key",
			inject: func(s *riottest.Server) { s.ExpireKey() },
			want:   want{err: ErrKeyRejected, requests: 1},
		},
		{
			name: "wrong key",
			key:  "RGAPI-wrong",
			want: want{err: ErrKeyRejected, requests: 1},
		},
		{
			name:   "404 is an answer",
			inject: func(*riottest.Server) {},
			want:   want{status: 404, requests: 1},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := clockwork.NewFakeClockAt(t0)
			srv := newServer(t, riottest.WithClock(clk))
			puuid := srv.AddPlayer("Faulty", "KR1", "kr")
			if c.inject != nil {
				c.inject(srv)
			}
			rec := newRecorder()
			opts := []Option{WithBackoff(backoffBase, 8*backoffBase)}
			if c.maxRetries != 0 { // 0: the default, 3
				opts = append(opts, WithMaxRetries(c.maxRetries))
			}
			key := srv.Key()
			if c.key != "" {
				key = c.key
			}
			d := newTestDoerKey(t, srv, key, telemetry.Settings{Clock: clk, Observer: rec}, opts...)
			autoAdvance(t, clk, 10*time.Millisecond)

			start := clk.Now()
			resp, err := d.Do(spectatorRequest(t, context.Background(), puuid))
			waited := clk.Since(start)

			var se *StatusError
			switch {
			case c.want.err != nil:
				if !errors.Is(err, c.want.err) {
					t.Errorf("err = %v, want %v", err, c.want.err)
				}
			case c.want.status == 429 || c.want.status >= 500:
				if !errors.As(err, &se) || se.Status != c.want.status || se.Endpoint != EndpointSpectator || se.Route != "kr" {
					t.Errorf("err = %#v, want *StatusError %d for %s on kr", err, c.want.status, EndpointSpectator)
				}
			case err != nil:
				t.Errorf("err = %v, want status %d", err, c.want.status)
			case resp.StatusCode != c.want.status:
				t.Errorf("status %d, want %d", resp.StatusCode, c.want.status)
			}
			if got := srv.Stats().Requests; got != c.want.requests {
				t.Errorf("server saw %d requests, want %d", got, c.want.requests)
			}
			if got := rec.count(rec.retried, EndpointSpectator); got != c.want.retried {
				t.Errorf("retried %d times, want %d", got, c.want.retried)
			}
			for typ, n := range c.want.throttled {
				if got := rec.count(rec.throttled, typ); got != n {
					t.Errorf("throttled(%q) reported %d times, want %d", typ, got, n)
				}
			}
			if waited < c.want.minWait {
				t.Errorf("took %v of simulated time, want at least %v", waited, c.want.minWait)
			}
		})
	}
}

// backoffBase is the Doer's backoff base in the fault tests.
const backoffBase = 200 * time.Millisecond

func spectatorRequest(tb testing.TB, ctx context.Context, puuid string) *http.Request {
	tb.Helper()
	req, err := http.NewRequestWithContext(WithPlatform(ctx, "kr"), http.MethodGet, "https://riot.invalid/lol/spectator/v5/active-games/by-summoner/"+puuid, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

// TestDoerUntypedBackoffWaits checks on a stopped clock that an untyped 429
// is not retried until the backoff has passed.
func TestDoerUntypedBackoffWaits(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	srv := newServer(t, riottest.WithClock(clk))
	puuid := srv.AddPlayer("Throttled", "KR1", "kr")
	srv.InjectStatus(429, 1)
	d := newTestDoer(t, srv, telemetry.Settings{Clock: clk}, WithBackoff(time.Second, 0))

	type result struct {
		resp *http.Response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := d.Do(spectatorRequest(t, context.Background(), puuid))
		done <- result{resp, err}
	}()
	if err := blockUntil(clk, 1); err != nil {
		t.Fatal(err)
	}
	// The first retry waits at least the backoff base (Riot asks for ≥ 1 s after
	// an untyped 429) and less than 1.5 times it.
	clk.Advance(time.Second - time.Millisecond)
	if got := srv.Stats().Requests; got != 1 {
		t.Fatalf("%d requests before the backoff passed, want 1", got)
	}
	clk.Advance(time.Second/2 + time.Millisecond)
	r := <-done
	if r.err != nil || r.resp.StatusCode != http.StatusNotFound {
		t.Fatalf("after the backoff: %v, want the 404", r.err)
	}
	if got := srv.Stats().Requests; got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
}

// TestDoerCancel checks that cancelling the context ends a rate-limit wait
// and a backoff without another request.
func TestDoerCancel(t *testing.T) {
	cases := []struct {
		name  string
		setup func(*riottest.Server, *Doer, string)
	}{
		{
			name: "rate limit wait",
			setup: func(s *riottest.Server, d *Doer, puuid string) {
				// The only request of the 1:1 window.
				if _, err := d.Do(spectatorRequest(t, context.Background(), puuid)); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name:  "backoff",
			setup: func(s *riottest.Server, _ *Doer, _ string) { s.InjectStatus(503, 1) },
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := clockwork.NewFakeClockAt(t0)
			srv := newServer(t, riottest.WithClock(clk), riottest.WithAppLimits(riottest.Limit{Count: 1, Seconds: 1}))
			puuid := srv.AddPlayer("Waiting", "KR1", "kr")
			set := telemetry.Settings{Clock: clk}
			d := newTestDoer(t, srv, set, WithLimiter(ratelimit.New(set, ratelimit.WithAppDefaults([]riot.Limit{{Count: 1, Window: time.Second}}))))
			c.setup(srv, d, puuid)
			before := srv.Stats().Requests

			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := d.Do(spectatorRequest(t, ctx, puuid))
				done <- err
			}()
			if err := blockUntil(clk, 1); err != nil {
				t.Fatal(err)
			}
			sent := srv.Stats().Requests - before
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if got := srv.Stats().Requests - before; got != sent {
				t.Errorf("%d requests after cancel, want %d", got, sent)
			}
		})
	}
}

// countingTransport counts the TCP connections it opens.
func countingTransport(dials *atomic.Int32) *http.Transport {
	var dialer net.Dialer
	return &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dialer.DialContext(ctx, network, addr)
	}}
}

// TestDoerReusesConnection checks that bodies are read and closed: golio
// never reads the body of an error answer nor closes any, which costs a TCP
// connection per idle poll.
func TestDoerReusesConnection(t *testing.T) {
	srv := newServer(t, riottest.WithAppLimits(riottest.Limit{Count: 1000, Seconds: 1}))
	puuid := srv.AddPlayer("Idle", "KR1", "kr")
	var dials atomic.Int32
	tr := countingTransport(&dials)
	t.Cleanup(tr.CloseIdleConnections)
	client := NewClient(newTestDoer(t, srv, telemetry.Settings{}, WithHTTPClient(&http.Client{Transport: tr})))
	ctx := context.Background()
	for i := range 50 {
		if _, err := client.ActiveGame(ctx, "kr", puuid); !errors.Is(err, ErrNotFound) {
			t.Fatalf("poll %d: %v, want ErrNotFound", i, err)
		}
	}
	// Through golio: 404s it drops unread, and lists it decodes.
	for i := range 50 {
		if _, err := client.PUUID(ctx, "kr", fmt.Sprintf("Nobody%d#KR1", i)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown player %d: %v, want ErrNotFound", i, err)
		}
	}
	for range 5 {
		if _, err := client.MatchIDs(ctx, "kr", puuid, time.Time{}, 20); err != nil {
			t.Fatal(err)
		}
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d connections for 105 sequential requests, want 1", n)
	}
	if got := srv.Stats().Requests; got != 105 {
		t.Errorf("%d requests, want 105", got)
	}
}

// TestDoerKeyNeverLeaks runs every failure path with a debug logger and
// checks that the key shows up in no error and no log line.
func TestDoerKeyNeverLeaks(t *testing.T) {
	const key = "RGAPI-4f1b9c2e-secret-key-never-print"
	clk := clockwork.NewFakeClockAt(t0)
	srv := newServer(t, riottest.WithClock(clk), riottest.WithKey(key))
	puuid := srv.AddPlayer("Leaky", "KR1", "kr")
	autoAdvance(t, clk, 10*time.Millisecond)

	// A port nothing listens on, for transport errors.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/{route}"
	ln.Close()

	var logs bridgetest.SyncBuffer
	set := telemetry.Settings{Clock: clk, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	fast := WithBackoff(10*time.Millisecond, 0)
	live := NewClient(newTestDoerKey(t, srv, key, set, fast))
	wrong := NewClient(newTestDoerKey(t, srv, key+"-typo", set, fast))
	down := NewClient(newTestDoerKey(t, srv, key, set, fast, WithBaseURL(dead), WithMaxRetries(1)))

	steps := []struct {
		name string
		call func() error
	}{
		{"transport error", func() error { _, err := down.ActiveGame(context.Background(), "kr", puuid); return err }},
		{"transport error via golio", func() error { _, err := down.PUUID(context.Background(), "kr", "Leaky#KR1"); return err }},
		{"wrong key", func() error { _, err := wrong.PUUID(context.Background(), "kr", "Leaky#KR1"); return err }},
		{"404", func() error { _, err := live.ActiveGame(context.Background(), "kr", puuid); return err }},
		{"500s", func() error {
			srv.InjectStatus(500, 10)
			_, err := live.Match(context.Background(), "KR_1")
			return err
		}},
		{"untyped 429s", func() error {
			srv.InjectStatus(429, 10)
			_, err := live.MatchIDs(context.Background(), "kr", puuid, time.Time{}, 20)
			return err
		}},
		{"service 429", func() error {
			srv.Inject(riottest.Fault{Status: 429, LimitType: riottest.LimitService, RetryAfter: 1, Count: 10})
			_, err := live.Timeline(context.Background(), "KR_1")
			return err
		}},
		{"unsupported endpoint", func() error {
			req, _ := http.NewRequest(http.MethodGet, "https://kr.api.riotgames.com/lol/summoner/v4/summoners/me", nil)
			_, err := newTestDoerKey(t, srv, key, set, fast).Do(req)
			return err
		}},
		{"expired key", func() error {
			srv.ExpireKey()
			_, err := live.PUUID(context.Background(), "kr", "Leaky#KR1")
			return err
		}},
	}
	// A failure shows where the key was, never the key itself.
	redact := func(s string) string { return strings.ReplaceAll(s, key, "<the key>") }
	for _, s := range steps {
		err := s.call()
		if err == nil {
			t.Errorf("%s: no error", s.name)
			continue
		}
		if strings.Contains(err.Error(), key) || strings.Contains(fmt.Sprintf("%+v", err), key) {
			t.Errorf("%s: the key is in the error: %s", s.name, redact(fmt.Sprintf("%+v", err)))
		}
	}
	logged := logs.String()
	if len(logged) == 0 {
		t.Error("nothing logged; the check would pass vacuously")
	}
	if strings.Contains(logged, key) {
		t.Errorf("the key is in the logs:\n%s", redact(logged))
	}
}

func TestNewDoerErrors(t *testing.T) {
	cases := []struct {
		name string
		key  string
		opts []Option
		want string
	}{
		{"no key", "", nil, "riot api: no key"},
		{"no route placeholder", "k", []Option{WithBaseURL("http://127.0.0.1:1")}, "must contain {route}"},
		{"not http", "k", []Option{WithBaseURL("ftp://{route}.example")}, "must be an http(s) url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewDoer(c.key, telemetry.Settings{}, c.opts...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

package ratelimit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/riot/ratelimit"
	"github.com/riftbridge/riftbridge/riot/riottest"
	"github.com/riftbridge/riftbridge/state"
	"github.com/riftbridge/riftbridge/state/redistest"
)

// waitCtx bounds a Wait that is expected to succeed, possibly after a window
// resets.
func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// ones is a count header for limits with one request in every window.
func ones(limits string) string {
	var parts []string
	for _, l := range strings.Split(limits, ",") {
		_, secs, _ := strings.Cut(l, ":")
		parts = append(parts, "1:"+secs)
	}
	return strings.Join(parts, ",")
}

// learnShared sends the probe of route+method through r and answers it with
// app and method limits, leaving one request counted in every window.
func learnShared(t *testing.T, r ratelimit.Reserver, route, method, app, meth string) {
	t.Helper()
	p, err := r.Wait(waitCtx(t), route, method)
	if err != nil {
		t.Fatalf("probe %s %s: %v", route, method, err)
	}
	if err := p.Done(http.StatusOK, limitHeaders(app, ones(app), meth, ones(meth))); err != nil {
		t.Fatalf("probe %s %s: %v", route, method, err)
	}
}

// admittedAcross is admitted, taking turns among rs.
func admittedAcross(t *testing.T, rs []*ratelimit.Shared, route, method string, max int) int {
	t.Helper()
	for n := range max {
		if _, ok := admit(t, rs[n%len(rs)], route, method); !ok {
			return n
		}
	}
	return max
}

func TestSharedFillsWindowsThenBlocksUntilReset(t *testing.T) {
	url := redisURL(t)
	type step struct {
		method string
		pass   int           // requests let through at once before one is held back
		reset  bool          // instead: a Wait succeeds once the window resets
		longer time.Duration // instead: a Wait with this deadline fails fast
	}
	tests := []struct {
		name        string
		app, method string
		learn       []string // methods probed first, each counted once
		steps       []step
	}{
		{
			name: "one window", app: "3:1", method: "100:1", learn: []string{"a"},
			steps: []step{{method: "a", pass: 2}, {method: "a", reset: true}, {method: "a", pass: 2}},
		},
		{
			name: "the longest full window binds", app: "3:1,5:3", method: "100:1", learn: []string{"a"},
			steps: []step{
				{method: "a", pass: 2},
				{method: "a", reset: true},
				{method: "a", pass: 1},
				// The 3 s window holds 5 and has about 2 s left.
				{method: "a", longer: 1500 * time.Millisecond},
			},
		},
		{
			name: "the method limit binds its method only", app: "20:1", method: "2:1", learn: []string{"a", "b"},
			steps: []step{{method: "a", pass: 1}, {method: "b", pass: 1}},
		},
		{
			name: "the application limit binds every method", app: "4:1", method: "100:1", learn: []string{"a", "b"},
			steps: []step{{method: "a", pass: 2}, {method: "b", pass: 0}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := replicas(t, url, 3, ratelimit.WithAppDefaults(mustLimits(t, tc.app)))
			for i, m := range tc.learn {
				learnShared(t, rs[i%len(rs)], "kr", m, tc.app, tc.method)
			}
			for i, st := range tc.steps {
				r := rs[i%len(rs)]
				switch {
				case st.reset:
					if _, err := r.Wait(waitCtx(t), "kr", st.method); err != nil {
						t.Fatalf("step %d: waiting for the reset: %v", i, err)
					}
				case st.longer > 0:
					ctx, cancel := context.WithTimeout(t.Context(), st.longer)
					_, err := r.Wait(ctx, "kr", st.method)
					failedFast := ctx.Err() == nil
					cancel()
					if !errors.Is(err, context.DeadlineExceeded) || !failedFast {
						t.Fatalf("step %d: Wait with a %v deadline = %v, failed fast %t; want a fast context.DeadlineExceeded", i, st.longer, err, failedFast)
					}
				default:
					if got := admittedAcross(t, rs, "kr", st.method, st.pass+1); got != st.pass {
						t.Fatalf("step %d: %d requests of %s through, want %d", i, got, st.method, st.pass)
					}
				}
			}
		})
	}
}

func TestSharedLimitsFromHeaders(t *testing.T) {
	url := redisURL(t)
	tests := []struct {
		name     string
		first    http.Header // the probe's answer
		inFlight int         // requests reserved after the probe, still unanswered
		second   http.Header // the answer to the first of those
		wantMore int         // further requests let through at once
	}{
		{
			name:     "lowered limit",
			first:    limitHeaders("3:1", "1:1", "100:1", "1:1"),
			wantMore: 2,
		},
		{
			// The new window starts from Riot's count plus the requests in
			// flight on every replica: 2 + 3 of 6.
			name:     "new window counts requests in flight",
			first:    limitHeaders("20:1", "1:1", "100:1", "1:1"),
			inFlight: 4,
			second:   limitHeaders("20:1,6:10", "2:1,2:10", "100:1", "2:1"),
			wantMore: 1,
		},
		{
			name:     "dropped window no longer binds",
			first:    limitHeaders("20:1,2:120", "1:1,1:120", "100:1", "1:1"),
			inFlight: 1,
			second:   limitHeaders("20:1", "2:1", "100:1", "2:1"),
			wantMore: 18,
		},
		{
			// Another client on the key used 17 more than the 2 we sent.
			name:     "higher count is adopted",
			first:    limitHeaders("20:1,100:120", "1:1,1:120", "1000:10", "1:10"),
			inFlight: 1,
			second:   limitHeaders("20:1,100:120", "19:1,19:120", "1000:10", "2:10"),
			wantMore: 1,
		},
		{
			name:     "lower count is ignored",
			first:    limitHeaders("20:1,100:120", "1:1,1:120", "1000:10", "1:10"),
			inFlight: 1,
			second:   limitHeaders("20:1,100:120", "1:1,1:120", "1000:10", "2:10"),
			wantMore: 18,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Only the first replica ever sees a header.
			rs := replicas(t, url, 3)
			probe, err := rs[0].Wait(waitCtx(t), "kr", "match")
			if err != nil {
				t.Fatal(err)
			}
			if err := probe.Done(http.StatusOK, tc.first); err != nil {
				t.Fatal(err)
			}
			var inFlight []ratelimit.Permit
			for i := range tc.inFlight {
				p, err := rs[1+i%2].Wait(waitCtx(t), "kr", "match")
				if err != nil {
					t.Fatal(err)
				}
				inFlight = append(inFlight, p)
			}
			if len(inFlight) > 0 {
				if err := inFlight[0].Done(http.StatusOK, tc.second); err != nil {
					t.Fatal(err)
				}
			}
			if got := admittedAcross(t, rs[1:], "kr", "match", 25); got != tc.wantMore {
				t.Errorf("%d more requests through in the window, want %d", got, tc.wantMore)
			}
		})
	}

	t.Run("late answer from a reset window is ignored", func(t *testing.T) {
		t.Parallel()
		rs := replicas(t, url, 2)
		learnShared(t, rs[0], "kr", "match", "20:1,100:120", "1000:10")
		late, err := rs[0].Wait(waitCtx(t), "kr", "match")
		if err != nil {
			t.Fatal(err)
		}
		if got := admittedAcross(t, rs, "kr", "match", 18); got != 18 {
			t.Fatalf("%d requests through, want 18 to fill 20:1", got)
		}
		// Opens the next 1 s window.
		if _, err := rs[1].Wait(waitCtx(t), "kr", "match"); err != nil {
			t.Fatal(err)
		}
		if err := late.Done(http.StatusOK, limitHeaders("20:1,100:120", "20:1,21:120", "1000:10", "21:10")); err != nil {
			t.Fatal(err)
		}
		if got := admittedAcross(t, rs, "kr", "match", 25); got != 19 {
			t.Errorf("%d more requests through in the new window, want 19", got)
		}
	})
}

func TestSharedThrottled(t *testing.T) {
	url := redisURL(t)
	tests := []struct {
		name      string
		header    http.Header
		wantErr   ratelimit.ThrottleError
		wantBlock []string // "route method" held back on the other replica
		waitOut   bool     // then a Wait passes once Retry-After has run out
	}{
		{
			name:      "application blocks every method of the route",
			header:    header("X-Rate-Limit-Type", "application", "Retry-After", "5"),
			wantErr:   ratelimit.ThrottleError{Route: "kr", Method: "a", Type: "application", RetryAfter: 5 * time.Second, Paced: true},
			wantBlock: []string{"kr a", "kr b"},
		},
		{
			name:      "method blocks that method",
			header:    header("X-Rate-Limit-Type", "method", "Retry-After", "7"),
			wantErr:   ratelimit.ThrottleError{Route: "kr", Method: "a", Type: "method", RetryAfter: 7 * time.Second, Paced: true},
			wantBlock: []string{"kr a"},
		},
		{
			name:      "service blocks that method until Retry-After",
			header:    header("X-Rate-Limit-Type", "service", "Retry-After", "1"),
			wantErr:   ratelimit.ThrottleError{Route: "kr", Method: "a", Type: "service", RetryAfter: time.Second, Paced: true},
			wantBlock: []string{"kr a"},
			waitOut:   true,
		},
		{
			name:      "untyped with Retry-After blocks that method",
			header:    header("Retry-After", "2"),
			wantErr:   ratelimit.ThrottleError{Route: "kr", Method: "a", RetryAfter: 2 * time.Second, Paced: true},
			wantBlock: []string{"kr a"},
		},
		{
			name:      "a Retry-After beyond Riot's longest window is cut to MaxRetryAfter",
			header:    header("X-Rate-Limit-Type", "method", "Retry-After", "999999"),
			wantErr:   ratelimit.ThrottleError{Route: "kr", Method: "a", Type: "method", RetryAfter: ratelimit.MaxRetryAfter, Asked: 24 * time.Hour, Paced: true},
			wantBlock: []string{"kr a"},
		},
		{
			name:    "backend throttling leaves the backoff to the caller",
			header:  http.Header{},
			wantErr: ratelimit.ThrottleError{Route: "kr", Method: "a"},
		},
		{
			name:    "unreadable Retry-After leaves the backoff to the caller",
			header:  header("X-Rate-Limit-Type", "method", "Retry-After", "soon"),
			wantErr: ratelimit.ThrottleError{Route: "kr", Method: "a", Type: "method"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := replicas(t, url, 2)
			targets := []string{"kr a", "kr b", "euw1 a"}
			for _, target := range targets {
				route, method, _ := strings.Cut(target, " ")
				learnShared(t, rs[0], route, method, "20:1,100:120", "1000:10")
			}
			p, err := rs[0].Wait(waitCtx(t), "kr", "a")
			if err != nil {
				t.Fatal(err)
			}
			err = p.Done(http.StatusTooManyRequests, tc.header)
			var te *ratelimit.ThrottleError
			if !errors.As(err, &te) || *te != tc.wantErr {
				t.Fatalf("Done(429) = %v, want %+v", err, tc.wantErr)
			}
			for _, target := range targets {
				route, method, _ := strings.Cut(target, " ")
				_, through := admit(t, rs[1], route, method)
				if want := !slices.Contains(tc.wantBlock, target); through != want {
					t.Errorf("other replica: %s let through = %t, want %t", target, through, want)
				}
			}
			if tc.waitOut {
				if _, err := rs[1].Wait(waitCtx(t), "kr", "a"); err != nil {
					t.Errorf("after Retry-After: %v", err)
				}
			}
		})
	}
}

func TestSharedProbe(t *testing.T) {
	url := redisURL(t)
	tests := []struct {
		name string
		end  func(ratelimit.Permit)
	}{
		{name: "cancel after a transport error", end: func(p ratelimit.Permit) { p.Cancel() }},
		{name: "answer without method headers", end: func(p ratelimit.Permit) { _ = p.Done(http.StatusBadGateway, nil) }},
	}
	for _, tc := range tests {
		t.Run(tc.name+" passes the probe on", func(t *testing.T) {
			t.Parallel()
			rs := replicas(t, url, 2)
			probe, err := rs[0].Wait(waitCtx(t), "kr", "match")
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range rs {
				if _, ok := admit(t, r, "kr", "match"); ok {
					t.Fatalf("replica %d: a request passed an unanswered probe", i)
				}
			}
			// A waiter on the same replica is woken when the probe ends.
			next := make(chan error, 1)
			go func() {
				p, err := rs[0].Wait(waitCtx(t), "kr", "match")
				if err == nil {
					p.Cancel()
				}
				next <- err
			}()
			tc.end(probe)
			if err := <-next; err != nil {
				t.Fatalf("waiter after the probe ended: %v", err)
			}
			// That waiter probed and cancelled; the other replica probes next.
			second, ok := admit(t, rs[1], "kr", "match")
			if !ok {
				t.Fatal("the other replica got no probe after two ended")
			}
			if _, ok := admit(t, rs[0], "kr", "match"); ok {
				t.Fatal("a request passed the other replica's probe")
			}
			if err := second.Done(http.StatusOK, limitHeaders("20:1,100:120", "3:1,3:120", "1000:10", "1:10")); err != nil {
				t.Fatal(err)
			}
			// Three probes counted: 17 left in the 1 s window.
			if got := admittedAcross(t, rs, "kr", "match", 20); got != 17 {
				t.Errorf("%d requests through once the limits are known, want 17", got)
			}
		})
	}
}

func TestSharedWaitContext(t *testing.T) {
	url := redisURL(t)
	tests := []struct {
		name    string
		blocker string // "window": kr's 2:1 window is full; "probe": a probe is out; "": room
		ctx     func(context.Context) (context.Context, context.CancelFunc)
		cancel  time.Duration // cancel the context this long after the Wait starts
		wantErr error
	}{
		{
			name: "cancel while waiting for a window", blocker: "window", cancel: 50 * time.Millisecond,
			ctx: context.WithCancel, wantErr: context.Canceled,
		},
		{
			name: "cancel while waiting for a probe", blocker: "probe", cancel: 50 * time.Millisecond,
			ctx: context.WithCancel, wantErr: context.Canceled,
		},
		{
			name: "deadline before the window resets fails fast", blocker: "window",
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, 500*time.Millisecond)
			},
			wantErr: context.DeadlineExceeded,
		},
		{
			name: "already cancelled takes no slot even with room",
			ctx:  context.WithCancel, wantErr: context.Canceled,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := replicas(t, url, 2, ratelimit.WithAppDefaults(mustLimits(t, "2:1")))
			switch tc.blocker {
			case "window", "":
				learnShared(t, rs[0], "kr", "match", "2:1", "100:1")
				if tc.blocker == "window" {
					if _, ok := admit(t, rs[0], "kr", "match"); !ok {
						t.Fatal("the second request of 2:1 was held back")
					}
				}
			case "probe":
				if _, err := rs[0].Wait(waitCtx(t), "kr", "match"); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := tc.ctx(t.Context())
			defer cancel()
			switch {
			case tc.cancel > 0:
				stop := time.AfterFunc(tc.cancel, cancel)
				defer stop.Stop()
			case tc.blocker == "":
				cancel()
			}
			if _, err := rs[1].Wait(ctx, "kr", "match"); !errors.Is(err, tc.wantErr) {
				t.Fatalf("Wait() = %v, want %v", err, tc.wantErr)
			}
			if tc.blocker == "" {
				if got := admittedAcross(t, rs, "kr", "match", 2); got != 1 {
					t.Errorf("%d requests through after the cancelled wait, want the 1 left", got)
				}
			}
		})
	}
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestSharedRedisUnavailable(t *testing.T) {
	t.Parallel() // each call to a stopped Redis takes a while: go-redis retries
	srv := redistest.Start(t, redistest.WithPassword("s3cret"))
	var logs syncBuffer
	s := replicas(t, srv.URL, 1, ratelimit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))[0]
	learnShared(t, s, "kr", "match", "20:1,100:120", "1000:10")
	held, err := s.Wait(waitCtx(t), "kr", "match")
	if err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	addr := state.RedactURL(srv.URL)
	_, err = s.Wait(waitCtx(t), "kr", "match")
	if !errors.Is(err, ratelimit.ErrUnavailable) || !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Wait() without redis = %v, want ErrUnavailable naming %s without the password", err, addr)
	}
	// The Retry-After could not be stored, so no one holds the retry back.
	err = held.Done(http.StatusTooManyRequests, header("X-Rate-Limit-Type", "application", "Retry-After", "5"))
	var te *ratelimit.ThrottleError
	if !errors.As(err, &te) || te.Paced || !errors.Is(err, ratelimit.ErrUnavailable) {
		t.Errorf("Done(429) without redis = %v, want an unpaced ThrottleError and ErrUnavailable", err)
	}

	srv.Restart()
	flushRedis(t, srv.URL)
	// A fresh Redis has lost every count: the defaults and one probe again.
	learnShared(t, s, "kr", "match", "20:1,100:120", "1000:10")
	if got := admitted(t, s, "kr", "match", 25); got != 19 {
		t.Errorf("%d requests through after redis came back, want 19", got)
	}
	out := logs.String()
	if n := strings.Count(out, "cannot use redis"); n != 1 {
		t.Errorf("logged losing redis %d times, want once:\n%s", n, out)
	}
	if n := strings.Count(out, "reached redis again"); n != 1 {
		t.Errorf("logged regaining redis %d times, want once:\n%s", n, out)
	}
}

func TestSharedRedisAddressWithoutPassword(t *testing.T) {
	tests := []struct {
		name     string
		url      string
		wantAddr string // in Wait's error
		wantErr  string // in NewShared's error instead
	}{
		{name: "password only", url: "redis://:s3cret@127.0.0.1:1/0", wantAddr: "redis://127.0.0.1:1/0"},
		{name: "user and password", url: "redis://ops:s3cret@127.0.0.1:1/2", wantAddr: "redis://ops@127.0.0.1:1/2"},
		{name: "unix socket", url: "unix://:s3cret@/nonexistent/redis.sock", wantAddr: "unix:///nonexistent/redis.sock"},
		{name: "bad port", url: "redis://:s3cret@127.0.0.1:port/0", wantErr: `invalid port ":port"`},
		{name: "bad scheme", url: "http://:s3cret@127.0.0.1:1", wantErr: "http://127.0.0.1:1: redis: invalid URL scheme: http"},
		{name: "bad database", url: "redis://:s3cret@127.0.0.1:1/x", wantErr: `redis://127.0.0.1:1/x: redis: invalid database number: "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := ratelimit.NewShared(tc.url)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("NewShared() = %v, want an error with %q and without the password", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_, err = s.Wait(waitCtx(t), "kr", "match")
			if !errors.Is(err, ratelimit.ErrUnavailable) || !strings.Contains(err.Error(), tc.wantAddr) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Wait() = %v, want ErrUnavailable naming %s without the password", err, tc.wantAddr)
			}
		})
	}
}

// hammerResult is what a riottest server saw from replicas sending as fast as
// their limiters let them.
type hammerResult struct {
	accepted  int                        // requests Riot counted and served
	ideal     int                        // the most Riot's windows allow between the first and last
	limited   map[riottest.LimitType]int // 429s
	exceeded  []riottest.WindowStat      // windows that went past their limit
	throttled int                        // ThrottleErrors Done returned
}

func (r hammerResult) share() float64 { return float64(r.accepted) / float64(r.ideal) }

// hammerLimits are tight application limits: the 1 s window binds within
// the 3 s one until that fills.
var hammerLimits = []riottest.Limit{{Count: 10, Seconds: 1}, {Count: 30, Seconds: 3}}

// hammer runs replicas Shared limiters, each with workers goroutines sending
// spectator requests to one riottest server for run, from a cold start on
// the development key's defaults.
func hammer(tb testing.TB, url string, replicaCount, workers int, run time.Duration) hammerResult {
	tb.Helper()
	srv := riottest.NewServer(riottest.WithAppLimits(hammerLimits...))
	defer srv.Close()
	puuid := srv.AddPlayer("Hide on bush", "KR1", "kr")
	target := strings.ReplaceAll(srv.BaseURL(), "{route}", "kr") + "/lol/spectator/v5/active-games/by-summoner/" + puuid
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: replicaCount * workers}}
	defer hc.CloseIdleConnections()

	// Workers stop when their limiter says the next slot is past the end.
	ctx, cancel := context.WithTimeout(context.Background(), run)
	defer cancel()
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		throttled int
	)
	for _, s := range replicas(tb, url, replicaCount) {
		for range workers {
			wg.Go(func() {
				for {
					p, err := s.Wait(ctx, "kr", string(riottest.EndpointSpectator))
					if err != nil {
						if !errors.Is(err, context.DeadlineExceeded) {
							tb.Error(err)
						}
						return
					}
					req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
					if err != nil {
						tb.Error(err)
						return
					}
					req.Header.Set("X-Riot-Token", srv.Key())
					resp, err := hc.Do(req)
					if err != nil {
						p.Cancel()
						return
					}
					_ = resp.Body.Close()
					var te *ratelimit.ThrottleError
					switch err := p.Done(resp.StatusCode, resp.Header); {
					case errors.As(err, &te):
						mu.Lock()
						throttled++
						mu.Unlock()
					case err != nil:
						tb.Error(err)
					}
				}
			})
		}
	}
	wg.Wait()
	st := srv.Stats()
	kr := st.Routes["kr"]
	return hammerResult{
		accepted:  kr.Accepted,
		ideal:     ideal(hammerLimits, kr.Last.Sub(kr.First)),
		limited:   st.RateLimited,
		exceeded:  st.Exceeded(),
		throttled: throttled,
	}
}

// ideal is the most requests Riot's fixed windows accept within span of the
// first: sending each as soon as every window has room, which is the best a
// client can do since a window opens at its first request.
func ideal(limits []riottest.Limit, span time.Duration) int {
	type window struct {
		start time.Duration
		count int
	}
	windows := make([]window, len(limits))
	length := func(i int) time.Duration { return time.Duration(limits[i].Seconds) * time.Second }
	sent := 0
	for now := time.Duration(0); now <= span; {
		next := now
		for i := range windows {
			w := &windows[i]
			if w.count > 0 && now >= w.start+length(i) {
				*w = window{}
			}
			if w.count >= limits[i].Count {
				next = max(next, w.start+length(i))
			}
		}
		if next > now {
			now = next
			continue
		}
		for i := range windows {
			if windows[i].count == 0 {
				windows[i].start = now
			}
			windows[i].count++
		}
		sent++
	}
	return sent
}

func TestIdeal(t *testing.T) {
	tests := []struct {
		span time.Duration
		want int
	}{
		{0, 10},
		{999 * time.Millisecond, 10},
		{time.Second, 20},
		{2 * time.Second, 30},
		{2999 * time.Millisecond, 30},
		{3 * time.Second, 40},
		{4 * time.Second, 50},
	}
	for _, tc := range tests {
		if got := ideal(hammerLimits, tc.span); got != tc.want {
			t.Errorf("ideal(10:1,30:3, %v) = %d, want %d", tc.span, got, tc.want)
		}
	}
}

// TestSharedReplicasShareOneBudget runs three replicas against one Riot key
// for 3.5 s of real time. It asserts counts only: no 429, no window past its
// limit, and at least 90 % of what Riot's windows allow.
func TestSharedReplicasShareOneBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 3.5 s of real time")
	}
	res := hammer(t, redisURL(t), 3, 4, 3500*time.Millisecond)
	t.Logf("accepted %d of %d (%.2f), 429s %v", res.accepted, res.ideal, res.share(), res.limited)
	if n := res.limited[riottest.LimitApplication] + res.limited[riottest.LimitMethod]; n != 0 || res.throttled != 0 {
		t.Errorf("%d application or method 429s, %d ThrottleErrors: %v", n, res.throttled, res.limited)
	}
	if len(res.exceeded) != 0 {
		t.Errorf("windows went past their limit: %+v", res.exceeded)
	}
	if res.share() < 0.9 {
		t.Errorf("accepted %d of the %d Riot allows between the first and last request, want ≥ 90 %%", res.accepted, res.ideal)
	}
}

func ExampleNewShared() {
	// Every replica opens the same Redis with the same prefix, one per API key.
	limiter, err := ratelimit.NewShared("redis://:password@redis.internal:6379/0",
		ratelimit.WithPrefix("riftbridge:ratelimit:production:"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer limiter.Close()

	p, err := limiter.Wait(context.Background(), "asia", "match-v5.getMatch")
	if errors.Is(err, ratelimit.ErrUnavailable) {
		fmt.Println(err) // count it and send nothing: the budget is unknown
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Cancel() // no-op once Done has run
	// Send the request, then p.Done(resp.StatusCode, resp.Header).
}

package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot/ratelimit"
	"github.com/riftbridge/riftbridge/riot/riottest"
	"github.com/riftbridge/riftbridge/state/redisconn"
	"github.com/riftbridge/riftbridge/state/redistest"
)

func TestSharedRedisUnavailable(t *testing.T) {
	t.Parallel() // each call to a stopped Redis takes a while: go-redis retries
	srv := redistest.Start(t, redistest.WithPassword("s3cret"))
	var logs bridgetest.SyncBuffer
	s := replicasWith(t, srv.URL, 1, telemetry.Settings{Logger: slog.New(slog.NewTextHandler(&logs, nil))})[0]
	learn(t, s, "kr", "match", "20:1,100:120", "1000:10")
	held, err := s.Wait(waitCtx(t), "kr", "match")
	if err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	addr := redisconn.Redact(srv.URL)
	_, err = s.Wait(waitCtx(t), "kr", "match")
	if !errors.Is(err, redisconn.ErrUnavailable) || !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Wait() without redis = %v, want ErrUnavailable naming %s without the password", err, addr)
	}
	// The Retry-After could not be stored, so no one holds the retry back.
	err = held.Done(http.StatusTooManyRequests, header("X-Rate-Limit-Type", "application", "Retry-After", "5"))
	var te *ratelimit.ThrottleError
	if !errors.As(err, &te) || te.Paced || !errors.Is(err, redisconn.ErrUnavailable) {
		t.Errorf("Done(429) without redis = %v, want an unpaced ThrottleError and ErrUnavailable", err)
	}

	srv.Restart()
	flushRedis(t, srv.URL)
	// A fresh Redis has lost every count: the defaults and one probe again.
	learn(t, s, "kr", "match", "20:1,100:120", "1000:10")
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
		wantErr  string // in redisconn.Open's error instead
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
			conn, err := redisconn.Open(tc.url)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("redisconn.Open() = %v, want an error with %q and without the password", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			s := ratelimit.NewShared(conn, telemetry.Settings{})
			_, err = s.Wait(waitCtx(t), "kr", "match")
			if !errors.Is(err, redisconn.ErrUnavailable) || !strings.Contains(err.Error(), tc.wantAddr) || strings.Contains(err.Error(), "s3cret") {
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
	// Every replica opens the same Redis with the same prefix, one per API
	// key, and shares the connection with its state store.
	conn, err := redisconn.Open("redis://:password@redis.internal:6379/0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	limiter := ratelimit.NewShared(conn, telemetry.Settings{}, ratelimit.WithPrefix("riftbridge:ratelimit:production:"))

	p, err := limiter.Wait(context.Background(), "asia", "match-v5.getMatch")
	if errors.Is(err, redisconn.ErrUnavailable) {
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

package state

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/state/redisconn"
	"github.com/riftbridge/riftbridge/state/redistest"
)

func newRedis(t testing.TB, url string, opts ...RedisOption) *Redis {
	t.Helper()
	r := NewRedis(redistest.Conn(t, url), opts...)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// sharedRedis returns a store on the test Redis under a prefix of t's own.
func sharedRedis(t testing.TB) *Redis {
	url := redistest.URL(t)
	return newRedis(t, url, RedisPrefix(redistest.Prefix(t, url)))
}

// Three replicas, each its own client, race for the same matches: exactly
// one claims each. When the winner stops renewing, exactly one of the others
// takes over, from the winner's progress.
func TestRedisLeaseContention(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	owners := []string{"replica-a", "replica-b", "replica-c"}
	stores := make([]*Redis, len(owners))
	for i := range owners {
		stores[i] = newRedis(t, url, RedisPrefix(prefix))
	}
	const matches = 20
	// Long enough that no contender, however delayed, finds it expired in
	// the same race; short enough to wait out once.
	const ttl = time.Second

	// race has the contenders claim id at once and returns the winner, or -1.
	race := func(id string, wantNext int, contenders []int) (winner int) {
		t.Helper()
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			claimed = make([]bool, len(owners))
			nexts   = make([]int, len(owners))
			errs    = make([]error, len(owners))
		)
		for _, i := range contenders {
			wg.Go(func() {
				<-start
				nexts[i], claimed[i], errs[i] = stores[i].Claim(t.Context(), id, owners[i], ttl)
			})
		}
		close(start)
		wg.Wait()
		winner = -1
		for _, i := range contenders {
			if errs[i] != nil {
				t.Fatalf("%s: claim as %s: %v", id, owners[i], errs[i])
			}
			if !claimed[i] {
				continue
			}
			if winner >= 0 {
				t.Fatalf("%s: both %s and %s claimed it", id, owners[winner], owners[i])
			}
			if nexts[i] != wantNext {
				t.Fatalf("%s: %s resumes at %d, want %d", id, owners[i], nexts[i], wantNext)
			}
			winner = i
		}
		return winner
	}

	first := make([]int, matches)
	for m := range matches {
		id := fmt.Sprintf("KR_%d", m)
		if first[m] = race(id, 0, []int{0, 1, 2}); first[m] < 0 {
			t.Fatalf("%s: nobody claimed it", id)
		}
		mustProgress(t, stores[first[m]], id, owners[first[m]], 7)
	}
	// The first winners stop; once their leases expire, one other takes over.
	for m := range matches {
		id := fmt.Sprintf("KR_%d", m)
		others := slices.DeleteFunc([]int{0, 1, 2}, func(i int) bool { return i == first[m] })
		second := -1
		bridgetest.Eventually(t, id+" handed over", 10*time.Second, func() bool {
			second = race(id, 7, others)
			return second >= 0
		})
		if err := stores[first[m]].Progress(t.Context(), id, owners[first[m]], 8); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("%s: progress by the first winner: %v, want ErrLeaseLost", id, err)
		}
		mustFinish(t, stores[second], id, owners[second], Emitted)
	}
}

// A member is listed while its heartbeat lasts, and the players it owned
// move to the others when it expires or leaves.
func TestRedisMembership(t *testing.T) {
	r := sharedRedis(t)
	members := func() []string {
		t.Helper()
		m, err := r.Members(t.Context())
		if err != nil {
			t.Fatalf("members: %v", err)
		}
		return m
	}
	if got := members(); len(got) != 0 {
		t.Fatalf("members = %v, want none", got)
	}
	for _, m := range []string{"c", "a", "b"} {
		if err := r.Heartbeat(t.Context(), m, time.Hour); err != nil {
			t.Fatalf("heartbeat %s: %v", m, err)
		}
	}
	if err := r.Heartbeat(t.Context(), "d", 50*time.Millisecond); err != nil {
		t.Fatalf("heartbeat d: %v", err)
	}
	if got := members(); !slices.Equal(got, []string{"a", "b", "c", "d"}) && !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("members = %v, want a b c (and d until it expires)", got)
	}
	bridgetest.Eventually(t, "d expired", 10*time.Second, func() bool { return slices.Equal(members(), []string{"a", "b", "c"}) })

	players := make([]string, 300)
	for i := range players {
		players[i] = fmt.Sprintf("player-%d#KR1", i)
	}
	before := map[string]string{}
	for _, p := range players {
		before[p] = Owner(members(), p)
	}
	if err := r.Leave(t.Context(), "b"); err != nil {
		t.Fatalf("leave: %v", err)
	}
	if got := members(); !slices.Equal(got, []string{"a", "c"}) {
		t.Fatalf("members after b left = %v, want a c", got)
	}
	after := members()
	for _, p := range players {
		if o := Owner(after, p); before[p] != "b" && o != before[p] {
			t.Errorf("%s moved from %s to %s when b left", p, before[p], o)
		}
	}

	for _, tc := range []struct {
		member string
		ttl    time.Duration
	}{{"", time.Second}, {"a", 0}} {
		if err := r.Heartbeat(t.Context(), tc.member, tc.ttl); err == nil {
			t.Errorf("heartbeat(%q, %v) succeeded", tc.member, tc.ttl)
		}
	}
}

// While Redis is down every call fails with ErrUnavailable, naming the URL
// without its password; when it is back, on the same clients, nothing is
// emitted twice: finished matches stay finished, a live lease still holds,
// and an expired one hands over from the recorded frame.
func TestRedisDownAndBack(t *testing.T) {
	const password = "s3cret-pw"
	srv := redistest.Start(t, redistest.WithPassword(password))
	logs := captureRedisLogs(t)
	// Without go-redis's retries a call fails after one round of dials
	// (about 0.4 s) instead of four; the outcome is the same.
	a := newRedis(t, srv.URL+"?max_retries=-1", RedisPrefix("rb:"))
	b := newRedis(t, srv.URL, RedisPrefix("rb:"))
	safeURL := redisconn.Redact(srv.URL)
	if strings.Contains(safeURL, password) {
		t.Fatalf("redisconn.Redact(%q) = %q, still with the password", srv.URL, safeURL)
	}

	wantClaim(t, a, "KR_done", "a", long, 0, true)
	mustProgress(t, a, "KR_done", "a", 30)
	mustFinish(t, a, "KR_done", "a", Emitted)
	wantClaim(t, a, "KR_live", "a", long, 0, true)
	mustProgress(t, a, "KR_live", "a", 3)
	wantClaim(t, a, "KR_expiring", "a", 200*time.Millisecond, 0, true)
	mustProgress(t, a, "KR_expiring", "a", 5)

	srv.Stop()
	calls := map[string]func(s *Redis) error{
		"claim":      func(s *Redis) error { _, _, err := s.Claim(t.Context(), "KR_new", "b", long); return err },
		"progress":   func(s *Redis) error { return s.Progress(t.Context(), "KR_live", "a", 4) },
		"release":    func(s *Redis) error { return s.Release(t.Context(), "KR_live", "a") },
		"finish":     func(s *Redis) error { return s.Finish(t.Context(), "KR_live", "a", Emitted) },
		"status":     func(s *Redis) error { _, err := s.Status(t.Context(), "KR_done"); return err },
		"unfinished": func(s *Redis) error { _, err := s.Unfinished(t.Context()); return err },
		"puuid": func(s *Redis) error {
			_, _, _, err := s.PUUID(t.Context(), "kr", "Faker#KR1")
			return err
		},
		"set puuid":  func(s *Redis) error { return s.SetPUUID(t.Context(), "kr", "Faker#KR1", "p", time.Now()) },
		"live game":  func(s *Redis) error { _, _, err := s.LiveGame(t.Context(), "p"); return err },
		"set live":   func(s *Redis) error { return s.SetLiveGame(t.Context(), "p", 1) },
		"clear live": func(s *Redis) error { return s.ClearLiveGame(t.Context(), "p") },
		"live cursor": func(s *Redis) error {
			_, _, _, err := s.LiveCursor(t.Context(), "g")
			return err
		},
		"set live cursor": func(s *Redis) error { return s.SetLiveCursor(t.Context(), "g", 1, 1) },
		"heartbeat":       func(s *Redis) error { return s.Heartbeat(t.Context(), "a", time.Minute) },
		"members":         func(s *Redis) error { _, err := s.Members(t.Context()); return err },
		"leave":           func(s *Redis) error { return s.Leave(t.Context(), "a") },
	}
	// Each call spends a round of dials failing: make them all at once.
	errs := make(map[string]error, len(calls))
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for name, call := range calls {
		wg.Go(func() {
			err := call(a)
			mu.Lock()
			errs[name] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	for name, err := range errs {
		if !errors.Is(err, redisconn.ErrUnavailable) {
			t.Errorf("%s while down: %v, want ErrUnavailable", name, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, password) || !strings.Contains(msg, " on "+safeURL+": redis unavailable: ") {
			t.Errorf("%s while down: %q, want the URL %s without the password", name, msg, safeURL)
		}
	}
	if len(logs.records()) == 0 {
		t.Error("go-redis logged nothing through RouteRedisLogs while Redis was down")
	}
	for _, rec := range logs.records() {
		if rec.Level != slog.LevelDebug || strings.Contains(rec.Message, password) {
			t.Errorf("go-redis log %v %q: want debug level, no password", rec.Level, rec.Message)
		}
	}

	srv.Restart()
	// go-redis fails fast while it probes the server, once a second.
	for _, s := range []*Redis{a, b} {
		bridgetest.Eventually(t, "reconnected", 10*time.Second, func() bool {
			_, err := s.Status(t.Context(), "KR_done")
			if err != nil && !errors.Is(err, redisconn.ErrUnavailable) {
				t.Fatalf("status after restart: %v", err)
			}
			return err == nil
		})
	}
	wantClaim(t, b, "KR_done", "b", long, 0, false)
	if st := status(t, b, "KR_done"); st.Phase != Finished || st.Outcome != Emitted {
		t.Fatalf("KR_done after restart: %+v, want finished", st)
	}
	wantClaim(t, b, "KR_live", "b", long, 0, false)
	mustProgress(t, a, "KR_live", "a", 4) // its holder carries on
	mustFinish(t, a, "KR_live", "a", Emitted)
	bridgetest.Eventually(t, "KR_expiring handed over", 10*time.Second, func() bool {
		next, ok, err := b.Claim(t.Context(), "KR_expiring", "b", long)
		if err != nil || (ok && next != 5) {
			t.Fatalf("claim KR_expiring: %d, %v, %v; want 5 when claimed", next, ok, err)
		}
		return ok
	})
	if err := a.Progress(t.Context(), "KR_expiring", "a", 6); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("progress by the expired holder: %v, want ErrLeaseLost", err)
	}
}

// Errors that are Redis's answer, not its absence, are not ErrUnavailable.
func TestRedisWrongPassword(t *testing.T) {
	srv := redistest.Start(t, redistest.WithPassword("right"))
	wrong := strings.Replace(srv.URL, ":right@", ":wrong@", 1)
	r := newRedis(t, wrong)
	_, _, err := r.Claim(t.Context(), "KR_1", "a", time.Minute)
	if err == nil || errors.Is(err, redisconn.ErrUnavailable) || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("claim with a wrong password: %v, want a plain error without the password", err)
	}
	if !strings.Contains(err.Error(), "claim match KR_1 on "+redisconn.Redact(srv.URL)+": ") {
		t.Fatalf("claim with a wrong password: %q, want it to name the match and URL", err)
	}
}

// BenchmarkRedisClaimProgress measures one recorded frame on a local Redis:
// one script round trip. Every 30 frames the match is finished and a new one
// claimed, amortised into the figure as in a real emission.
func BenchmarkRedisClaimProgress(b *testing.B) {
	benchmarkProgress(b, sharedRedis(b))
}

type logCapture struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, r)
	return nil
}
func (c *logCapture) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *logCapture) WithGroup(string) slog.Handler      { return c }

func (c *logCapture) records() []slog.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.recs)
}

// captureRedisLogs routes go-redis's messages to a capture for t, then to
// nowhere: go-redis has no way back to its default logger.
func captureRedisLogs(t *testing.T) *logCapture {
	c := &logCapture{}
	redisconn.RouteLogs(slog.New(c))
	t.Cleanup(func() { redisconn.RouteLogs(slog.New(slog.DiscardHandler)) })
	return c
}

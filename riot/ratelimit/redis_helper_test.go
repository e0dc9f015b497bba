package ratelimit_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/riftbridge/riftbridge/riot/ratelimit"
)

// envRedisURL names a Redis that CI runs for the tests; each test keeps to
// its own key prefix there.
const envRedisURL = "RIFTBRIDGE_TEST_REDIS_URL"

// redisURL returns the Redis for tb: CI's when envRedisURL is set, else a
// redis-server of its own.
func redisURL(tb testing.TB) string {
	tb.Helper()
	if u := os.Getenv(envRedisURL); u != "" {
		return u
	}
	return startRedis(tb, "").url
}

// redisServer is a redis-server process owned by one test, stopped on
// cleanup.
type redisServer struct {
	tb       testing.TB
	port     int
	password string
	dir      string
	url      string
	cmd      *exec.Cmd
	out      bytes.Buffer
}

// startRedis starts a redis-server on a free loopback port, requiring
// password unless it is empty. Without the binary the test is skipped, or
// fails under CI, which must provide it.
func startRedis(tb testing.TB, password string) *redisServer {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("redis-server is required under CI: %v", err)
		}
		tb.Skipf("redis-server not installed (set %s to use another Redis): %v", envRedisURL, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		tb.Fatal(err)
	}
	r := &redisServer{tb: tb, port: port, password: password, dir: tb.TempDir()}
	r.url = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	if password != "" {
		r.url = fmt.Sprintf("redis://:%s@127.0.0.1:%d/0", password, port)
	}
	r.start()
	tb.Cleanup(r.stop)
	return r
}

// start runs the server on its port and returns once it accepts
// connections.
func (r *redisServer) start() {
	r.tb.Helper()
	args := []string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", r.dir}
	if r.password != "" {
		args = append(args, "--requirepass", r.password)
	}
	r.out.Reset()
	r.cmd = exec.Command("redis-server", args...)
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		r.tb.Fatalf("start redis-server: %v", err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)), time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			r.stop()
			r.tb.Fatalf("redis-server on port %d not ready after 5 s: %v\n%s", r.port, err, r.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop kills the server; it may be started again on the same port.
func (r *redisServer) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait() // "signal: killed"
	r.cmd = nil
}

var unsafeKeyChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// keyPrefix is a prefix no other test or run uses, so tests can share one
// Redis.
func keyPrefix(tb testing.TB) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "riftbridge-test:" + unsafeKeyChars.ReplaceAllString(tb.Name(), "_") + ":" + hex.EncodeToString(b[:]) + ":"
}

// replicas returns n Shared limiters, each with its own Redis connection
// pool as separate processes would have, sharing one budget.
func replicas(tb testing.TB, url string, n int, opts ...ratelimit.Option) []*ratelimit.Shared {
	tb.Helper()
	prefix := keyPrefix(tb)
	tb.Cleanup(func() { deleteKeys(tb, url, prefix) })
	opts = append([]ratelimit.Option{ratelimit.WithPrefix(prefix)}, opts...)
	out := make([]*ratelimit.Shared, n)
	for i := range out {
		s, err := ratelimit.NewShared(url, opts...)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() {
			if err := s.Close(); err != nil {
				tb.Error(err)
			}
		})
		out[i] = s
	}
	return out
}

// admit reports whether r lets a request through at once, returning its
// permit. A Wait that would block either fails fast against the short
// deadline (a window or Retry-After) or runs into it (a probe elsewhere).
func admit(tb testing.TB, r ratelimit.Reserver, route, method string) (ratelimit.Permit, bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	p, err := r.Wait(ctx, route, method)
	if err == nil {
		return p, true
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		tb.Fatalf("Wait(%s, %s) = %v", route, method, err)
	}
	return nil, false
}

// admitted counts how many requests r lets through at once, up to max.
func admitted(tb testing.TB, r ratelimit.Reserver, route, method string, max int) int {
	tb.Helper()
	for n := range max {
		if _, ok := admit(tb, r, route, method); !ok {
			return n
		}
	}
	return max
}

// deleteKeys removes what a test left under prefix, so a Redis shared by
// many runs does not fill up; a test that stopped its Redis has nothing to
// remove.
func deleteKeys(tb testing.TB, url, prefix string) {
	o, err := redis.ParseURL(url)
	if err != nil {
		tb.Error(err)
		return
	}
	c := redis.NewClient(o)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		if err := c.Del(ctx, iter.Val()).Err(); err != nil {
			tb.Errorf("delete test keys: %v", err)
			return
		}
	}
	if err := iter.Err(); err != nil {
		tb.Logf("delete test keys under %s: %v", prefix, err)
	}
}

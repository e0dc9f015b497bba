// Package redistest gives tests a real Redis: the one CI names in
// RIFTBRIDGE_TEST_REDIS_URL, or a redis-server started for the test alone.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/riftbridge/riftbridge/state/redisconn"
)

// EnvURL names the variable that points tests at a running Redis.
const EnvURL = "RIFTBRIDGE_TEST_REDIS_URL"

// startTimeout bounds how long a redis-server may take to answer PING, or to
// exit after SHUTDOWN.
const startTimeout = 10 * time.Second

// URL returns a Redis URL for t: $RIFTBRIDGE_TEST_REDIS_URL when set, shared
// with other tests and packages, so use a Prefix; else that of a Server
// started for t.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return Start(t).URL
}

// Conn returns a connection to the Redis at redisURL, closed when t ends:
// what riftbridge hands its store and its shared limiter, and what tests
// read or reset what the code under test wrote through.
func Conn(t testing.TB, redisURL string) *redisconn.Conn {
	t.Helper()
	c, err := redisconn.Open(redisURL)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Client returns a client of the Redis at redisURL, closed when t ends.
func Client(t testing.TB, redisURL string) *redis.Client {
	t.Helper()
	return Conn(t, redisURL).Client
}

// Prefix returns a key prefix unique to t. On the shared Redis of
// $RIFTBRIDGE_TEST_REDIS_URL every key under it is deleted when t ends; a
// Server is discarded whole.
func Prefix(t testing.TB, redisURL string) string {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "rbtest:" + hex.EncodeToString(b) + ":"
	if redisURL == os.Getenv(EnvURL) {
		t.Cleanup(func() {
			if err := deleteUnder(redisURL, prefix); err != nil {
				t.Errorf("redistest: delete keys under %s: %v", prefix, err)
			}
		})
	}
	return prefix
}

func deleteUnder(redisURL, prefix string) error {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil || len(keys) == 0 {
		return err
	}
	return c.Unlink(ctx, keys...).Err()
}

// Server is a redis-server process of one test, on a free port of
// 127.0.0.1 with its files in t.TempDir(), without persistence except on
// Stop, and killed when the test ends.
type Server struct {
	URL string

	t        testing.TB
	bin      string
	dir      string
	port     int
	password string
	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd has been waited for
}

// Option configures Start.
type Option func(*Server)

// WithPassword makes the server require password, and puts it in URL.
func WithPassword(password string) Option {
	return func(s *Server) { s.password = password }
}

// Start runs a redis-server for t. Without the binary it skips t, or fails it
// when $CI is set: CI must test against a real Redis.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redistest: no redis-server in PATH, and CI needs one: %v", err)
		}
		t.Skipf("redistest: no redis-server in PATH: %v", err)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir()}
	for _, o := range opts {
		o(s)
	}
	t.Cleanup(s.kill)
	// Another process can take the free port before redis-server binds it.
	for attempt := 1; ; attempt++ {
		if s.port, err = freePort(); err == nil {
			if err = s.run(); err == nil {
				break
			}
		}
		if attempt == 3 {
			t.Fatalf("redistest: %v", err)
		}
	}
	u := url.URL{Scheme: "redis", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)), Path: "/0"}
	if s.password != "" {
		u.User = url.UserPassword("", s.password)
	}
	s.URL = u.String()
	return s
}

// Stop saves the data and shuts the server down, so that clients get
// connection refused until Restart.
func (s *Server) Stop() {
	s.t.Helper()
	if s.cmd == nil {
		s.t.Fatal("redistest: Stop: server is not running")
	}
	c := redis.NewClient(s.options())
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	// The server closes the connection instead of replying.
	err := c.ShutdownSave(ctx).Err()
	_ = c.Close()
	select {
	case <-s.exited:
		s.cmd = nil
	case <-ctx.Done():
		s.kill()
		s.t.Fatalf("redistest: redis-server on port %d did not shut down (shutdown: %v)", s.port, err)
	}
}

// Restart starts the server again on the same port with the data Stop saved.
func (s *Server) Restart() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatal("redistest: Restart: server is running")
	}
	if err := s.run(); err != nil {
		s.t.Fatalf("redistest: restart: %v", err)
	}
}

// run starts redis-server on s.port and waits until it answers PING.
func (s *Server) run() error {
	logPath := filepath.Join(s.dir, "redis.log")
	args := []string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--dir", s.dir, "--save", "", "--appendonly", "no", "--logfile", logPath,
	}
	if s.password != "" {
		args = append(args, "--requirepass", s.password)
	}
	cmd := exec.Command(s.bin, args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited

	c := redis.NewClient(s.options())
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		err := c.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			s.cmd = nil
			return fmt.Errorf("redis-server on port %d exited: %s", s.port, tail(logPath))
		case <-ctx.Done():
			s.kill()
			return fmt.Errorf("redis-server on port %d did not answer: %v; log: %s", s.port, err, tail(logPath))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// kill ends the server if it runs and waits for it.
func (s *Server) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

func (s *Server) options() *redis.Options {
	return &redis.Options{
		Addr:       net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Password:   s.password,
		MaxRetries: -1,
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the end of the log at path, for failure messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	if len(b) == 0 {
		return "(empty log)"
	}
	return string(b)
}

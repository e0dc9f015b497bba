// Package statsdtest runs real DogStatsD listeners and strictly parses what
// they receive, for end-to-end tests of anything that talks to an Agent.
package statsdtest

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server collects the lines of every datagram sent to it.
type Server struct {
	conn net.PacketConn
	addr string
	cfg  serverConfig
	done chan struct{} // closed when the reading goroutine ends

	mu      sync.Mutex
	lines   []string      // including Sync markers
	syncs   int           // markers sent
	err     error         // why reading stopped
	arrived chan struct{} // closed, then replaced, whenever lines grow or reading stops
}

// syncMarker starts the lines Sync sends itself; they never show in results.
const syncMarker = "statsdtest.sync:"

// Option shapes how a Server reads, to play an Agent that is not keeping up.
type Option func(*serverConfig)

type serverConfig struct {
	defaultBuffer bool
	perSecond     int
	pauseAfter    int
	pause         time.Duration
}

// DefaultBuffer keeps the kernel's default receive buffer (net.core.
// rmem_default, about 208 KB), as an Agent on its default settings has,
// instead of the 4 MB a server asks for otherwise.
func DefaultBuffer() Option { return func(c *serverConfig) { c.defaultBuffer = true } }

// ReadRate reads at most n datagrams per second, as a busy Agent does.
func ReadRate(n int) Option { return func(c *serverConfig) { c.perSecond = n } }

// PauseAfter stops reading for d once n datagrams have been read, as an
// Agent that hangs (a restart, a long GC) does.
func PauseAfter(n int, d time.Duration) Option {
	return func(c *serverConfig) { c.pauseAfter, c.pause = n, d }
}

// ListenUDP starts a server on a free UDP port of 127.0.0.1, stopped by t's
// cleanup.
func ListenUDP(t testing.TB, opts ...Option) *Server {
	t.Helper()
	return ListenUDPAt(t, "127.0.0.1:0", opts...)
}

// ListenUDPAt starts a server on addr, such as the address of a port
// nothing listened on until now, stopped by t's cleanup.
func ListenUDPAt(t testing.TB, addr string, opts ...Option) *Server {
	t.Helper()
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatalf("statsdtest: listen udp %s: %v", addr, err)
	}
	return serve(t, conn, conn.LocalAddr().String(), opts)
}

// ListenUnix starts a server on a unixgram socket in t.TempDir(), the
// transport of the Agent's dogstatsd_socket, stopped by t's cleanup.
func ListenUnix(t testing.TB, opts ...Option) *Server {
	t.Helper()
	return ListenUnixAt(t, filepath.Join(t.TempDir(), "dsd.socket"), opts...)
}

// ListenUnixAt starts a server on a unixgram socket at path, such as a
// socket that was missing until now, stopped by t's cleanup.
func ListenUnixAt(t testing.TB, path string, opts ...Option) *Server {
	t.Helper()
	conn, err := net.ListenPacket("unixgram", path)
	if err != nil {
		t.Fatalf("statsdtest: listen unixgram %s: %v", path, err)
	}
	return serve(t, conn, "unix://"+path, opts)
}

// ListenFunc listens for UDP datagrams on a loopback port and hands each
// to fn with its arrival time, keeping none: for benchmarks that run for
// any b.N, or time what they receive. It returns the address; the listener
// closes when t ends.
func ListenFunc(t testing.TB, fn func(datagram []byte, at time.Time)) string {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1<<16)
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			fn(buf[:n], time.Now())
		}
	}()
	t.Cleanup(func() {
		conn.Close()
		<-done
	})
	return conn.LocalAddr().String()
}

// FreeUDPAddr returns a loopback UDP address nothing listens on, for a
// server started later with ListenUDPAt.
func FreeUDPAddr(t testing.TB) string {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("statsdtest: listen udp: %v", err)
	}
	defer conn.Close()
	return conn.LocalAddr().String()
}

func serve(t testing.TB, conn net.PacketConn, addr string, opts []Option) *Server {
	var cfg serverConfig
	for _, o := range opts {
		o(&cfg)
	}
	// A replay sends its datagrams in one burst; on a loaded test machine the
	// reader can lag, and the kernel silently drops what overflows the
	// socket buffer. Unless told otherwise, ask for a large one (the kernel
	// caps it at rmem_max).
	if !cfg.defaultBuffer {
		if err := conn.(interface{ SetReadBuffer(int) error }).SetReadBuffer(4 << 20); err != nil {
			_ = conn.Close()
			t.Fatalf("statsdtest: %s: set read buffer: %v", addr, err)
		}
	}
	s := &Server{
		conn:    conn,
		addr:    addr,
		cfg:     cfg,
		done:    make(chan struct{}),
		arrived: make(chan struct{}),
	}
	go s.read()
	t.Cleanup(func() {
		_ = conn.Close()
		<-s.done
	})
	return s
}

func (s *Server) read() {
	defer close(s.done)
	// Large enough for any datagram, UDP or Unix.
	buf := make([]byte, 1<<16)
	start := time.Now()
	for read := 0; ; read++ {
		s.slowDown(start, read)
		n, _, err := s.conn.ReadFrom(buf)
		s.mu.Lock()
		if err != nil {
			s.err = err
		}
		for line := range strings.SplitSeq(string(buf[:n]), "\n") {
			if line != "" {
				s.lines = append(s.lines, line)
			}
		}
		close(s.arrived)
		s.arrived = make(chan struct{})
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// slowDown waits as the options ask before reading datagram number read.
func (s *Server) slowDown(start time.Time, read int) {
	if s.cfg.pause > 0 && read == s.cfg.pauseAfter {
		time.Sleep(s.cfg.pause)
	}
	if s.cfg.perSecond > 0 {
		time.Sleep(time.Until(start.Add(time.Duration(read) * time.Second / time.Duration(s.cfg.perSecond))))
	}
}

// Addr returns the address in the form sink.NewDogStatsD and datadog-go
// accept: "127.0.0.1:port" or "unix:///path".
func (s *Server) Addr() string { return s.addr }

// Lines returns the lines received so far, in arrival order; datagrams are
// split on newlines and empty lines dropped.
func (s *Server) Lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return visible(s.lines)
}

// WaitFor blocks until ok holds for the lines received so far and returns
// them. It fails with the lines so far if ctx ends or the server stops first.
func (s *Server) WaitFor(ctx context.Context, ok func(lines []string) bool) ([]string, error) {
	raw, err := s.wait(ctx, func(raw []string) bool { return ok(visible(raw)) })
	return visible(raw), err
}

// Sync returns exactly the lines sent to s before the call, once all have been
// read. Datagrams from a client whose Flush or Close has returned are queued
// ahead of the marker Sync sends, so no sleep or line count is needed.
func (s *Server) Sync(ctx context.Context) ([]string, error) {
	s.mu.Lock()
	s.syncs++
	marker := syncMarker + strconv.Itoa(s.syncs)
	s.mu.Unlock()

	local := s.conn.LocalAddr()
	conn, err := net.Dial(local.Network(), local.String())
	if err != nil {
		return nil, fmt.Errorf("statsdtest %s: sync: %w", s.addr, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(marker)); err != nil {
		return nil, fmt.Errorf("statsdtest %s: sync: %w", s.addr, err)
	}
	raw, err := s.wait(ctx, func(raw []string) bool { return slices.Contains(raw, marker) })
	if err != nil {
		return visible(raw), err
	}
	return visible(raw[:slices.Index(raw, marker)]), nil
}

// wait blocks until done holds for a snapshot of every line, markers
// included, and returns that snapshot.
func (s *Server) wait(ctx context.Context, done func(raw []string) bool) ([]string, error) {
	for {
		s.mu.Lock()
		raw, stopped, arrived := slices.Clone(s.lines), s.err, s.arrived
		s.mu.Unlock()
		if done(raw) {
			return raw, nil
		}
		if stopped != nil {
			return raw, fmt.Errorf("statsdtest %s: %d lines, reading stopped: %w", s.addr, len(raw), stopped)
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return raw, fmt.Errorf("statsdtest %s: %d lines and still waiting: %w", s.addr, len(raw), ctx.Err())
		}
	}
}

// visible returns a copy of lines without Sync markers.
func visible(lines []string) []string {
	return slices.DeleteFunc(slices.Clone(lines), func(l string) bool { return strings.HasPrefix(l, syncMarker) })
}

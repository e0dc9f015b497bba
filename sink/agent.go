package sink

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/time/rate"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
)

// Defaults of the DogStatsD sink's delivery.
const (
	// DefaultPatience is how long writes wait for an Agent that is slow,
	// restarting or not there yet: an Agent restart takes a few seconds.
	DefaultPatience = 30 * time.Second
	// DefaultUDPDatagramsPerSecond paces UDP so that an Agent reading with
	// the kernel's default receive buffer (about 208 KB: 92 datagrams of
	// 1,432 bytes) keeps up, with margin: see BENCHMARKS.md.
	DefaultUDPDatagramsPerSecond = 2000
)

// Waits between attempts at a payload while the Agent is away, and how long
// an attempt may block once there is no waiting left: enough for a write
// the kernel takes, not for one it queues.
const (
	firstRetryWait = 10 * time.Millisecond
	maxRetryWait   = 500 * time.Millisecond
	lastTry        = 20 * time.Millisecond
)

// socket is one transport to the Agent that reports failure: a Unix
// datagram socket, or UDP, on which the kernel reports the Agent's port
// closed (ICMP port unreachable).
type socket interface {
	// send makes one attempt at writing p whole, blocking until deadline
	// at most, or until giveUp is closed.
	send(p []byte, deadline time.Time, giveUp <-chan struct{}) error
	// unblock makes a send in progress return at once.
	unblock()
	close() error
}

// agentWriter is the io.WriteCloser datadog-go's sender writes payloads to,
// one at a time. Where datadog-go drops a payload on the first failure, it
// retries with backoff while the Agent has been away for less than the
// patience; after that, every payload gets one try until one succeeds, so
// an Agent gone for good costs one patience, not one per payload. It counts
// every payload and point it writes, retries or drops.
type agentWriter struct {
	sock     socket
	addr     string // for messages
	patience time.Duration
	pace     *rate.Limiter // nil: unpaced
	counts   *delivery
	log      *slog.Logger

	mu        sync.Mutex // serialises Write and Close
	awaySince time.Time  // when the current outage began; zero while writes succeed

	giveUpMu sync.Mutex
	giveUp   chan struct{} // closed by abandon, replaced by resume
}

func newAgentWriter(sock socket, addr string, patience time.Duration, pace *rate.Limiter, counts *delivery, log *slog.Logger) *agentWriter {
	return &agentWriter{sock: sock, addr: addr, patience: patience, pace: pace, counts: counts, log: log, giveUp: make(chan struct{})}
}

// Write delivers p or, past the patience, drops it and returns an
// *undeliveredError.
func (w *agentWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	giveUp := w.giveUpChan()
	if w.pace != nil && !closed(giveUp) {
		sleep(w.pace.Reserve().Delay(), giveUp)
	}
	retried := false
	wait := firstRetryWait
	for {
		start := time.Now()
		deadline := start.Add(w.patience)
		if !w.awaySince.IsZero() {
			deadline = w.awaySince.Add(w.patience)
		}
		if closed(giveUp) || deadline.Sub(start) < lastTry {
			deadline = start.Add(lastTry)
		}
		err := w.sock.send(p, deadline, giveUp)
		if err == nil {
			w.back()
			w.counts.written(p, retried)
			return len(p), nil
		}
		if w.awaySince.IsZero() {
			w.awaySince = start
			w.logOutage(err)
		}
		now := time.Now()
		if permanent(err) || closed(giveUp) || !now.Before(w.awaySince.Add(w.patience)) {
			return 0, w.drop(p, err)
		}
		retried = true
		sleep(min(wait, w.awaySince.Add(w.patience).Sub(now)), giveUp)
		wait = min(2*wait, maxRetryWait)
	}
}

// logOutage says once per outage what riftbridge does about it; a match
// whose frames are dropped is sent again later from the first of them.
func (w *agentWriter) logOutage(err error) {
	if permanent(err) {
		w.log.Warn("cannot write to the datadog agent; dropping payloads until it takes them", "addr", w.addr, "error", err)
		return
	}
	w.log.Warn("the datadog agent is not taking payloads; waiting for it up to statsd.patience, then dropping them until it is back",
		"addr", w.addr, "patience", w.patience, "error", err)
}

// back ends the current outage, if any.
func (w *agentWriter) back() {
	if w.awaySince.IsZero() {
		return
	}
	w.log.Info("the datadog agent is back", "addr", w.addr, "away", time.Since(w.awaySince).Round(time.Millisecond))
	w.awaySince = time.Time{}
}

func (w *agentWriter) drop(p []byte, cause error) error {
	err := &undeliveredError{patience: w.patience, cause: cause}
	w.counts.dropped(1, countPoints(p), err)
	return err
}

// Close closes the socket; datadog-go calls it once its queue is written.
func (w *agentWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sock.close()
}

// abandon makes every wait for the Agent, and the pacing, give up until
// resume: a flush whose caller has stopped waiting returns at once.
func (w *agentWriter) abandon() {
	w.giveUpMu.Lock()
	if !closed(w.giveUp) {
		close(w.giveUp)
	}
	w.giveUpMu.Unlock()
	w.sock.unblock()
}

// resume undoes abandon.
func (w *agentWriter) resume() {
	w.giveUpMu.Lock()
	defer w.giveUpMu.Unlock()
	if closed(w.giveUp) {
		w.giveUp = make(chan struct{})
	}
}

func (w *agentWriter) giveUpChan() <-chan struct{} {
	w.giveUpMu.Lock()
	defer w.giveUpMu.Unlock()
	return w.giveUp
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// sleep waits d, or less if giveUp closes.
func sleep(d time.Duration, giveUp <-chan struct{}) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-giveUp:
	}
}

// permanent tells the failures that waiting cannot cure.
func permanent(err error) bool {
	return errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) ||
		errors.Is(err, syscall.EPROTOTYPE) || errors.Is(err, syscall.ENOTSOCK) || errors.Is(err, syscall.EMSGSIZE)
}

// undeliveredError is a payload the Agent did not take.
type undeliveredError struct {
	patience time.Duration
	cause    error
}

func (e *undeliveredError) Error() string {
	if permanent(e.cause) {
		return e.cause.Error()
	}
	return fmt.Sprintf("the datadog agent did not take them within statsd.patience (%v): %v", e.patience, e.cause)
}

func (e *undeliveredError) Unwrap() error { return e.cause }

// delivery counts what the transport did with payloads, and the points
// (metric lines) they held.
type delivery struct {
	payloadsWritten, payloadsRetried, payloadsDropped atomic.Uint64
	pointsWritten, pointsDropped                      atomic.Uint64
	transport                                         string
	obs                                               telemetry.Observer

	mu        sync.Mutex
	lastCause error // the latest drop's cause
}

func (d *delivery) written(p []byte, retried bool) {
	points := countPoints(p)
	d.payloadsWritten.Add(1)
	d.pointsWritten.Add(uint64(points))
	if retried {
		d.payloadsRetried.Add(1)
	}
	d.obs.Written(d.transport, points, retried)
}

func (d *delivery) dropped(payloads, points int, cause error) {
	d.mu.Lock()
	d.lastCause = cause
	d.mu.Unlock()
	d.payloadsDropped.Add(uint64(payloads))
	d.pointsDropped.Add(uint64(points))
	d.obs.Dropped(d.transport, points)
}

func (d *delivery) cause() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lastCause
}

// countPoints counts the metric lines of a payload: every line ends with a
// newline, and events and service checks start with "_e{" and "_sc|".
func countPoints(p []byte) int {
	n := 0
	for len(p) > 0 {
		line, rest, _ := bytes.Cut(p, []byte{'\n'})
		if len(line) > 0 && !bytes.HasPrefix(line, []byte("_e{")) && !bytes.HasPrefix(line, []byte("_sc|")) {
			n++
		}
		p = rest
	}
	return n
}

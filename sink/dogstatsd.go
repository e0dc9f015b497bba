package sink

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/DataDog/datadog-go/v5/statsd"

	"github.com/riftbridge/riftbridge/mapper"
)

// DogStatsD sends points and events to a Datadog Agent through datadog-go.
// DD_ENV, DD_SERVICE and DD_VERSION become env, service and version tags, as
// datadog-go does for every client. It is safe for concurrent use.
type DogStatsD struct {
	addr   string // for messages only
	client statsd.ClientInterface
	cfg    config

	mu     sync.RWMutex // held exclusively by Close only
	closed bool

	points, events, checks atomic.Uint64
	// sinceFlush counts timestamped points, across writes, for backpressure.
	sinceFlush  atomic.Uint64
	invalid     faults
	undelivered faults
}

var _ Sink = (*DogStatsD)(nil)

// flushEveryPoints bounds the timestamped points queued between flushes:
// about 150 UDP payloads, far below datadog-go's 512 (UDS) or 2048 (UDP)
// buffer sender queue.
const flushEveryPoints = 1000

// Stats counts what a DogStatsD sink handled since it started.
type Stats struct {
	// Points, Events and ServiceChecks were handed to the client for delivery.
	Points, Events, ServiceChecks uint64
	// Errors counts items rejected as invalid or too long for a datagram,
	// plus payloads the client failed to deliver or dropped (Agent down,
	// socket missing, queue full); one payload holds many points.
	Errors uint64
}

// NewDogStatsD returns a sink sending to the Agent at addr: "host:port" or
// "udp://host:port" for UDP, "unix:///path/to.socket" for a Unix socket, or
// "" to let datadog-go read DD_DOGSTATSD_URL or DD_AGENT_HOST.
func NewDogStatsD(addr string, opts ...Option) (*DogStatsD, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, fmt.Errorf("dogstatsd: %w", err)
	}
	s := &DogStatsD{addr: addr, cfg: cfg, client: cfg.client}
	if s.addr == "" {
		s.addr = cmp.Or(os.Getenv("DD_DOGSTATSD_URL"), os.Getenv("DD_AGENT_HOST"))
	}
	log := cfg.logger.With("addr", s.addr)
	s.invalid = faults{log: log, msg: "dogstatsd: dropping invalid data; further drops are only counted"}
	s.undelivered = faults{log: log, msg: "dogstatsd: cannot deliver to the agent; further failures are only counted"}
	if s.client != nil {
		return s, nil
	}

	dial, err := dialAddr(addr)
	if err != nil {
		return nil, fmt.Errorf("dogstatsd: %w", err)
	}
	// The sink's settings come last so that they win over pass-through ones.
	statsdOpts := append(slices.Clip(cfg.statsdOpts), statsd.WithTags(cfg.tags), statsd.WithErrorHandler(s.undelivered.add))
	if cfg.namespace != "" {
		statsdOpts = append(statsdOpts, statsd.WithNamespace(cfg.namespace))
	}
	s.client, err = statsd.New(dial, statsdOpts...)
	if err != nil {
		return nil, fmt.Errorf("dogstatsd %s: %w", s.addr, err)
	}
	return s, nil
}

// dialAddr checks addr and turns it into what statsd.New expects.
func dialAddr(addr string) (string, error) {
	switch {
	case addr == "":
		if os.Getenv("DD_DOGSTATSD_URL") == "" && os.Getenv("DD_AGENT_HOST") == "" {
			return "", errors.New("no agent address: set statsd.address or DD_AGENT_HOST")
		}
		return "", nil
	case strings.HasPrefix(addr, "unix://"):
		if !filepath.IsAbs(strings.TrimPrefix(addr, "unix://")) {
			return "", fmt.Errorf("address %q: unix socket path must be absolute, as in unix:///var/run/datadog/dsd.socket", addr)
		}
		return addr, nil
	}
	hostPort, isUDP := strings.CutPrefix(addr, "udp://")
	if !isUDP && strings.Contains(addr, "://") {
		return "", fmt.Errorf("address %q: unsupported scheme; use host:port, udp://host:port or unix:///path", addr)
	}
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return "", fmt.Errorf("address %q: %w", addr, err)
	}
	if n, err := strconv.ParseUint(port, 10, 16); host == "" || err != nil || n == 0 {
		return "", fmt.Errorf("address %q: want host:port with a port from 1 to 65535", addr)
	}
	return hostPort, nil
}

// Write hands every point and event of b to the client, which batches them
// into datagrams and sends them in the background. Items that cannot be sent
// are dropped and counted in Stats().Errors rather than failing the batch, so
// one bad point never costs the others; delivery failures surface the same
// way. Write fails only when ctx is done or the sink is closed.
func (s *DogStatsD) Write(ctx context.Context, b mapper.Batch) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("dogstatsd %s: %w", s.addr, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("dogstatsd %s: %w", s.addr, ErrClosed)
	}
	var tags tagCache
	for _, p := range b.Points {
		if err := s.send(p, &tags); err != nil {
			s.invalid.add(err)
			continue
		}
		s.points.Add(1)
		// Timestamped points skip client-side aggregation, so a whole match
		// (~17,000 points) would outrun the sender and datadog-go would
		// drop payloads ("Sender queue is full"). Flushing every so often
		// waits for the socket instead: backpressure, not loss.
		if s.cfg.timestamps && s.sinceFlush.Add(1)%flushEveryPoints == 0 {
			if err := s.client.Flush(); err != nil {
				return fmt.Errorf("dogstatsd %s: flush: %w", s.addr, err)
			}
		}
	}
	for _, e := range b.Events {
		ev, err := event(e)
		if err == nil {
			err = s.client.Event(&ev)
		}
		if err != nil {
			s.invalid.add(err)
			continue
		}
		s.events.Add(1)
	}
	for _, c := range b.ServiceChecks {
		sc, err := s.cfg.serviceCheck(c)
		if err == nil {
			err = s.client.ServiceCheck(&sc)
		}
		if err != nil {
			s.invalid.add(err)
			continue
		}
		s.checks.Add(1)
	}
	return nil
}

func (s *DogStatsD) send(p mapper.Point, tags *tagCache) error {
	smp, err := s.cfg.sample(p, tags)
	if err != nil {
		return err
	}
	// Rate 1: a sample rate would also apply to timestamped points.
	stamped := !smp.time.IsZero()
	switch {
	case smp.kind == mapper.Gauge && stamped:
		err = s.client.GaugeWithTimestamp(smp.name, smp.value, smp.tags, 1, smp.time)
	case smp.kind == mapper.Gauge:
		err = s.client.Gauge(smp.name, smp.value, smp.tags, 1)
	case smp.kind == mapper.Distribution:
		err = s.client.Distribution(smp.name, smp.value, smp.tags, 1)
	case stamped:
		err = s.client.CountWithTimestamp(smp.name, int64(smp.value), smp.tags, 1, smp.time)
	default:
		err = s.client.Count(smp.name, int64(smp.value), smp.tags, 1)
	}
	if err != nil {
		return fmt.Errorf("point %s: %w", smp.name, err)
	}
	return nil
}

// Flush blocks until everything written so far has been sent to the socket.
func (s *DogStatsD) Flush() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil
	}
	if err := s.client.Flush(); err != nil {
		return fmt.Errorf("dogstatsd %s: flush: %w", s.addr, err)
	}
	return nil
}

// Close flushes, closes the client and makes later writes fail. Closing
// again returns nil.
func (s *DogStatsD) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("dogstatsd %s: close: %w", s.addr, err)
	}
	return nil
}

// Stats returns the counts so far; it is cheap and safe to call at any time.
func (s *DogStatsD) Stats() Stats {
	return Stats{
		Points:        s.points.Load(),
		Events:        s.events.Load(),
		ServiceChecks: s.checks.Load(),
		Errors:        s.invalid.n.Load() + s.undelivered.n.Load(),
	}
}

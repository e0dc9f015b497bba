package sink

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/DataDog/datadog-go/v5/statsd"
	"golang.org/x/time/rate"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/mapper"
)

// DogStatsD sends points and events to a Datadog Agent through datadog-go,
// over the Agent's Unix socket or UDP. datadog-go formats and batches; the
// sink's own transport writes each payload, waiting for an Agent that is
// slow or restarting instead of dropping, pacing UDP, and counting every
// payload written, retried and dropped, so that Flush can tell its caller
// whether what it wrote has reached the Agent. DD_ENV, DD_SERVICE and
// DD_VERSION become env, service and version tags, as datadog-go does for
// every client. It is safe for concurrent use.
type DogStatsD struct {
	endpoint Endpoint
	addr     string // for messages only
	client   statsd.ClientInterface
	writer   *agentWriter // nil with WithClient
	cfg      config
	counts   delivery

	mu     sync.RWMutex // held exclusively by Close only
	closed bool

	points, events, checks atomic.Uint64
	// sinceFlush counts timestamped points, across writes, for backpressure.
	sinceFlush  atomic.Uint64
	invalid     faults
	undelivered faults

	reportMu         sync.Mutex
	reportedPayloads uint64 // payloads and points dropped as of the last report
	reportedPoints   uint64
}

var _ Sink = (*DogStatsD)(nil)

// flushEveryPoints bounds the timestamped points queued between flushes:
// about 150 UDP payloads, far below datadog-go's 512 (UDS) or 2048 (UDP)
// buffer sender queue.
const flushEveryPoints = 1000

// udpBurst is how many datagrams go out back to back before the pace
// applies: a ninth of what the kernel's default receive buffer holds.
const udpBurst = 10

// Stats counts what a DogStatsD sink handled since it started.
type Stats struct {
	// Points, Events and ServiceChecks were handed to the client for delivery.
	Points, Events, ServiceChecks uint64
	// Invalid counts items rejected before sending: not a metric name, a
	// value that is not finite, too long for a datagram.
	Invalid uint64
	// PayloadsWritten reached the Agent's socket; PayloadsRetried of them
	// needed more than one try; PayloadsDropped did not (the Agent away
	// past the patience, or datadog-go's queue full).
	PayloadsWritten, PayloadsRetried, PayloadsDropped uint64
	// PointsWritten and PointsDropped count the metric lines of those
	// payloads.
	PointsWritten, PointsDropped uint64
	// Errors is Invalid plus PayloadsDropped.
	Errors uint64
}

// NewDogStatsD returns a sink sending to the Agent at addr, resolved by
// ResolveAddress: "host:port" or "udp://host:port" for UDP,
// "unix:///path/to.socket" for a Unix socket, "" for the environment, or
// DefaultAddress, which prefers the Agent's socket when it exists.
func NewDogStatsD(addr string, set telemetry.Settings, opts ...Option) (*DogStatsD, error) {
	cfg, err := newConfig(set, opts)
	if err != nil {
		return nil, fmt.Errorf("dogstatsd: %w", err)
	}
	s := &DogStatsD{cfg: cfg, client: cfg.client, endpoint: Endpoint{Address: addr, Why: "a client of the caller's"}}
	if s.client == nil {
		if s.endpoint, err = ResolveAddress(addr); err != nil {
			return nil, fmt.Errorf("dogstatsd: %w", err)
		}
	}
	s.addr = s.endpoint.String()
	log := cfg.set.Logger.With("addr", s.addr)
	s.invalid = faults{log: log, msg: "dogstatsd: dropping invalid data; further drops are only counted",
		report: func() { cfg.set.Observer.Rejected("dogstatsd") }}
	s.undelivered = faults{log: log, msg: "dogstatsd: datadog-go dropped a payload; further drops are only counted"}
	if s.client != nil {
		return s, nil
	}

	var sock socket
	var pace *rate.Limiter
	// datadog-go sizes its payloads and queues by transport; behind a
	// custom writer it assumes UDP.
	sizes := []statsd.Option{statsd.WithMaxBytesPerPayload(statsd.DefaultMaxAgentPayloadSize),
		statsd.WithBufferPoolSize(statsd.DefaultUDSBufferPoolSize), statsd.WithSenderQueueSize(statsd.DefaultUDSBufferPoolSize)}
	s.cfg.maxPayload = statsd.DefaultMaxAgentPayloadSize
	switch s.endpoint.Transport {
	case TransportUDS:
		sock = &unixSocket{path: s.endpoint.Address}
	default:
		if sock, err = dialUDP(s.endpoint.Address); err != nil {
			return nil, fmt.Errorf("dogstatsd %s: %w", s.addr, err)
		}
		sizes, s.cfg.maxPayload = nil, statsd.OptimalUDPPayloadSize
		if cfg.udpRate > 0 {
			pace = rate.NewLimiter(rate.Limit(cfg.udpRate), udpBurst)
		} else {
			log.Warn("dogstatsd: udp is not paced (statsd.udp_datagrams_per_second: 0): an agent that falls behind loses datagrams without a word")
		}
	}
	s.counts.transport, s.counts.obs = s.endpoint.Transport, cfg.set.Observer
	s.writer = newAgentWriter(sock, s.addr, s.cfg.patience, pace, &s.counts, s.cfg.set.Logger)
	// The sink's settings come last so that they win over pass-through ones.
	statsdOpts := append(append(sizes, statsd.WithWorkersCount(1)), cfg.statsdOpts...)
	statsdOpts = append(statsdOpts, statsd.WithTags(cfg.tags), statsd.WithErrorHandler(s.handleError))
	if cfg.namespace != "" {
		statsdOpts = append(statsdOpts, statsd.WithNamespace(cfg.namespace))
	}
	s.client, err = statsd.NewWithWriter(s.writer, statsdOpts...)
	if err != nil {
		_ = sock.close()
		return nil, fmt.Errorf("dogstatsd %s: %w", s.addr, err)
	}
	return s, nil
}

// Endpoint tells where the sink sends and why it chose it.
func (s *DogStatsD) Endpoint() Endpoint { return s.endpoint }

// handleError counts what datadog-go dropped itself; the sink's writer
// has counted and logged its own failures already.
func (s *DogStatsD) handleError(err error) {
	var own *undeliveredError
	if errors.As(err, &own) {
		return
	}
	points := 0
	var full *statsd.ErrorSenderChannelFull
	if errors.As(err, &full) {
		points = full.LostElements
	}
	s.counts.dropped(1, points, err)
	s.undelivered.add(err)
}

// Write hands every point and event of b to the client, which batches them
// into payloads and sends them in the background. Invalid items are dropped
// and counted in Stats().Invalid rather than failing the batch, so one bad
// point never costs the others; delivery failures are reported by the next
// Flush. Write fails only when ctx is done or the sink is closed.
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
			if err := s.drain(ctx); err != nil {
				return err
			}
		}
	}
	for _, e := range b.Events {
		ev, err := s.cfg.event(e)
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

// Flush blocks until everything written so far has been written to the
// Agent's socket or given up on, and reports, as an error wrapping
// ErrUndelivered, whether any payload since the previous Flush was
// dropped. When ctx ends, waits for the Agent give up at once.
func (s *DogStatsD) Flush(ctx context.Context) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("dogstatsd %s: %w", s.addr, err)
	}
	if err := s.drain(ctx); err != nil {
		return err
	}
	return s.report()
}

// drain writes out what the client holds, giving up on the Agent once ctx
// ends.
func (s *DogStatsD) drain(ctx context.Context) error {
	if s.writer != nil {
		s.writer.resume()
		defer context.AfterFunc(ctx, s.writer.abandon)()
	}
	if err := s.client.Flush(); err != nil {
		return fmt.Errorf("dogstatsd %s: flush: %w", s.addr, err)
	}
	return nil
}

// report returns an error wrapping ErrUndelivered if payloads were dropped
// since the last report.
func (s *DogStatsD) report() error {
	s.reportMu.Lock()
	defer s.reportMu.Unlock()
	payloads, points := s.counts.payloadsDropped.Load(), s.counts.pointsDropped.Load()
	if payloads == s.reportedPayloads {
		return nil
	}
	n, p := payloads-s.reportedPayloads, points-s.reportedPoints
	s.reportedPayloads, s.reportedPoints = payloads, points
	return fmt.Errorf("dogstatsd %s: %w: %d payloads (%d points): %w", s.addr, ErrUndelivered, n, p, s.counts.cause())
}

// Close flushes, waiting for the Agent at most the patience and no longer
// than ctx, closes the client and makes later writes fail; it reports
// undelivered payloads as Flush does. Closing again returns nil.
func (s *DogStatsD) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.writer != nil {
		s.writer.resume()
		defer context.AfterFunc(ctx, s.writer.abandon)()
	}
	if err := s.client.Close(); err != nil {
		return errors.Join(fmt.Errorf("dogstatsd %s: close: %w", s.addr, err), s.report())
	}
	return s.report()
}

// Stats returns the counts so far; it is cheap and safe to call at any time.
func (s *DogStatsD) Stats() Stats {
	st := Stats{
		Points:          s.points.Load(),
		Events:          s.events.Load(),
		ServiceChecks:   s.checks.Load(),
		Invalid:         s.invalid.n.Load(),
		PayloadsWritten: s.counts.payloadsWritten.Load(),
		PayloadsRetried: s.counts.payloadsRetried.Load(),
		PayloadsDropped: s.counts.payloadsDropped.Load(),
		PointsWritten:   s.counts.pointsWritten.Load(),
		PointsDropped:   s.counts.pointsDropped.Load(),
	}
	st.Errors = st.Invalid + st.PayloadsDropped
	return st
}

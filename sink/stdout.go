package sink

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/DataDog/datadog-go/v5/statsd"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/mapper"
)

// Stdout writes one DogStatsD line per point and per event, byte for byte
// what datadog-go would send to the Agent (without the DD_* environment
// tags), for dry runs and pipes such as `riftbridge replay | nc -u agent 8125`.
// It is safe for concurrent use.
type Stdout struct {
	cfg     config
	invalid faults

	mu     sync.Mutex
	w      *bufio.Writer
	closed bool
}

var _ Sink = (*Stdout)(nil)

// NewStdout returns a sink writing to w through a buffer. WithClient and
// WithStatsdOptions do not apply. Close flushes but never closes w.
func NewStdout(w io.Writer, set telemetry.Settings, opts ...Option) (*Stdout, error) {
	cfg, err := newConfig(set, opts)
	if err != nil {
		return nil, fmt.Errorf("stdout: %w", err)
	}
	return &Stdout{
		cfg: cfg,
		invalid: faults{log: cfg.set.Logger, msg: "stdout: dropping invalid data; further drops are only counted",
			report: func() { cfg.set.Observer.Rejected("stdout") }},
		w: bufio.NewWriter(w),
	}, nil
}

// Write formats every point and event of b. Invalid items are dropped, and
// the first one logged, rather than failing the batch. It fails when ctx is
// done, the sink is closed or w fails.
func (s *Stdout) Write(ctx context.Context, b mapper.Batch) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stdout: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("stdout: %w", ErrClosed)
	}
	var tags tagCache
	for _, p := range b.Points {
		smp, err := s.cfg.sample(p, &tags)
		if err != nil {
			s.invalid.add(err)
			continue
		}
		// AvailableBuffer lets the line be formatted in place, without a copy.
		if _, err := s.w.Write(s.appendPoint(s.w.AvailableBuffer(), smp)); err != nil {
			return fmt.Errorf("stdout: %w", err)
		}
	}
	for _, e := range b.Events {
		ev, err := s.cfg.event(e)
		if err != nil {
			s.invalid.add(err)
			continue
		}
		if _, err := s.w.Write(s.appendEvent(s.w.AvailableBuffer(), &ev)); err != nil {
			return fmt.Errorf("stdout: %w", err)
		}
	}
	for _, c := range b.ServiceChecks {
		sc, err := s.cfg.serviceCheck(c)
		if err != nil {
			s.invalid.add(err)
			continue
		}
		if _, err := s.w.Write(s.appendServiceCheck(s.w.AvailableBuffer(), &sc)); err != nil {
			return fmt.Errorf("stdout: %w", err)
		}
	}
	return nil
}

// appendServiceCheck formats a service check as datadog-go does:
// _sc|<name>|<status>[|d:<ts>][|#tags][|m:<message>].
func (s *Stdout) appendServiceCheck(buf []byte, sc *statsd.ServiceCheck) []byte {
	buf = append(buf, "_sc|"...)
	buf = append(buf, sc.Name...)
	buf = append(buf, '|')
	buf = strconv.AppendInt(buf, int64(sc.Status), 10)
	if !sc.Timestamp.IsZero() {
		buf = append(buf, "|d:"...)
		buf = strconv.AppendInt(buf, sc.Timestamp.Unix(), 10)
	}
	buf = s.appendTags(buf, sc.Tags)
	if sc.Message != "" {
		buf = append(buf, "|m:"...)
		buf = append(buf, sc.Message...)
	}
	return append(buf, '\n')
}

// appendPoint formats a metric line as datadog-go does:
// <ns><name>:<value>|<g|c>[|#tags][|T<unix seconds>].
func (s *Stdout) appendPoint(buf []byte, smp sample) []byte {
	buf = append(buf, s.cfg.namespace...)
	buf = append(buf, smp.name...)
	buf = append(buf, ':')
	switch smp.kind {
	case mapper.Count:
		buf = strconv.AppendInt(buf, int64(smp.value), 10)
		buf = append(buf, "|c"...)
	case mapper.Distribution:
		buf = strconv.AppendFloat(buf, smp.value, 'f', -1, 64)
		buf = append(buf, "|d"...)
	default:
		buf = strconv.AppendFloat(buf, smp.value, 'f', -1, 64)
		buf = append(buf, "|g"...)
	}
	buf = s.appendTags(buf, smp.tags)
	if !smp.time.IsZero() {
		buf = append(buf, "|T"...)
		buf = strconv.AppendInt(buf, smp.time.Unix(), 10)
	}
	return append(buf, '\n')
}

// appendEvent formats an event line as datadog-go does, lengths in bytes and
// newlines in the text escaped as `\n`:
// _e{<title len>,<text len>}:<title>|<text>[|d:<ts>][|k:<key>]|s:<source>|t:<alert>[|#tags].
func (s *Stdout) appendEvent(buf []byte, e *statsd.Event) []byte {
	text := strings.ReplaceAll(e.Text, "\n", `\n`)
	buf = append(buf, "_e{"...)
	buf = strconv.AppendInt(buf, int64(len(e.Title)), 10)
	buf = append(buf, ',')
	buf = strconv.AppendInt(buf, int64(len(text)), 10)
	buf = append(buf, "}:"...)
	buf = append(buf, e.Title...)
	buf = append(buf, '|')
	buf = append(buf, text...)
	if !e.Timestamp.IsZero() {
		buf = append(buf, "|d:"...)
		buf = strconv.AppendInt(buf, e.Timestamp.Unix(), 10)
	}
	if e.AggregationKey != "" {
		buf = append(buf, "|k:"...)
		buf = append(buf, e.AggregationKey...)
	}
	buf = append(buf, "|s:"...)
	buf = append(buf, e.SourceTypeName...)
	buf = append(buf, "|t:"...)
	buf = append(buf, e.AlertType...)
	buf = s.appendTags(buf, e.Tags)
	return append(buf, '\n')
}

// appendTags writes the global tags, then tags.
func (s *Stdout) appendTags(buf []byte, tags []string) []byte {
	sep := "|#"
	for _, list := range [][]string{s.cfg.tags, tags} {
		for _, t := range list {
			buf = append(buf, sep...)
			buf = append(buf, t...)
			sep = ","
		}
	}
	return buf
}

// Flush writes buffered lines to w; a failure of w is ErrUndelivered.
func (s *Stdout) Flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stdout: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("stdout: %w: %w", ErrUndelivered, err)
	}
	return nil
}

// Close flushes and makes later writes fail; it does not close w. Closing
// again returns nil.
func (s *Stdout) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("stdout: %w", err)
	}
	return nil
}

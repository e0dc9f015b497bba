package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/ratelimit"
	"github.com/riftbridge/riftbridge/sink"
	"github.com/riftbridge/riftbridge/state"
)

// telemetry gathers the bridge's own metrics between flushes, the way an
// Agent integration reports on itself: Riot requests, rate limiting, polls,
// emission, and the lol.bridge.riot.can_connect service check.
type telemetry struct {
	mu      sync.Mutex
	counts  map[string]*mapper.Point // by name and tags
	samples []mapper.Point           // distribution samples
	// Transport failures in a row; a few mean Riot is unreachable.
	unreachable int
	check       mapper.ServiceCheck
	// sink is the sink's cumulative counts at the last flush.
	sink  sink.Stats
	holds map[string]hold // by route
	now   func() time.Time
}

var (
	_ riot.Observer     = (*telemetry)(nil)
	_ riot.PollObserver = (*telemetry)(nil)
)

// unreachableAfter transport failures in a row turn can_connect critical.
const unreachableAfter = 3

func newTelemetry() *telemetry {
	return &telemetry{
		counts: map[string]*mapper.Point{},
		holds:  map[string]hold{},
		now:    time.Now,
		check:  mapper.ServiceCheck{Name: mapper.CheckCanConnect, Status: mapper.CheckUnknown, Message: "no riot request yet"},
	}
}

func (t *telemetry) count(name string, n float64, tags ...string) {
	key := name + "|" + strings.Join(tags, ",")
	if p, ok := t.counts[key]; ok {
		p.Value += n
		return
	}
	t.counts[key] = &mapper.Point{Name: name, Kind: mapper.Count, Value: n, Tags: tags}
}

func (t *telemetry) sample(name string, d time.Duration, tags ...string) {
	t.samples = append(t.samples, mapper.Point{Name: name, Kind: mapper.Distribution, Value: d.Seconds(), Tags: tags})
}

func endpointTag(endpoint string) string { return mapper.TagEndpoint + ":" + mapper.TagValue(endpoint) }

// Request implements riot.Observer.
func (t *telemetry) Request(endpoint, route string, status int, latency time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count(mapper.MetricBridgeRequests, 1, endpointTag(endpoint), mapper.TagStatus+":"+strconv.Itoa(status))
	t.sample(mapper.MetricBridgeLatency, latency, endpointTag(endpoint))
	switch {
	case status == 401 || status == 403:
		t.setCheck(mapper.CheckCritical, fmt.Sprintf("riot api key rejected (http %d on %s)", status, endpoint))
	case status == 0:
		t.unreachable++
		if t.unreachable >= unreachableAfter {
			t.setCheck(mapper.CheckCritical, fmt.Sprintf("cannot reach riot (%s): %d network errors in a row", route, t.unreachable))
		}
	case status >= 500:
		t.unreachable = 0
		t.setCheck(mapper.CheckWarning, fmt.Sprintf("riot answers http %d on %s", status, endpoint))
	default:
		t.unreachable = 0
		t.setCheck(mapper.CheckOK, "")
	}
}

func (t *telemetry) setCheck(status mapper.CheckStatus, msg string) {
	t.check.Status, t.check.Message = status, msg
}

// Throttled implements riot.Observer.
func (t *telemetry) Throttled(endpoint, route, limitType string, wait time.Duration) {
	if limitType == "" {
		limitType = "untyped"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count(mapper.MetricBridgeRateLimited, 1, endpointTag(endpoint), mapper.TagLimitType+":"+mapper.TagValue(limitType))
	if wait >= holdNotReady {
		until := t.now().Add(wait)
		if h := t.holds[route]; until.After(h.until) {
			t.holds[route] = hold{until: until, limitType: limitType}
		}
	}
}

// holdNotReady is the shortest Retry-After that makes /readyz fail while
// it runs: shorter ones are routine pacing, longer ones stop the players
// of a route.
const holdNotReady = time.Minute

// hold is a long Retry-After on one route.
type hold struct {
	until     time.Time
	limitType string
}

// held describes the routes Riot holds back with a long Retry-After now,
// or "" when none is.
func (t *telemetry) held() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var out []string
	for _, route := range slices.Sorted(maps.Keys(t.holds)) {
		h := t.holds[route]
		if !now.Before(h.until) {
			delete(t.holds, route)
			continue
		}
		out = append(out, fmt.Sprintf("riot holds %s back for %v more (429 %s)", route, h.until.Sub(now).Round(time.Second), h.limitType))
	}
	return strings.Join(out, "; ")
}

// Waited implements riot.Observer.
func (t *telemetry) Waited(endpoint string, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sample(mapper.MetricBridgeWait, d, endpointTag(endpoint))
}

// Retried implements riot.Observer.
func (t *telemetry) Retried(endpoint string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count(mapper.MetricBridgeRetries, 1, endpointTag(endpoint))
}

// Polled implements riot.PollObserver.
func (t *telemetry) Polled(source string, d time.Duration, err error) {
	tag := mapper.TagPoller + ":" + mapper.TagValue(source)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sample(mapper.MetricBridgePollDuration, d, tag)
	if err != nil && !errors.Is(err, riot.ErrNotFound) {
		t.count(mapper.MetricBridgePollErrors, 1, tag)
	}
	if unavailable(err) {
		t.count(mapper.MetricBridgeStateUnavailable, 1, tag)
	}
}

// stateUnavailable counts a failure of source that Redis being unreachable
// caused; other errors are counted as poll errors.
func (t *telemetry) stateUnavailable(source string, err error) {
	if !unavailable(err) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count(mapper.MetricBridgeStateUnavailable, 1, mapper.TagPoller+":"+mapper.TagValue(source))
}

// unavailable tells whether err comes from Redis being unreachable, for the
// state store or for the shared rate limiter.
func unavailable(err error) bool {
	return errors.Is(err, state.ErrUnavailable) || errors.Is(err, ratelimit.ErrUnavailable)
}

// Skipped implements riot.PollObserver.
func (t *telemetry) Skipped(source string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count(mapper.MetricBridgePollSkipped, 1, mapper.TagPoller+":"+mapper.TagValue(source))
}

// emitted records what the pipeline handed to the sink.
func (t *telemetry) emitted(points, outsideIntake, matches int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for name, n := range map[string]int{
		mapper.MetricBridgePoints: points, mapper.MetricBridgeOutsideIntake: outsideIntake, mapper.MetricBridgeMatches: matches,
	} {
		if n > 0 {
			t.count(name, float64(n))
		}
	}
}

// recordSink turns the sink's cumulative counts into counts since the last
// flush.
func (t *telemetry) recordSink(st sink.Stats, transport string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tag := mapper.TagTransport + ":" + transport
	for _, c := range []struct {
		name      string
		now, then uint64
		tags      []string
	}{
		{mapper.MetricBridgeSinkErrors, st.Errors, t.sink.Errors, nil},
		{mapper.MetricBridgePayloadsWritten, st.PayloadsWritten, t.sink.PayloadsWritten, []string{tag}},
		{mapper.MetricBridgePayloadsRetried, st.PayloadsRetried, t.sink.PayloadsRetried, []string{tag}},
		{mapper.MetricBridgePayloadsDropped, st.PayloadsDropped, t.sink.PayloadsDropped, []string{tag}},
		{mapper.MetricBridgePointsWritten, st.PointsWritten, t.sink.PointsWritten, []string{tag}},
		{mapper.MetricBridgePointsDropped, st.PointsDropped, t.sink.PointsDropped, []string{tag}},
	} {
		if c.now > c.then {
			t.count(c.name, float64(c.now-c.then), c.tags...)
		}
	}
	t.sink = st
}

// undelivered counts a match frame the sink could not deliver.
func (t *telemetry) undelivered() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count(mapper.MetricBridgeUndelivered, 1)
}

// canConnect returns the current service check status.
func (t *telemetry) canConnect() mapper.ServiceCheck {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.check
}

// flush returns what gathered since the last flush, plus gauges, and starts
// over. Points carry no time: the Agent stamps them.
func (t *telemetry) flush(gauges map[string]float64, at time.Time) mapper.Batch {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b mapper.Batch
	for _, key := range slices.Sorted(maps.Keys(t.counts)) {
		b.Points = append(b.Points, *t.counts[key])
	}
	b.Points = append(b.Points, t.samples...)
	for _, name := range slices.Sorted(maps.Keys(gauges)) {
		b.Points = append(b.Points, mapper.Point{Name: name, Kind: mapper.Gauge, Value: gauges[name]})
	}
	check := t.check
	check.Time = at
	b.ServiceChecks = append(b.ServiceChecks, check)
	clear(t.counts)
	t.samples = nil
	return b
}

package bridge

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot/api"
	"github.com/riftbridge/riftbridge/state/redisconn"
)

// recorder gathers the bridge's own metrics between flushes, the way an
// Agent integration reports on itself: Riot requests, rate limiting, polls,
// delivery, emission, and the lol.bridge.riot.can_connect service check.
// It is the Observer every component is handed.
type recorder struct {
	mu      sync.Mutex
	counts  map[string]*mapper.Point // by name and tags
	samples []mapper.Point           // distribution samples
	// Transport failures in a row; a few mean Riot is unreachable.
	unreachable int
	check       mapper.ServiceCheck
	holds       map[string]hold      // by route
	deliveries  map[string]*delivery // by sink transport
	clock       clockwork.Clock
}

var _ telemetry.Observer = (*recorder)(nil)

// unreachableAfter transport failures in a row turn can_connect critical.
const unreachableAfter = 3

func newRecorder(clock clockwork.Clock) *recorder {
	return &recorder{
		counts:     map[string]*mapper.Point{},
		holds:      map[string]hold{},
		deliveries: map[string]*delivery{},
		clock:      clock,
		check:      mapper.ServiceCheck{Name: mapper.CheckCanConnect, Status: mapper.CheckUnknown, Message: "no riot request yet"},
	}
}

func (t *recorder) count(name string, n float64, tags ...string) {
	key := name + "|" + strings.Join(tags, ",")
	if p, ok := t.counts[key]; ok {
		p.Value += n
		return
	}
	t.counts[key] = &mapper.Point{Name: name, Kind: mapper.Count, Value: n, Tags: tags}
}

func (t *recorder) sample(name string, d time.Duration, tags ...string) {
	t.samples = append(t.samples, mapper.Point{Name: name, Kind: mapper.Distribution, Value: d.Seconds(), Tags: tags})
}

func endpointTag(endpoint string) string { return mapper.TagEndpoint + ":" + mapper.TagValue(endpoint) }

// Request implements telemetry.Observer.
func (t *recorder) Request(endpoint, route string, status int, latency time.Duration) {
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

func (t *recorder) setCheck(status mapper.CheckStatus, msg string) {
	t.check.Status, t.check.Message = status, msg
}

// Throttled implements telemetry.Observer.
func (t *recorder) Throttled(endpoint, route, limitType string, wait time.Duration) {
	if limitType == "" {
		limitType = "untyped"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count(mapper.MetricBridgeRateLimited, 1, endpointTag(endpoint), mapper.TagLimitType+":"+mapper.TagValue(limitType))
	if wait >= holdNotReady {
		until := t.clock.Now().Add(wait)
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
func (t *recorder) held() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock.Now()
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

// Waited implements telemetry.Observer.
func (t *recorder) Waited(endpoint string, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sample(mapper.MetricBridgeWait, d, endpointTag(endpoint))
}

// Retried implements telemetry.Observer.
func (t *recorder) Retried(endpoint string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count(mapper.MetricBridgeRetries, 1, endpointTag(endpoint))
}

// Polled implements telemetry.Observer.
func (t *recorder) Polled(poller string, d time.Duration, err error) {
	tag := mapper.TagPoller + ":" + mapper.TagValue(poller)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sample(mapper.MetricBridgePollDuration, d, tag)
	if err != nil && !errors.Is(err, api.ErrNotFound) {
		t.count(mapper.MetricBridgePollErrors, 1, tag)
	}
	if unavailable(err) {
		t.count(mapper.MetricBridgeStateUnavailable, 1, tag)
	}
}

// stateUnavailable counts a failure of poller that Redis being unreachable
// caused; other errors are counted as poll errors.
func (t *recorder) stateUnavailable(poller string, err error) {
	if !unavailable(err) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count(mapper.MetricBridgeStateUnavailable, 1, mapper.TagPoller+":"+mapper.TagValue(poller))
}

// unavailable tells whether err comes from Redis being unreachable, for the
// state store or for the shared rate limiter: the one connection's error.
func unavailable(err error) bool { return errors.Is(err, redisconn.ErrUnavailable) }

// Skipped implements telemetry.Observer.
func (t *recorder) Skipped(poller string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count(mapper.MetricBridgePollSkipped, 1, mapper.TagPoller+":"+mapper.TagValue(poller))
}

// emitted records what the pipeline handed to the sink.
func (t *recorder) emitted(points, outsideIntake, matches int) {
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

// Written implements telemetry.Observer. It runs once per payload, so it
// adds to counters kept per transport instead of building tagged keys.
func (t *recorder) Written(transport string, points int, retried bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.deliveryOf(transport)
	d.payloadsWritten++
	d.pointsWritten += points
	if retried {
		d.payloadsRetried++
	}
}

// Dropped implements telemetry.Observer.
func (t *recorder) Dropped(transport string, points int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.deliveryOf(transport)
	d.payloadsDropped++
	d.pointsDropped += points
	t.count(mapper.MetricBridgeSinkErrors, 1)
}

// delivery counts what one transport delivered since the last flush.
type delivery struct {
	payloadsWritten, payloadsRetried, payloadsDropped int
	pointsWritten, pointsDropped                      int
}

func (t *recorder) deliveryOf(transport string) *delivery {
	d, ok := t.deliveries[transport]
	if !ok {
		d = &delivery{}
		t.deliveries[transport] = d
	}
	return d
}

// flushDeliveries turns the delivery counters into points; call with mu.
func (t *recorder) flushDeliveries() {
	for transport, d := range t.deliveries {
		tag := mapper.TagTransport + ":" + transport
		for name, n := range map[string]int{
			mapper.MetricBridgePayloadsWritten: d.payloadsWritten,
			mapper.MetricBridgePayloadsRetried: d.payloadsRetried,
			mapper.MetricBridgePayloadsDropped: d.payloadsDropped,
			mapper.MetricBridgePointsWritten:   d.pointsWritten,
			mapper.MetricBridgePointsDropped:   d.pointsDropped,
		} {
			if n > 0 {
				t.count(name, float64(n), tag)
			}
		}
	}
	clear(t.deliveries)
}

// Rejected implements telemetry.Observer.
func (t *recorder) Rejected(string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count(mapper.MetricBridgeSinkErrors, 1)
}

// undelivered counts a match frame the sink could not deliver.
func (t *recorder) undelivered() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count(mapper.MetricBridgeUndelivered, 1)
}

// canConnect returns the current service check status.
func (t *recorder) canConnect() mapper.ServiceCheck {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.check
}

// flush returns what gathered since the last flush, plus gauges, and starts
// over. Points carry no time: the Agent stamps them.
func (t *recorder) flush(gauges map[string]float64, at time.Time) mapper.Batch {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.flushDeliveries()
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

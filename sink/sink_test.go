package sink_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"
	"go.uber.org/goleak"

	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/sink"
	"github.com/riftbridge/riftbridge/sink/sinktest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// at is the time of every fixture point: unix 1712326878.
var at = sinktest.At

// fixture is a small frame with both kinds of point and an event.
func fixture() mapper.Batch { return sinktest.Fixture() }

// bridgeTelemetry holds what the bridge reports about itself: a distribution, and
// service checks of which the last two must be dropped.
func bridgeTelemetry() mapper.Batch {
	return mapper.Batch{
		Points: []mapper.Point{
			{Name: "bridge.riot.latency", Kind: mapper.Distribution, Value: 0.125, Tags: []string{"endpoint:match-v5.getmatch"}, Time: at},
		},
		ServiceChecks: []mapper.ServiceCheck{
			{Name: "bridge.riot.can_connect", Status: mapper.CheckCritical, Message: "riot api key rejected\n(403)", Tags: []string{"platform:kr"}, Time: at},
			{Name: "bridge.riot.can_connect", Status: mapper.CheckOK, Tags: []string{"platform:euw1"}},
			{Name: "check|x", Status: mapper.CheckWarning, Message: "m|x", Tags: []string{"a,b"}},
			{Name: "", Status: mapper.CheckOK},
			{Name: "bad.status", Status: 7},
		},
	}
}

// fixtureLines is how many DogStatsD lines fixture() makes: one per item.
func fixtureLines() int {
	b := fixture()
	return len(b.Points) + len(b.Events) + len(b.ServiceChecks)
}

// hostile holds what must never corrupt a datagram, and what must be dropped.
func hostile() mapper.Batch {
	return mapper.Batch{
		Points: []mapper.Point{
			{Name: "team.gold|g\nlol.fake:1", Kind: mapper.Gauge, Value: 1, Tags: []string{"team:blue|#x,y", "", "evil:a\nb", "bad tag"}, Time: at},
			{Name: "séoul.gold", Kind: mapper.Count, Value: 2.6, Time: at},
			{Name: "nan", Kind: mapper.Gauge, Value: math.NaN(), Time: at},
			{Name: "inf", Kind: mapper.Count, Value: math.Inf(-1), Time: at},
			{Name: "", Kind: mapper.Gauge, Value: 1, Time: at},
			{Name: "kindless", Value: 1, Time: at},
			{Name: "huge", Kind: mapper.Count, Value: 1e19, Time: at},
		},
		Events: []mapper.Event{
			{Title: "Baron\nslain|x", Text: "a\r\nb|c\rd", AggregationKey: "KR|1\n", AlertType: "fatal", Tags: []string{"team:red,blue"}},
			{Title: "\r\n", Text: "no title"},
		},
	}
}

// hostileErrors counts the items of hostile() that must be dropped.
const hostileErrors = 6

// testOptions make datagrams machine-independent and give Unix sockets time
// to drain on a loaded machine; they measure nothing.
func testOptions(opts ...sink.Option) []sink.Option {
	return append([]sink.Option{
		sink.WithStatsdOptions(statsd.WithoutTelemetry(), statsd.WithoutOriginDetection(), statsd.WithWriteTimeout(time.Minute)),
	}, opts...)
}

// hangGuard only turns a hang into a failure showing what arrived.
const hangGuard = 30 * time.Second

func waitContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	t.Cleanup(cancel)
	return ctx
}

package bridge

import (
	"fmt"
	"io"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/config"
	"github.com/riftbridge/riftbridge/sink"
)

// newSink builds the configured sink. timestamps sends every point with its
// own time (backfill, finished matches) instead of letting the Agent stamp
// it on arrival.
func newSink(cfg *config.Config, stdout io.Writer, timestamps bool, set telemetry.Settings) (sink.Sink, error) {
	opts := []sink.Option{
		sink.WithNamespace(cfg.Metrics.Prefix()),
		sink.WithTags(cfg.Metrics.Tags),
		sink.WithTimestamps(timestamps),
		sink.WithPatience(cfg.Statsd.Patience),
		sink.WithUDPRate(cfg.Statsd.UDPDatagramsPerSecond),
	}
	switch cfg.Sink {
	case config.SinkStdout:
		return sink.NewStdout(stdout, set, opts...)
	default:
		s, err := sink.NewDogStatsD(cfg.Statsd.Address, set, opts...)
		if err != nil {
			return nil, &InputError{err}
		}
		return s, nil
	}
}

// sinkName names the sink and, for DogStatsD, where it sends.
func sinkName(s sink.Sink) string {
	switch s := s.(type) {
	case *sink.DogStatsD:
		return "dogstatsd " + s.Endpoint().String()
	case *sink.Stdout:
		return config.SinkStdout
	}
	return fmt.Sprintf("%T", s)
}

// transportAttrs say which transport a DogStatsD sink chose and why, for the
// start-up line.
func transportAttrs(s sink.Sink) []any {
	d, ok := s.(*sink.DogStatsD)
	if !ok {
		return nil
	}
	ep := d.Endpoint()
	return []any{"transport", ep.Transport, "transport_chosen", ep.Why}
}

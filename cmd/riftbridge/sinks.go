package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/riftbridge/riftbridge/config"
	"github.com/riftbridge/riftbridge/sink"
)

// newSink builds the configured sink. timestamps sends every point with its
// own time (backfill) instead of letting the Agent stamp it on arrival.
func newSink(cfg *config.Config, stdout io.Writer, timestamps bool, log *slog.Logger) (sink.Sink, error) {
	opts := []sink.Option{
		sink.WithNamespace(cfg.Metrics.Prefix()),
		sink.WithTags(cfg.Metrics.Tags),
		sink.WithTimestamps(timestamps),
		sink.WithLogger(log),
	}
	switch cfg.Sink {
	case config.SinkStdout:
		return sink.NewStdout(stdout, opts...)
	default:
		s, err := sink.NewDogStatsD(cfg.Statsd.Address, opts...)
		if err != nil {
			return nil, badInput{fmt.Errorf("dogstatsd sink: %w", err)}
		}
		return s, nil
	}
}

func sinkName(cfg *config.Config) string {
	if cfg.Sink == config.SinkDogStatsD {
		addr := cfg.Statsd.Address
		if addr == "" {
			addr = "DD_DOGSTATSD_URL/DD_AGENT_HOST"
		}
		return "dogstatsd " + addr
	}
	return cfg.Sink
}

// sinkHealth turns asynchronous delivery failures into the command's error,
// so a replay into a dead Agent does not end with a success exit code.
func sinkHealth(s sink.Sink, name string) error {
	d, ok := s.(*sink.DogStatsD)
	if !ok {
		return nil
	}
	if st := d.Stats(); st.Errors > 0 {
		return fmt.Errorf("%s: %d payloads failed or were dropped out of %d points and %d events sent; is the Datadog Agent listening there?", name, st.Errors, st.Points, st.Events)
	}
	return nil
}

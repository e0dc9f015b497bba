package bridge

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/config"
	"github.com/riftbridge/riftbridge/sink/statsdtest"
)

// discardUDP counts the bytes of the datagrams it receives, so that a
// benchmark can run for any b.N without holding them.
func discardUDP(b *testing.B) (addr string, received *atomic.Int64) {
	received = &atomic.Int64{}
	return statsdtest.ListenFunc(b, func(d []byte, _ time.Time) { received.Add(int64(len(d))) }), received
}

// BenchmarkReplayUDP is a whole replay of the sample at speed 0 — read,
// decode, map, send to a real UDP listener, flush — as `riftbridge replay`
// runs it.
func BenchmarkReplayUDP(b *testing.B) {
	for _, backfill := range []bool{false, true} {
		name := "live"
		if backfill {
			name = "backfill"
		}
		b.Run(name, func(b *testing.B) {
			statsdtest.ClearEnv(b)
			addr, received := discardUDP(b)
			cfg := config.NewDefault()
			cfg.Statsd.Address = addr
			// Unpaced: this measures the pipeline; the sink's benchmarks
			// measure delivery at the default pace.
			cfg.Statsd.UDPDatagramsPerSecond = 0
			cfg.Replay.Timeline = []string{sampleTimeline}
			cfg.Replay.Match = sampleMatch
			cfg.Replay.Backfill = backfill
			load := func() (*config.Config, error) { return cfg, nil }
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Replay(context.Background(), load, WithOutput(io.Discard, io.Discard)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(16750*float64(b.N)/b.Elapsed().Seconds(), "points/s")
			b.ReportMetric(float64(received.Load())/float64(b.N), "bytes_sent/op")
		})
	}
}

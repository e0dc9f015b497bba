package api

import (
	"fmt"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot/ratelimit"
	"github.com/riftbridge/riftbridge/state/redistest"
)

// BenchmarkSaturationShare reports the share of the binding limit used under
// saturation (target ≥ 0.9) and the 429s drawn (target 0): 200 goroutines
// on a cold Doer against 10:1,30:3 and a 4:1 method limit, for 3.3 s of
// real time; see saturate.
func BenchmarkSaturationShare(b *testing.B) {
	var s saturation
	for b.Loop() {
		s = saturate(b, 3300*time.Millisecond)
	}
	b.ReportMetric(s.share, "share")
	b.ReportMetric(float64(s.limited), "429s")
	b.ReportMetric(float64(s.accepted), "accepted")
	b.ReportMetric(float64(s.allowed), "allowed")
}

// BenchmarkSaturationShareReplicas is BenchmarkSaturationShare with the
// limiter in Redis (ratelimit.Shared), for one replica and for three sharing
// the key: the share of the binding limit used (target ≥ 0.9, the same for
// both) and the 429s drawn (target 0).
func BenchmarkSaturationShareReplicas(b *testing.B) {
	url := redistest.URL(b)
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			var s saturation
			for b.Loop() {
				prefix := redistest.Prefix(b, url)
				s = saturateDoers(b, 3300*time.Millisecond, n, func() ratelimit.Reserver {
					// A connection each, as replicas have.
					return ratelimit.NewShared(redistest.Conn(b, url), telemetry.Settings{}, ratelimit.WithPrefix(prefix))
				})
			}
			b.ReportMetric(s.share, "share")
			b.ReportMetric(float64(s.limited), "429s")
			b.ReportMetric(float64(s.accepted), "accepted")
		})
	}
}

package ratelimit_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/ratelimit"
)

// benchShared is a Shared whose limits never bind, with its method learned,
// so a Wait and Done cost what sharing costs: two script runs in Redis.
func benchShared(b *testing.B) (*ratelimit.Shared, http.Header) {
	s := replicas(b, redisURL(b), 1, ratelimit.WithAppDefaults([]riot.Limit{{Count: 2000000000, Window: time.Second}}))[0]
	h := limitHeaders("2000000000:10", "1:10", "2000000000:10", "1:10")
	p, err := s.Wait(context.Background(), "kr", "match")
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Done(http.StatusOK, h); err != nil {
		b.Fatal(err)
	}
	return s, h
}

// BenchmarkSharedWait is BenchmarkWaitUncontended through Redis: the
// difference is the latency sharing adds to each request.
func BenchmarkSharedWait(b *testing.B) {
	s, h := benchShared(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p, err := s.Wait(ctx, "kr", "match")
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Done(http.StatusOK, h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSharedWaitParallel(b *testing.B) {
	s, h := benchShared(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p, err := s.Wait(ctx, "kr", "match")
			if err != nil {
				b.Error(err)
				return
			}
			if err := p.Done(http.StatusOK, h); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkShareOfLimit runs hammer (10:1,30:3 for 3.5 s) with one replica
// and with three sharing the key, and reports the share of what Riot's
// windows allow that got through and the 429s drawn; the target is ≥ 0.9
// and 0 for both.
func BenchmarkShareOfLimit(b *testing.B) {
	url := redisURL(b)
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			var share float64
			var limited, runs int
			for b.Loop() {
				res := hammer(b, url, n, 4, 3500*time.Millisecond)
				share += res.share()
				for _, c := range res.limited {
					limited += c
				}
				runs++
			}
			b.ReportMetric(share/float64(runs), "share_of_limit")
			b.ReportMetric(float64(limited)/float64(runs), "429s")
		})
	}
}

package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot/ratelimit"
	"github.com/riftbridge/riftbridge/state/redistest"
)

// redisURL returns the Redis for tb: CI's, shared by every package's
// tests, or a redis-server of its own.
func redisURL(tb testing.TB) string {
	tb.Helper()
	return redistest.URL(tb)
}

// replicas returns n Shared limiters, each with its own Redis connection
// as separate processes would have, sharing one budget.
func replicas(tb testing.TB, url string, n int, opts ...ratelimit.Option) []*ratelimit.Shared {
	return replicasWith(tb, url, n, telemetry.Settings{}, opts...)
}

// replicasWith is replicas with settings.
func replicasWith(tb testing.TB, url string, n int, set telemetry.Settings, opts ...ratelimit.Option) []*ratelimit.Shared {
	tb.Helper()
	prefix := redistest.Prefix(tb, url)
	opts = append([]ratelimit.Option{ratelimit.WithPrefix(prefix)}, opts...)
	out := make([]*ratelimit.Shared, n)
	for i := range out {
		out[i] = ratelimit.NewShared(redistest.Conn(tb, url), set, opts...)
	}
	return out
}

// admit reports whether r lets a request through at once, returning its
// permit. A Wait that would block either fails fast against the short
// deadline (a window or Retry-After) or runs into it (a probe elsewhere).
func admit(tb testing.TB, r ratelimit.Reserver, route, method string) (ratelimit.Permit, bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	p, err := r.Wait(ctx, route, method)
	if err == nil {
		return p, true
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		tb.Fatalf("Wait(%s, %s) = %v", route, method, err)
	}
	return nil, false
}

// admitted counts how many requests r lets through at once, up to max.
func admitted(tb testing.TB, r ratelimit.Reserver, route, method string, max int) int {
	tb.Helper()
	for n := range max {
		if _, ok := admit(tb, r, route, method); !ok {
			return n
		}
	}
	return max
}

// flushRedis empties the Redis at url, as one restarted without persistence
// comes back.
func flushRedis(tb testing.TB, url string) {
	tb.Helper()
	if err := redistest.Client(tb, url).FlushDB(context.Background()).Err(); err != nil {
		tb.Fatal(err)
	}
}

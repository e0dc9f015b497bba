package riot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/riot/ratelimit"
	"github.com/riftbridge/riftbridge/riot/riottest"
	"github.com/riftbridge/riftbridge/state"
	"github.com/riftbridge/riftbridge/state/redistest"
)

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
					l, err := ratelimit.NewShared(url, ratelimit.WithPrefix(prefix))
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { _ = l.Close() })
					return l
				})
			}
			b.ReportMetric(s.share, "share")
			b.ReportMetric(float64(s.limited), "429s")
			b.ReportMetric(float64(s.accepted), "accepted")
		})
	}
}

// BenchmarkCostPerPlayer runs 200 idle players for 5 s of real time with the
// spectator interval cut from 57 s to 1 s (57× the default request rate),
// once per state backend, and reports what each Riot request costs: CPU of
// this process (Pollers, Doer, limiter and the in-process riottest), and
// with Redis its commands and its own CPU. Times 68.7 requests per
// player-hour (BenchmarkRequestsPerPlayerHour), that is the cost of one
// tracked player. backend=memory (no state, in-memory limiter) is the
// baseline; bolt adds the state file; redis moves the rate limit and the
// state to Redis, as replicas run. Redis round trips are counted as the
// scripts run (EVALSHA): the commands inside them are not round trips.
func BenchmarkCostPerPlayer(b *testing.B) {
	const players = 200
	url := redistest.URL(b)
	for _, backend := range []string{"memory", "bolt", "redis"} {
		b.Run("backend="+backend, func(b *testing.B) {
			var requests, cpu, redisScripts, redisCPU float64
			for b.Loop() {
				srv := newServer(b, riottest.WithAppLimits(riottest.Limit{Count: 5000, Seconds: 1}))
				appLimits := []ratelimit.Limit{{Count: 5000, Window: time.Second}}
				var limiter ratelimit.Reserver = ratelimit.New(ratelimit.WithAppDefaults(appLimits))
				var store state.Store
				switch backend {
				case "bolt":
					bolt, err := state.OpenBolt(b.TempDir() + "/state.db")
					if err != nil {
						b.Fatal(err)
					}
					store = bolt
				case "redis":
					prefix := redistest.Prefix(b, url)
					r, err := state.NewRedis(url, state.RedisPrefix(prefix))
					if err != nil {
						b.Fatal(err)
					}
					shared, err := ratelimit.NewShared(url, ratelimit.WithPrefix(prefix+"ratelimit:"), ratelimit.WithAppDefaults(appLimits))
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { _ = shared.Close() })
					store, limiter = r, shared
				}
				if store != nil {
					b.Cleanup(func() { _ = store.Close() })
				}
				client := NewClient(newTestDoer(b, srv, DoerOptions{Limiter: limiter}))
				var specs []PlayerSpec
				for i := range players {
					name := fmt.Sprintf("Cost%03d", i)
					srv.AddPlayer(name, "CPP", "kr")
					specs = append(specs, PlayerSpec{RiotID: name + "#CPP", Platform: "kr"})
				}
				p := &Pollers{
					Client:    client,
					Spectator: &Spectator{Client: client},
					Matches:   &Matches{Client: client, Since: time.Now(), GiveUpAfter: time.Hour, Concurrency: 4, Owner: "bench"},
					Intervals: func() Intervals {
						return Intervals{Spectator: time.Second, Matches: 30 * time.Minute, Fetch: time.Minute}
					},
					Jitter:  0.05,
					Timeout: 20 * time.Second,
				}
				if store != nil {
					p.Spectator.Markers, p.Matches.Ledger, p.PUUIDs, p.PUUIDRefresh = store, store, store, 24*time.Hour
				}
				p.SetPlayers(specs)

				scripts0, rcpu0 := redisStats(b, url)
				cpu0 := processCPU(b)
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- p.Run(ctx, func(context.Context, Update) error { return nil }) }()
				time.Sleep(5 * time.Second)
				cancel()
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				cpu = (processCPU(b) - cpu0).Seconds()
				scripts1, rcpu1 := redisStats(b, url)
				requests = float64(srv.Stats().Requests)
				redisScripts, redisCPU = scripts1-scripts0, rcpu1-rcpu0
			}
			b.ReportMetric(requests, "requests")
			b.ReportMetric(cpu/requests*1e6, "cpu-µs/request")
			if backend == "redis" {
				b.ReportMetric(redisScripts/requests, "redis-scripts/request")
				b.ReportMetric(redisCPU/requests*1e6, "redis-cpu-µs/request")
			}
		})
	}
}

// processCPU is the user and system CPU time this process has used.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// redisStats reads the scripts Redis has run and the CPU seconds it has
// used. A Redis shared with other tests counts theirs too: run this
// benchmark alone.
func redisStats(tb testing.TB, url string) (scripts, cpuSeconds float64) {
	tb.Helper()
	info, err := redistest.Client(tb, url).Info(context.Background(), "commandstats", "cpu").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch k {
		case "cmdstat_evalsha", "cmdstat_eval":
			// calls=N,usec=…
			calls, _, _ := strings.Cut(strings.TrimPrefix(v, "calls="), ",")
			n, _ := strconv.ParseFloat(calls, 64)
			scripts += n
		case "used_cpu_user", "used_cpu_sys":
			f, _ := strconv.ParseFloat(v, 64)
			cpuSeconds += f
		}
	}
	return scripts, cpuSeconds
}

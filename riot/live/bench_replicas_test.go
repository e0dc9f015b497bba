package live

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/api"

	"github.com/riftbridge/riftbridge/riot/ratelimit"
	"github.com/riftbridge/riftbridge/riot/riottest"
	"github.com/riftbridge/riftbridge/state"
	"github.com/riftbridge/riftbridge/state/redistest"
)

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
				appLimits := []riot.Limit{{Count: 5000, Window: time.Second}}
				var limiter ratelimit.Reserver = ratelimit.New(telemetry.Settings{}, ratelimit.WithAppDefaults(appLimits))
				var store state.Store
				switch backend {
				case "bolt":
					bolt, err := state.OpenBolt(b.TempDir()+"/state.db", telemetry.Settings{})
					if err != nil {
						b.Fatal(err)
					}
					store = bolt
				case "redis":
					prefix := redistest.Prefix(b, url)
					conn := redistest.Conn(b, url)
					store = state.NewRedis(conn, state.RedisPrefix(prefix))
					limiter = ratelimit.NewShared(conn, telemetry.Settings{}, ratelimit.WithPrefix(prefix+"ratelimit:"), ratelimit.WithAppDefaults(appLimits))
				}
				if store != nil {
					b.Cleanup(func() { _ = store.Close() })
				}
				client := api.NewClient(newTestDoer(b, srv, telemetry.Settings{}, api.WithLimiter(limiter)))
				var specs []PlayerSpec
				for i := range players {
					name := fmt.Sprintf("Cost%03d", i)
					srv.AddPlayer(name, "CPP", "kr")
					specs = append(specs, PlayerSpec{RiotID: name + "#CPP", Platform: "kr"})
				}
				matchOpts := []MatchesOption{WithSince(time.Now()), WithGiveUpAfter(time.Hour), WithConcurrency(4)}
				var spectatorOpts []SpectatorOption
				pollerOpts := []Option{WithJitter(0.05), WithPollTimeout(20 * time.Second)}
				if store != nil {
					matchOpts = append(matchOpts, WithLedger(store, "bench", 0))
					spectatorOpts = append(spectatorOpts, WithMarkers(store))
					pollerOpts = append(pollerOpts, WithPUUIDCache(store, 24*time.Hour))
				}
				p := NewPollers(client, NewSpectator(client, spectatorOpts...), NewMatches(client, telemetry.Settings{}, matchOpts...),
					func() Intervals {
						return Intervals{Spectator: time.Second, Matches: 30 * time.Minute, Fetch: time.Minute}
					},
					telemetry.Settings{}, pollerOpts...)
				p.SetPlayers(specs)

				scripts0, rcpu0 := redisStats(b, url)
				cpu0 := processCPU(b)
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- p.Run(ctx, emitFunc(func(context.Context, update) error { return nil })) }()
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

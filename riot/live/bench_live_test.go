package live

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/api"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/riot/ratelimit"
	"github.com/riftbridge/riftbridge/riot/riottest"
)

// inflightTransport counts requests between send and response.
type inflightTransport struct {
	rt       http.RoundTripper
	inflight atomic.Int64
}

func (t *inflightTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.inflight.Add(1)
	defer t.inflight.Add(-1)
	return t.rt.RoundTrip(r)
}

// hourResult is one simulated hour of Pollers.
type hourResult struct {
	requests   riottest.Stats
	players    int
	worstDelay time.Duration // game start to the spectator's Started
	meanDelay  time.Duration
	missed     int // games whose start was never seen
	unfetched  int // games whose frames were not emitted
}

// simulateHour runs Pollers at the default intervals (spectator 57 s, match
// list 30 min, fetch retry 1 min, jitter 0.05) over a simulated hour, in
// which each of n players plays one ranked game whose match Riot processes
// 2 minutes after it ends.
//
// One fake clock drives the poll loops, Matches, the Doer, its limiter and
// riottest. The clock moves in 100 ms steps; after each step the simulation
// waits until every loop is armed again (each re-arm reads Intervals once),
// every poll a tick started has been reported, and no request is in flight.
// A fetch started by a game's end (a trigger, not a tick) is not waited for,
// so its requests may land a step late; counts are unaffected.
func simulateHour(tb testing.TB, n int) hourResult {
	tb.Helper()
	clk := clockwork.NewFakeClockAt(t0)
	// A production key's limits: the simulation measures demand, not pacing.
	prod := []riottest.Limit{{Count: 500, Seconds: 10}, {Count: 30000, Seconds: 600}}
	srv := newServer(tb, riottest.WithClock(clk), riottest.WithAppLimits(prod...))
	tr := &inflightTransport{rt: &http.Transport{}}
	tb.Cleanup(tr.rt.(*http.Transport).CloseIdleConnections)
	onClock := telemetry.Settings{Clock: clk}
	limiter := ratelimit.New(onClock, ratelimit.WithAppDefaults([]riot.Limit{{Count: 500, Window: 10 * time.Second}, {Count: 30000, Window: 600 * time.Second}}))
	client := api.NewClient(newTestDoer(tb, srv, onClock, api.WithLimiter(limiter), api.WithHTTPClient(&http.Client{Transport: tr, Timeout: 10 * time.Second})))

	platforms := []string{"kr", "euw1", "na1", "eun1", "oc1", "br1", "jp1", "tr1"}
	gameStart := map[string]time.Time{} // by match id
	var specs []PlayerSpec
	for i := range n {
		platform := platforms[i%len(platforms)]
		name := fmt.Sprintf("Sim%03d", i)
		puuid := srv.AddPlayer(name, "SIM", platform)
		specs = append(specs, PlayerSpec{RiotID: name + "#SIM", Platform: platform})
		// Starts spread over the first 25 minutes; the sample game lasts
		// 29 minutes, so every game ends, and is processed, within the hour.
		start := t0.Add(time.Duration(i) * 25 * time.Minute / time.Duration(n)).Add(17 * time.Second)
		id := srv.AddGame(riottest.GameSpec{Platform: platform, Players: []string{puuid}, Start: start, ProcessingDelay: 2 * time.Minute})
		gameStart[id] = start
	}

	var arms atomic.Int64
	polls := newPollCounts()
	iv := Intervals{Spectator: 57 * time.Second, Matches: 30 * time.Minute, Fetch: time.Minute}
	p := NewPollers(client, NewSpectator(client),
		NewMatches(client, onClock, WithSince(t0.Add(-time.Hour)), WithGiveUpAfter(time.Hour), WithConcurrency(4)),
		func() Intervals { arms.Add(1); return iv },
		telemetry.Settings{Clock: clk, Observer: polls}, WithJitter(0.05))
	p.SetPlayers(specs)

	var mu sync.Mutex
	seen := map[string]time.Time{}
	frames := map[string]int{}
	emit := func(_ context.Context, u update) error {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case u.Live == nil:
			frames[u.Recording.Match.Metadata.MatchID]++
		case u.Live.Started:
			id := u.Live.Game.MatchID()
			if _, ok := seen[id]; !ok {
				seen[id] = clk.Now()
			}
		}
		return nil
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, emitFunc(emit)) }()

	handled := func() int64 {
		polls.mu.Lock()
		defer polls.mu.Unlock()
		var sum int
		for _, source := range []string{"resolve", "spectator", "matches", "matches.fetch"} {
			sum += polls.polled[source] + polls.skipped[source]
		}
		return int64(sum)
	}
	settle := func() {
		tb.Helper()
		// The schedule of every player's loops, and the fetch loop.
		if err := blockUntil(clk, 2); err != nil {
			tb.Fatalf("at %v: loops not armed: %v", clk.Since(t0), err)
		}
		deadline := time.Now().Add(10 * time.Second)
		last, quietSince := handled(), time.Now()
		for tr.inflight.Load() != 0 || handled() < arms.Load() {
			// A poll can also be waiting on the fake clock itself (a rate
			// limit wait or a backoff): once nothing is in flight and no poll
			// has finished for a while, the next Advance is what it needs.
			if h := handled(); h != last {
				last, quietSince = h, time.Now()
			} else if tr.inflight.Load() == 0 && time.Since(quietSince) > 20*time.Millisecond {
				return
			}
			if time.Now().After(deadline) {
				tb.Fatalf("at %v: %d polls handled of %d started, %d requests in flight", clk.Since(t0), handled(), arms.Load(), tr.inflight.Load())
			}
			time.Sleep(20 * time.Microsecond)
		}
	}
	settle()
	const step = 100 * time.Millisecond
	for clk.Since(t0) < time.Hour {
		clk.Advance(step)
		settle()
	}
	cancel()
	if err := <-done; err != nil {
		tb.Fatal(err)
	}

	res := hourResult{requests: srv.Stats(), players: n}
	mu.Lock()
	defer mu.Unlock()
	var total time.Duration
	for id, start := range gameStart {
		at, ok := seen[id]
		if !ok {
			res.missed++
			continue
		}
		d := at.Sub(start)
		total += d
		res.worstDelay = max(res.worstDelay, d)
		if frames[id] == 0 {
			res.unfetched++
		}
	}
	if len(seen) > 0 {
		res.meanDelay = total / time.Duration(len(seen))
	}
	return res
}

// BenchmarkRequestsPerPlayerHour reports the Riot requests one tracked
// player costs per hour at the default intervals (target ≤ 70) and the worst
// delay between a game's start and its detection (target ≤ 60 s), from a
// simulated hour; see simulateHour.
func BenchmarkRequestsPerPlayerHour(b *testing.B) {
	const players = 24
	var res hourResult
	for b.Loop() {
		res = simulateHour(b, players)
	}
	perPlayer := func(ep riottest.Endpoint) float64 {
		n := 0
		for re, c := range res.requests.ByEndpoint {
			if re.Endpoint == ep {
				n += c
			}
		}
		return float64(n) / players
	}
	b.ReportMetric(float64(res.requests.Requests)/players, "requests/player-hour")
	b.ReportMetric(perPlayer(riottest.EndpointSpectator), "spectator/player-hour")
	b.ReportMetric(perPlayer(riottest.EndpointMatchIDs), "matchids/player-hour")
	b.ReportMetric(perPlayer(riottest.EndpointMatch)+perPlayer(riottest.EndpointTimeline), "match+timeline/player-hour")
	b.ReportMetric(res.worstDelay.Seconds(), "worst-detect-s")
	b.ReportMetric(res.meanDelay.Seconds(), "mean-detect-s")
	b.ReportMetric(float64(res.missed), "games-missed")
	b.ReportMetric(float64(res.unfetched), "games-unfetched")
	b.ReportMetric(float64(res.requests.RateLimited[riottest.LimitApplication]+res.requests.RateLimited[riottest.LimitMethod]), "429s")
}

// BenchmarkMemory1000Players tracks 1,000 idle players on 8 platforms for
// 4 s of real time under generous limits, long enough for every player to
// be resolved and its loops started, and reports (target ≤ 50 MB):
//   - heap-MB: heap in use, after garbage is collected and returned to the OS;
//   - rss-MB: VmRSS then; base-rss-MB: VmRSS before Run, with riottest and
//     its players already set up, so rss-MB − base-rss-MB is what Pollers
//     holds;
//   - peak-rss-MB: VmHWM, the process's high-water mark (run this benchmark
//     alone for it to mean anything). Under these limits every player
//     resolves at once, which a real key's limits would spread out.
//
// riottest runs in the same process, so its memory is in every figure.
func BenchmarkMemory1000Players(b *testing.B) {
	const players = 1000
	var heapMB, rssMB, baseMB, peakMB float64
	var resolved, goroutines int
	for b.Loop() {
		limits := []riottest.Limit{{Count: 5000, Seconds: 1}}
		srv := newServer(b, riottest.WithAppLimits(limits...))
		limiter := ratelimit.New(telemetry.Settings{}, ratelimit.WithAppDefaults([]riot.Limit{{Count: 5000, Window: time.Second}}))
		client := api.NewClient(newTestDoer(b, srv, telemetry.Settings{}, api.WithLimiter(limiter)))
		platforms := []string{"kr", "euw1", "na1", "eun1", "oc1", "br1", "jp1", "tr1"}
		var specs []PlayerSpec
		for i := range players {
			platform := platforms[i%len(platforms)]
			name := fmt.Sprintf("Mem%04d", i)
			srv.AddPlayer(name, "MEM", platform)
			specs = append(specs, PlayerSpec{RiotID: name + "#MEM", Platform: platform})
		}
		p := NewPollers(client, NewSpectator(client),
			NewMatches(client, telemetry.Settings{}, WithSince(time.Now()), WithGiveUpAfter(time.Hour), WithConcurrency(4)),
			func() Intervals {
				return Intervals{Spectator: 57 * time.Second, Matches: 30 * time.Minute, Fetch: time.Minute}
			},
			telemetry.Settings{}, WithJitter(0.05), WithPollTimeout(20*time.Second))
		p.SetPlayers(specs)
		debug.FreeOSMemory()
		baseMB = procStatusMB(b, "VmRSS")

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx, emitFunc(func(context.Context, update) error { return nil })) }()
		time.Sleep(4 * time.Second)

		// Twice: sync.Pool keeps its objects through one collection.
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heapMB = float64(ms.HeapInuse) / (1 << 20)
		rssMB = procStatusMB(b, "VmRSS")
		peakMB = procStatusMB(b, "VmHWM")
		goroutines = runtime.NumGoroutine()
		resolved, _ = p.Resolved()
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(heapMB, "heap-MB")
	b.ReportMetric(rssMB, "rss-MB")
	b.ReportMetric(baseMB, "base-rss-MB")
	b.ReportMetric(peakMB, "peak-rss-MB")
	b.ReportMetric(float64(goroutines), "goroutines")
	b.ReportMetric(float64(resolved), "players-resolved")
}

// procStatusMB reads a kB field such as VmRSS from /proc/self/status.
func procStatusMB(tb testing.TB, field string) float64 {
	tb.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				tb.Fatalf("%s %q: %v", field, rest, err)
			}
			return float64(kb) / 1024
		}
	}
	tb.Fatalf("no %s in /proc/self/status", field)
	return 0
}

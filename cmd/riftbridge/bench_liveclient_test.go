package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/riot/liveclient"
	"github.com/riftbridge/riftbridge/riot/liveclient/lctest"
	"github.com/riftbridge/riftbridge/sink/statsdtest"
)

// arrival is a datagram and when it came.
type arrival struct {
	at    time.Time
	lines []string
}

// stamped keeps every datagram with its arrival time.
type stamped struct {
	mu  sync.Mutex
	got []arrival
}

func (s *stamped) add(datagram []byte, at time.Time) {
	lines := strings.Split(strings.TrimSpace(string(datagram)), "\n")
	s.mu.Lock()
	s.got = append(s.got, arrival{at: at, lines: lines})
	s.mu.Unlock()
}

func (s *stamped) arrivals() []arrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// BenchmarkLiveClientFollow runs `riftbridge run` as its own process with
// only the Live Client source, at the default 1 s interval, against a
// Live-Client-shaped server in this process playing the ranked capture
// (patch 11.21, ten players, 89 events), and reports:
//   - event-p50-ms, event-p95-ms, event-max-ms: from an event appearing in
//     the API to the datagram that counts it arriving at a UDP listener
//     (target ≤ interval + 100 ms = 1100 ms), over every event the game
//     reveals once the bridge follows it; at speed=20 the game runs 20×
//     faster, for many events, while the bridge still polls once a second;
//   - snapshot-p50-ms, snapshot-max-ms: from the moment the API computed a
//     snapshot (its gameTime) to the datagram of lol.match.game_time
//     carrying it: the poll's own round trip, mapping and send;
//   - cpu-pct (of one core) and rss-MB, peak-rss-MB of the bridge over the
//     run, and requests-per-min to the API.
//
// Run with -benchtime=1x: speed=1 follows two minutes of game (12:00 to
// 14:00, ten events), speed=20 the capture's last 24 game minutes in 72 s.
func BenchmarkLiveClientFollow(b *testing.B) {
	for _, tc := range []struct {
		speed   float64
		startAt time.Duration
		follow  time.Duration // 0: to the end of the game
	}{
		{1, 12 * time.Minute, 2 * time.Minute},
		{20, 5 * time.Minute, 0},
	} {
		b.Run(fmt.Sprintf("speed=%v", tc.speed), func(b *testing.B) {
			statsdtest.ClearEnv(b)
			var r followResult
			for b.Loop() {
				r = followOnce(b, tc.speed, tc.startAt, tc.follow)
			}
			b.ReportMetric(r.events.quantile(0.5), "event-p50-ms")
			b.ReportMetric(r.events.quantile(0.95), "event-p95-ms")
			b.ReportMetric(r.events.quantile(1), "event-max-ms")
			b.ReportMetric(float64(len(r.events)), "events")
			b.ReportMetric(r.snapshots.quantile(0.5), "snapshot-p50-ms")
			b.ReportMetric(r.snapshots.quantile(1), "snapshot-max-ms")
			b.ReportMetric(r.cpuPct, "cpu-pct")
			b.ReportMetric(r.rss, "rss-MB")
			b.ReportMetric(r.peak, "peak-rss-MB")
			b.ReportMetric(r.requestsPerMin, "requests-per-min")
		})
	}
}

type followResult struct {
	events, snapshots delays
	cpuPct, rss, peak float64
	requestsPerMin    float64
}

// delays are in milliseconds.
type delays []float64

func (d delays) quantile(q float64) float64 {
	if len(d) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(d))
	return s[int(math.Ceil(q*float64(len(s))))-1+boolInt(q == 0)]
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func followOnce(b *testing.B, speed float64, startAt, follow time.Duration) followResult {
	capture := bridgetest.ReadFile(b, rankedCapture)
	doc, err := liveclient.DecodeAllGameData(capture)
	if err != nil {
		b.Fatal(err)
	}
	srv := lctest.New(b, lctest.Game{Capture: capture, Speed: speed, StartAt: startAt, PostGameFor: 3 * time.Second})
	// The server's game clock on the wall: gt(w) = g0 + (w − w0)·speed.
	g0, w0 := srv.GameTime().Seconds(), time.Now()
	served := func(gameSeconds float64) time.Time {
		return w0.Add(time.Duration((gameSeconds - g0) / speed * float64(time.Second)))
	}
	var udp stamped
	udpAddr := statsdtest.ListenFunc(b, udp.add)
	dir := b.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, srv.CAPEM(), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg := fmt.Sprintf("statsd:\n  address: %q\nhealth:\n  address: \"\"\nstate:\n  path: %q\nliveclient:\n  enabled: true\n  address: %q\n  ca_file: %q\n",
		udpAddr, filepath.Join(dir, "state.db"), srv.URL(), ca)
	path := filepath.Join(dir, "riftbridge.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	bridge := startBridge(b, "bridge", path)
	cmd, stderr := bridge.cmd, bridge.stderr
	bridgetest.Eventually(b, "the bridge to follow the game", 30*time.Second, func() bool {
		return strings.Contains(stderr.String(), "following a game")
	}, stderr.String)
	began, cpu0, req0 := time.Now(), childCPUSeconds(b, cmd.Process.Pid), requests(srv)
	if follow > 0 {
		time.Sleep(follow)
	} else {
		bridgetest.Eventually(b, "the game to end", 5*time.Minute, func() bool {
			return strings.Contains(stderr.String(), "followed game ended")
		}, stderr.String)
	}
	took := time.Since(began)
	r := followResult{
		cpuPct:         (childCPUSeconds(b, cmd.Process.Pid) - cpu0) / took.Seconds() * 100,
		rss:            childStatusMB(b, cmd.Process.Pid, "VmRSS"),
		peak:           childStatusMB(b, cmd.Process.Pid, "VmHWM"),
		requestsPerMin: float64(requests(srv)-req0) / took.Minutes(),
	}
	end := began.Add(took)

	// Events the game revealed once the bridge was following, in order,
	// GameEnd last; the k-th of all events is counted once the running
	// total of lol.event.count reaches k+1.
	times := []float64{}
	for _, e := range doc.Events.Events {
		times = append(times, e.EventTime)
	}
	times = append(times, math.Max(doc.GameData.GameTime, times[len(times)-1])) // GameEnd
	slices.Sort(times)
	counted := 0.0
	k := 0
	for _, a := range udp.arrivals() {
		for _, line := range a.lines {
			d, err := statsdtest.ParseLine(line)
			if err != nil {
				b.Fatalf("malformed line %q: %v", line, err)
			}
			switch d.Name {
			case "lol.event.count":
				counted += d.Value
				for ; k < len(times) && float64(k) < counted; k++ {
					if at := served(times[k]); at.After(began) && at.Before(end) {
						r.events = append(r.events, float64(a.at.Sub(at))/float64(time.Millisecond))
					}
				}
			case "lol.match.game_time":
				// After GameEnd the clock stands still: no longer a measure.
				if at := served(d.Value); d.Value < times[len(times)-1] && at.After(began) && at.Before(end) {
					r.snapshots = append(r.snapshots, float64(a.at.Sub(at))/float64(time.Millisecond))
				}
			}
		}
	}
	return r
}

func requests(srv *lctest.Server) int {
	n := 0
	for _, c := range srv.Stats().Requests {
		n += c
	}
	return n
}

package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/riot/riottest"
	"github.com/riftbridge/riftbridge/sink/statsdtest"
)

// BenchmarkRunMemory1000Players runs `riftbridge run` as its own process,
// tracking 1,000 idle players on 8 platforms against a Riot-shaped server in
// this one, under a production key's limits (500 requests per second), and
// reports the bridge's own memory over the minute after every player is
// resolved (target ≤ 50 MB): rss-MB, the largest VmRSS at its 10 s
// self-telemetry flushes, and the anonymous part of it; peak-rss-MB
// (VmHWM, start-up included); the largest heap-MB and goroutines it
// reported; cpu-s, its CPU time until then. Run with -benchtime=1x.
func BenchmarkRunMemory1000Players(b *testing.B) {
	const players = 1000
	statsdtest.ClearEnv(b)
	var rss, anon, peak, heap, goroutines, cpu float64
	for b.Loop() {
		srv := riottest.NewServer(riottest.WithAppLimits(riottest.Limit{Count: 500, Seconds: 1}))
		dsd := statsdtest.ListenUDP(b)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		health := ln.Addr().String()
		ln.Close()
		var cfg strings.Builder
		fmt.Fprintf(&cfg, "statsd:\n  address: %q\nriot:\n  api_key: %q\n  base_url: %q\n  app_rate_limit: \"500:1\"\n", dsd.Addr(), srv.Key(), srv.BaseURL())
		fmt.Fprintf(&cfg, "health:\n  address: %q\nstate:\n  path: %q\nplayers:\n", health, filepath.Join(b.TempDir(), "state.db"))
		platforms := []string{"kr", "euw1", "na1", "eun1", "oc1", "br1", "jp1", "tr1"}
		for i := range players {
			platform := platforms[i%len(platforms)]
			name := fmt.Sprintf("Mem%04d", i)
			srv.AddPlayer(name, "MEM", platform)
			fmt.Fprintf(&cfg, "  - riot_id: %q\n    platform: %s\n", name+"#MEM", platform)
		}
		path := filepath.Join(b.TempDir(), "riftbridge.yaml")
		if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
			b.Fatal(err)
		}
		bridge := startBridge(b, "bridge", path)
		cmd, stderr := bridge.cmd, bridge.stderr
		// Ready once every player is resolved; then one telemetry flush
		// (10 s) that follows the first spectator poll of everyone.
		bridgetest.Eventually(b, "/readyz to be ready", 2*time.Minute, func() bool {
			code, _ := readyz(health)
			return code == http.StatusOK
		}, stderr.String)
		// Over the next spectator interval and a bit (every player polled
		// again), at each self-telemetry flush: the largest RSS seen.
		rss = 0
		for range 7 {
			from := len(dsd.Lines())
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			lines, err := dsd.WaitFor(ctx, func(lines []string) bool {
				return slices.ContainsFunc(lines[from:], func(l string) bool { return strings.HasPrefix(l, "lol.bridge.goroutines:") })
			})
			cancel()
			if err != nil {
				_ = cmd.Process.Kill()
				b.Fatalf("no self-telemetry: %v", err)
			}
			for _, d := range parseAll(b, lines[from:]) {
				switch d.Name {
				case "lol.bridge.goroutines":
					goroutines = max(goroutines, d.Value)
				case "lol.bridge.heap":
					heap = max(heap, d.Value/(1<<20))
				}
			}
			if now := childStatusMB(b, cmd.Process.Pid, "VmRSS"); now > rss {
				rss, anon = now, childStatusMB(b, cmd.Process.Pid, "RssAnon")
			}
		}
		peak = childStatusMB(b, cmd.Process.Pid, "VmHWM")
		cpu = childCPUSeconds(b, cmd.Process.Pid)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		srv.Close()
	}
	b.ReportMetric(rss, "rss-MB")
	b.ReportMetric(anon, "anon-rss-MB")
	b.ReportMetric(peak, "peak-rss-MB")
	b.ReportMetric(heap, "heap-MB")
	b.ReportMetric(goroutines, "goroutines")
	b.ReportMetric(cpu, "cpu-s")
}

// childCPUSeconds is the user and system CPU process pid has used so far.
func childCPUSeconds(tb testing.TB, pid int) float64 {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Skipf("no /proc/%d/stat: %v", pid, err)
	}
	// The fields after the command name, which is in parentheses.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return (utime + stime) / ticksPerSecond
}

// childStatusMB reads a kB field such as VmRSS of process pid.
func childStatusMB(tb testing.TB, pid int, field string) float64 {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Skipf("no /proc/%d/status: %v", pid, err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				tb.Fatalf("%s %q: %v", field, rest, err)
			}
			return float64(kb) / 1024
		}
	}
	tb.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/riot/riottest"
	"github.com/riftbridge/riftbridge/sink/statsdtest"
)

// withHealth turns on the health endpoints of a config writeRunConfig
// wrote, on a free port, and returns its address.
func withHealth(t *testing.T, path string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Replace(string(cfg), "health:\n  address: \"\"", "health:\n  address: \""+addr+"\"", 1)
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return addr
}

// readyz returns /readyz's status and body, or 0 while nothing answers.
func readyz(addr string) (int, string) {
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}

// TestRunReadiness: a Riot ID Riot has no account for is reported once and
// named by /readyz, which is ready nonetheless; a 429 whose Retry-After is
// far beyond Riot's windows holds its route for MaxRetryAfter at most, and
// /readyz says so while it does.
func TestRunReadiness(t *testing.T) {
	statsdtest.ClearEnv(t)
	t.Setenv("RIOT_API_KEY", "")
	srv := riottest.NewServer()
	t.Cleanup(srv.Close)
	known := runPlayer{"Known", "KR1", "kr"}
	srv.AddPlayer(known.name, known.tag, known.platform)
	nobody := runPlayer{"Nobody", "NONE", "kr"}
	cfg := writeRunConfig(t, srv, statsdtest.ListenUDP(t).Addr(), []runPlayer{known, nobody}, "")
	health := withHealth(t, cfg)
	bridge := startBridge(t, "run", cfg)

	bridgetest.Eventually(t, "/readyz to be ready", 30*time.Second, func() bool { code, _ := readyz(health); return code == http.StatusOK }, stderrs(bridge))
	if _, body := readyz(health); !strings.Contains(body, "riot knows no account for Nobody#NONE on kr") {
		t.Errorf("/readyz says %q, want it to name Nobody#NONE on kr", body)
	}
	// Retried every spectator interval (1 s): several tries, one warning.
	bridge.waitLog(t, "three tries at the unknown player", 30*time.Second, func(s string) bool {
		return strings.Count(s, `msg="cannot resolve player`) >= 3
	})
	if n := strings.Count(bridge.stderr.String(), `level=WARN msg="cannot resolve player`); n != 1 {
		t.Errorf("%d warnings about the unknown player, want 1:\n%s", n, bridge.stderr.String())
	}

	srv.Inject(riottest.Fault{Endpoint: riottest.EndpointSpectator, Status: 429, LimitType: riottest.LimitApplication, RetryAfter: 999999, Count: 1})
	bridgetest.Eventually(t, "/readyz to report the hold", 30*time.Second, func() bool { code, _ := readyz(health); return code == http.StatusServiceUnavailable }, stderrs(bridge))
	if _, body := readyz(health); !strings.Contains(body, "riot holds kr back for") || !strings.Contains(body, "(429 application)") {
		t.Errorf("/readyz says %q, want the hold on kr", body)
	}
	bridge.waitLog(t, "the capped wait", 10*time.Second, func(s string) bool {
		return strings.Contains(s, "riot asked for a wait longer than its longest window") && strings.Contains(s, "waiting=10m0s")
	})
	bridge.terminate(t)
}

// TestReplayBackfillOverflow: a frame time beyond what a time holds keeps
// its |T, far in the future, and is counted outside the intake window: it is
// never sent without a timestamp to land at "now".
func TestReplayBackfillOverflow(t *testing.T) {
	statsdtest.ClearEnv(t)
	code, stdout, stderr := runCLI(t, "replay", "--timeline", "testdata/overflow-timestamps.json", "--match", sampleMatch, "--backfill", "--sink", "stdout")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	points := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "_e{") {
			continue
		}
		points++
		if !strings.Contains(l, "|T") {
			t.Errorf("point without a timestamp: %s", l)
		}
	}
	if !strings.Contains(stderr, "outside Datadog's intake window") || !strings.Contains(stderr, "outside="+strconv.Itoa(points)) {
		t.Errorf("stderr %q does not count all %d points outside the intake window", stderr, points)
	}
}

// TestReplaySignal: a replay stopped by SIGTERM or SIGINT says how far it
// got in one line and exits 128 + the signal, not 1 with "context canceled".
func TestReplaySignal(t *testing.T) {
	for _, sig := range []struct {
		signal syscall.Signal
		code   int
		cause  string
	}{{syscall.SIGTERM, exitTerminated, "terminated signal received"}, {syscall.SIGINT, exitInterrupted, "interrupt signal received"}} {
		t.Run(sig.signal.String(), func(t *testing.T) {
			statsdtest.ClearEnv(t)
			cmd := exec.Command(os.Args[0], "replay", "--timeline", sampleTimeline, "--match", sampleMatch, "--sink", "stdout", "--speed", "60")
			cmd.Env = append(os.Environ(), "RIFTBRIDGE_TEST_MAIN=1")
			var stdout, stderr bridgetest.SyncBuffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			bridgetest.Eventually(t, "the first frame", 30*time.Second, func() bool { return strings.Contains(stdout.String(), "lol.team.gold") })
			if err := cmd.Process.Signal(sig.signal); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			line := strings.TrimSpace(stderr.String())
			if code := cmd.ProcessState.ExitCode(); code != sig.code || strings.Contains(line, "\n") ||
				!strings.Contains(line, "stopped after") || !strings.Contains(line, "of 30 frames, each delivered: "+sig.cause) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and one line saying how far the replay got", code, line, sig.code)
			}
		})
	}
}

// TestRunHugeReply: a Riot host that answers one player's spectator poll
// with 512 MiB is cut off at riot.MaxBody; the bridge stays well under
// 300 MB, says what happened in a line, and keeps polling the others.
func TestRunHugeReply(t *testing.T) {
	statsdtest.ClearEnv(t)
	t.Setenv("RIOT_API_KEY", "")
	srv := riottest.NewServer()
	t.Cleanup(srv.Close)
	victim := runPlayer{"Huge", "BIG", "kr"}
	other := runPlayer{"Other", "KR1", "kr"}
	hugePUUID := srv.AddPlayer(victim.name, victim.tag, victim.platform)
	srv.AddPlayer(other.name, other.tag, other.platform)
	// Riot's host, except that the victim's spectator answer never ends.
	target, err := url.Parse(strings.TrimSuffix(srv.BaseURL(), "/{route}"))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var served atomic.Int64
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/by-summoner/"+hugePUUID) {
			proxy.ServeHTTP(w, r)
			return
		}
		chunk := bytes.Repeat([]byte{' '}, 1<<20)
		for range 512 {
			n, err := w.Write(chunk)
			served.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(hostile.Close)
	dsd := statsdtest.ListenUDP(t)
	cfg := writeRunConfig(t, srv, dsd.Addr(), []runPlayer{victim, other}, "")
	rewriteConfig(t, cfg, srv.BaseURL(), hostile.URL+"/{route}")
	bridge := startBridge(t, "run", cfg)
	bridge.waitLog(t, "the refused reply", 30*time.Second, func(s string) bool { return strings.Contains(s, "body over 16 MiB") })
	// The other player is polled on: its live gauge keeps arriving.
	from := len(dsd.Lines())
	wait, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	if _, err := dsd.WaitFor(wait, func(lines []string) bool {
		return slices.ContainsFunc(lines[from:], func(l string) bool {
			return strings.HasPrefix(l, inGameMetric) && strings.Contains(l, "player:other_kr1")
		})
	}); err != nil {
		t.Fatalf("the other player is not polled any more: %v\nstderr:\n%s", err, bridge.stderr.String())
	}
	if bridge.done() {
		t.Fatalf("the bridge died; stderr:\n%s", bridge.stderr.String())
	}
	peak := childStatusMB(t, bridge.cmd.Process.Pid, "VmHWM")
	if peak >= 300 {
		t.Errorf("peak RSS %.0f MB after a 512 MiB reply, want under 300", peak)
	}
	t.Logf("peak RSS %.0f MB; the server wrote %d MiB before the bridge hung up", peak, served.Load()>>20)
	if served.Load() >= 512<<20 {
		t.Errorf("the whole 512 MiB was read")
	}
	bridge.terminate(t)
}

// rewriteConfig replaces old with new in a config file.
func rewriteConfig(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s holds no %q", path, old)
	}
	if err := os.WriteFile(path, bytes.ReplaceAll(b, []byte(old), []byte(new)), 0o600); err != nil {
		t.Fatal(err)
	}
}

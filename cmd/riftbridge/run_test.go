package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/riot/riottest"
	"github.com/riftbridge/riftbridge/sink/statsdtest"
)

// TestMain lets a test re-run this binary as riftbridge itself, to send it
// real signals.
func TestMain(m *testing.M) {
	if os.Getenv("RIFTBRIDGE_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

type runPlayer struct{ name, tag, platform string }

// writeRunConfig writes a config for `riftbridge run` against srv.
func writeRunConfig(t *testing.T, srv *riottest.Server, statsdAddr string, players []runPlayer, extra string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "statsd:\n  address: %q\nriot:\n  api_key: %q\n  base_url: %q\n  max_retries: 4\n", statsdAddr, srv.Key(), srv.BaseURL())
	b.WriteString("log:\n  level: debug\nhealth:\n  address: \"\"\n")
	if !strings.Contains(extra, "state:") {
		fmt.Fprintf(&b, "state:\n  path: %q\n", filepath.Join(t.TempDir(), "state.db"))
	}
	b.WriteString("pollers:\n  spectator:\n    interval: 1s\n  matches:\n    interval: 2s\n    retry_interval: 1s\n    give_up_after: 1m\n  jitter: 0.05\n  timeout: 20s\n")
	b.WriteString("players:\n")
	for _, p := range players {
		fmt.Fprintf(&b, "  - riot_id: %q\n    platform: %s\n", p.name+"#"+p.tag, p.platform)
	}
	b.WriteString(extra)
	path := filepath.Join(t.TempDir(), "riftbridge.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRunEndToEnd: five players (one name with a space, one in Hangul, one
// with characters that need escaping) against a Riot-shaped server that
// enforces Riot's rules; three share one game. Every finished match must be
// emitted exactly once with the right team figures, through 503s and 429s
// from Riot's side, without a single application or method 429 of our own.
func TestRunEndToEnd(t *testing.T) {
	// Registered first, so it runs after every other cleanup.
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	statsdtest.ClearEnv(t)
	t.Setenv("RIOT_API_KEY", "")
	srv := riottest.NewServer(riottest.WithAppLimits(riottest.Limit{Count: 20, Seconds: 1}, riottest.Limit{Count: 300, Seconds: 120}))
	defer srv.Close()
	dsd := statsdtest.ListenUnix(t)

	players := []runPlayer{
		{"Hide on bush", "KR1", "kr"}, {"젠지 한별", "GEN", "kr"}, {"Viper", "G170", "kr"},
		{"a?b/c%", "EUW", "euw1"}, {"Idle", "KR9", "kr"},
	}
	puuids := make([]string, len(players))
	for i, p := range players {
		puuids[i] = srv.AddPlayer(p.name, p.tag, p.platform)
	}
	// Games that started half an hour ago and end in a few seconds, so the
	// sample's 29 minutes of frames fall inside Datadog's intake window.
	now := time.Now()
	shared := srv.AddGame(riottest.GameSpec{Platform: "kr", Players: puuids[:3], Start: now.Add(-29 * time.Minute), Duration: 29*time.Minute + 3*time.Second, ProcessingDelay: 2 * time.Second})
	solo := srv.AddGame(riottest.GameSpec{Platform: "euw1", Players: puuids[3:4], Start: now.Add(-29 * time.Minute), Duration: 29*time.Minute + 4*time.Second, ProcessingDelay: 3 * time.Second})
	if shared == "" || solo == "" {
		t.Fatal("scenario rejected")
	}
	// Riot misbehaving on its side: server errors, a service 429 and a
	// backend 429 without Retry-After.
	srv.Inject(riottest.Fault{Endpoint: riottest.EndpointMatch, Status: 503, Count: 2})
	srv.Inject(riottest.Fault{Endpoint: riottest.EndpointTimeline, Status: 429, LimitType: riottest.LimitService, RetryAfter: 1, Count: 1})
	srv.Inject(riottest.Fault{Endpoint: riottest.EndpointSpectator, Status: 429, LimitType: riottest.LimitUntyped, Count: 1})
	srv.Inject(riottest.Fault{Endpoint: riottest.EndpointSpectator, Status: 500, Count: 2})

	path := writeRunConfig(t, srv, dsd.Addr(), players, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr bridgetest.SyncBuffer
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, []string{"run", "--config", path}, &bytes.Buffer{}, &stderr) }()

	wait, stop := context.WithTimeout(context.Background(), 60*time.Second)
	defer stop()
	bothDone := func(lines []string) bool {
		n := 0
		for _, l := range lines {
			if strings.Contains(l, "moment:game_end") {
				n++
			}
		}
		return n >= 2
	}
	if _, err := dsd.WaitFor(wait, bothDone); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, stderr.String())
	}
	cancel() // what SIGTERM does through signal.NotifyContext
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not stop within 5 s of cancellation")
	}
	lines, err := dsd.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ds := parseAll(t, lines)

	st := srv.Stats()
	checkWellBehaved(t, st)
	for _, id := range []string{shared, solo} {
		if st.TimelineFetches[id] != 1 || st.MatchFetches[id] != 1 {
			t.Errorf("%s fetched %d matches and %d timelines, want exactly 1 each", id, st.MatchFetches[id], st.TimelineFetches[id])
		}
		tag := "match_id:" + strings.ToLower(id)
		for _, f := range finalFigures {
			if got, ok := lastValue(ds, f.metric, append([]string{tag}, f.tags...)...); !ok || got != f.want {
				t.Errorf("%s %s%v = %v (found %v), want %v", id, f.metric, f.tags, got, ok, f.want)
			}
		}
		gameEnds := 0
		for _, d := range ds {
			if d.Kind == statsdtest.Event && d.HasTags(tag, "moment:game_end") {
				gameEnds++
			}
		}
		if gameEnds != 1 {
			t.Errorf("%s: %d game_end events, want exactly 1 (each match emitted once)", id, gameEnds)
		}
	}
	emitted := 0.0
	for _, d := range ds {
		if d.Name == "lol.bridge.matches_emitted" {
			emitted += d.Value
		}
	}
	if emitted != 2 {
		t.Errorf("lol.bridge.matches_emitted sums to %v, want 2", emitted)
	}
	for _, want := range []string{"moment:live_game_start", "moment:live_game_end"} {
		if !hasEvent(ds, want) {
			t.Errorf("no %s event", want)
		}
	}
	if !hasServiceCheck(ds, "lol.bridge.riot.can_connect") {
		t.Error("no lol.bridge.riot.can_connect service check")
	}
	if strings.Contains(stderr.String(), srv.Key()) {
		t.Error("the API key appears in the logs")
	}
}

// checkWellBehaved checks that Riot saw no 429 of our making, no window
// exceeded, and no request to a wrong route, with a bad key or unknown.
func checkWellBehaved(t *testing.T, st riottest.Stats) {
	t.Helper()
	if n := st.RateLimited[riottest.LimitApplication] + st.RateLimited[riottest.LimitMethod]; n != 0 {
		t.Errorf("drew %d application/method 429s, want 0", n)
	}
	if ex := st.Exceeded(); len(ex) != 0 {
		t.Errorf("rate-limit windows exceeded: %+v", ex)
	}
	if st.WrongRoute != 0 || st.AuthFailures != 0 || st.Unknown != 0 {
		t.Errorf("wrong routes %d, auth failures %d, unknown %d; want none", st.WrongRoute, st.AuthFailures, st.Unknown)
	}
}

func hasServiceCheck(ds []statsdtest.Datagram, name string) bool {
	for _, d := range ds {
		if d.Kind == statsdtest.ServiceCheck && d.Name == name {
			return true
		}
	}
	return false
}

// TestRunExpiredKey: a rejected key ends the run with one clear line and a
// non-zero exit, not a retry storm.
func TestRunExpiredKey(t *testing.T) {
	statsdtest.ClearEnv(t)
	srv := riottest.NewServer()
	defer srv.Close()
	srv.AddPlayer("Hide on bush", "KR1", "kr")
	srv.ExpireKey()
	dsd := statsdtest.ListenUDP(t)
	path := writeRunConfig(t, srv, dsd.Addr(), []runPlayer{{"Hide on bush", "KR1", "kr"}}, "")
	code, _, stderr := runCLI(t, "run", "--config", path)
	if code != exitFailure {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitFailure, stderr)
	}
	last := strings.TrimSpace(stderr[strings.LastIndex(strings.TrimSpace(stderr), "\n")+1:])
	if !strings.Contains(last, "riot api key invalid or expired") || strings.Contains(stderr, srv.Key()) {
		t.Errorf("last line %q should say the key is invalid, without the key", last)
	}
	if n := srv.Stats().Requests; n > 3 {
		t.Errorf("%d requests with a rejected key, want it to stop at once", n)
	}
}

func TestRunBadConfig(t *testing.T) {
	statsdtest.ClearEnv(t)
	t.Setenv("RIOT_API_KEY", "")
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("players:\n  - riot_id: Faker\n    platform: kr\npollers:\n  spectator:\n    interval: 10ms\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "run", "--config", path)
	if code != exitBadInput {
		t.Fatalf("exit %d, want %d", code, exitBadInput)
	}
	for _, want := range []string{`"players[0].riot_id"`, `"pollers.spectator.interval"`, `"riot.api_key": required`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not name %s", stderr, want)
		}
	}
}

// TestRunSIGTERM runs the real binary and stops it with SIGTERM: it must
// flush and exit 0 within 5 s.
func TestRunSIGTERM(t *testing.T) {
	statsdtest.ClearEnv(t)
	srv := riottest.NewServer()
	defer srv.Close()
	srv.AddPlayer("Hide on bush", "KR1", "kr")
	dsd := statsdtest.ListenUDP(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	health := ln.Addr().String()
	ln.Close()
	path := writeRunConfig(t, srv, dsd.Addr(), []runPlayer{{"Hide on bush", "KR1", "kr"}}, "")
	// The later health key wins over the writer's empty one.
	cfg, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(cfg), "health:\n  address: \"\"", "health:\n  address: \""+health+"\"", 1)), 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "run", "--config", path)
	cmd.Env = append(os.Environ(), "RIFTBRIDGE_TEST_MAIN=1")
	var stderr bridgetest.SyncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	bridgetest.Eventually(t, "/readyz to be ready", 20*time.Second, func() bool {
		code, _ := readyz(health)
		return code == http.StatusOK
	}, stderr.String)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no exit within 5 s of SIGTERM; stderr:\n%s", stderr.String())
	}
	// The final flush carries the bridge's own telemetry.
	wait, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if _, err := dsd.WaitFor(wait, func(lines []string) bool {
		for _, l := range lines {
			if strings.HasPrefix(l, "_sc|lol.bridge.riot.can_connect|0") {
				return true
			}
		}
		return false
	}); err != nil {
		t.Errorf("no final can_connect OK check: %v", err)
	}
}

// TestRunHotReload edits the config file of a running bridge: a new player
// is picked up without a restart, and a broken edit is reported and ignored.
func TestRunHotReload(t *testing.T) {
	statsdtest.ClearEnv(t)
	srv := riottest.NewServer()
	defer srv.Close()
	first := runPlayer{"Hide on bush", "KR1", "kr"}
	second := runPlayer{"젠지 한별", "GEN", "kr"}
	srv.AddPlayer(first.name, first.tag, first.platform)
	srv.AddPlayer(second.name, second.tag, second.platform)
	dsd := statsdtest.ListenUDP(t)
	path := writeRunConfig(t, srv, dsd.Addr(), []runPlayer{first}, "")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr bridgetest.SyncBuffer
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, []string{"run", "--config", path}, &bytes.Buffer{}, &stderr) }()

	accountLookups := func() int {
		return srv.Stats().ByEndpoint[riottest.RouteEndpoint{Route: "asia", Endpoint: riottest.EndpointAccount}]
	}
	waitUntil := func(what string, ok func() bool) {
		t.Helper()
		bridgetest.Eventually(t, what, 15*time.Second, ok, stderr.String)
	}
	waitUntil("the first player's lookup", func() bool { return accountLookups() == 1 })

	// A broken edit is refused; the bridge keeps running on the old config.
	if err := os.WriteFile(path, []byte("players: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitUntil("the reload error", func() bool {
		return strings.Contains(stderr.String(), "config reload failed; keeping the running config")
	})

	updated := writeRunConfig(t, srv, dsd.Addr(), []runPlayer{first, second}, "")
	data, err := os.ReadFile(updated)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	waitUntil("the added player's lookup", func() bool { return accountLookups() == 2 })
	waitUntil("the reload log", func() bool { return strings.Contains(stderr.String(), "config reloaded") })

	cancel()
	if code := <-exit; code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
}

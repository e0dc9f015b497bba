package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/config"
	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/riottest"
	"github.com/riftbridge/riftbridge/sink/statsdtest"
	"github.com/riftbridge/riftbridge/state"
	"github.com/riftbridge/riftbridge/state/redistest"
)

// bridgeProc is `riftbridge run` in a child process: this test binary run
// again as main (see TestMain), so that it can be killed for real.
type bridgeProc struct {
	name   string
	cmd    *exec.Cmd
	stderr *bridgetest.SyncBuffer
	exited chan struct{} // closed once the process has been waited for
}

// startBridge starts `riftbridge run --config configPath`. The test's
// cleanup kills it if it still runs, and fails the test if the race
// detector spoke in it.
func startBridge(t testing.TB, name, configPath string) *bridgeProc {
	t.Helper()
	p := &bridgeProc{name: name, stderr: &bridgetest.SyncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], "run", "--config", configPath)
	p.cmd.Env = append(os.Environ(), "RIFTBRIDGE_TEST_MAIN=1", "RIOT_API_KEY=")
	p.cmd.Stdout = io.Discard
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		if !p.done() {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if strings.Contains(p.stderr.String(), "WARNING: DATA RACE") {
			t.Errorf("%s: data race:\n%s", p.name, p.stderr.String())
		}
	})
	return p
}

func (p *bridgeProc) done() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// exitWithin waits up to d for the process to exit and reports whether it did.
func (p *bridgeProc) exitWithin(d time.Duration) bool {
	select {
	case <-p.exited:
		return true
	case <-time.After(d):
		return false
	}
}

// code is the exit code of an exited process; -1 when a signal ended it.
func (p *bridgeProc) code() int { return p.cmd.ProcessState.ExitCode() }

// terminate sends SIGTERM and fails the test unless the process exits 0 in
// time.
func (p *bridgeProc) terminate(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("%s: SIGTERM: %v; stderr:\n%s", p.name, err, p.stderr.String())
	}
	if !p.exitWithin(15 * time.Second) {
		t.Fatalf("%s: no exit within 15 s of SIGTERM; stderr:\n%s", p.name, p.stderr.String())
	}
	if c := p.code(); c != 0 {
		t.Fatalf("%s: exit %d after SIGTERM; stderr:\n%s", p.name, c, p.stderr.String())
	}
}

// kill9 freezes the process at once with SIGSTOP, then kills it with
// SIGKILL: no deferred call, no flush, no Leave.
func (p *bridgeProc) kill9(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGSTOP)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("%s: SIGKILL: %v", p.name, err)
	}
	if !p.exitWithin(10 * time.Second) {
		t.Fatalf("%s: still running 10 s after SIGKILL", p.name)
	}
}

// waitLog waits until the process's stderr satisfies ok.
func (p *bridgeProc) waitLog(t *testing.T, what string, timeout time.Duration, ok func(stderr string) bool) {
	t.Helper()
	bridgetest.Eventually(t, what, timeout, func() bool { return ok(p.stderr.String()) }, stderrs(p))
}

// stderrs explains a wait that timed out with the stderr of procs.
func stderrs(procs ...*bridgeProc) func() string {
	return func() string {
		var b strings.Builder
		for _, p := range procs {
			fmt.Fprintf(&b, "--- %s stderr:\n%s", p.name, p.stderr.String())
		}
		return b.String()
	}
}

// syncLines returns every line the listener received before the call.
func syncLines(t *testing.T, dsd *statsdtest.Server) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lines, err := dsd.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// sampleFrameOffsets returns the game-clock time of each frame of the sample
// timeline riottest serves for every game.
func sampleFrameOffsets(t *testing.T) []time.Duration {
	t.Helper()
	data, err := os.ReadFile(sampleTimeline)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := riot.DecodeTimeline(data, sampleTimeline)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]time.Duration, len(tl.Info.Frames))
	for i, f := range tl.Info.Frames {
		out[i] = time.Duration(f.Timestamp) * time.Millisecond
	}
	return out
}

// frameStamps returns the DogStatsD timestamp (unix seconds) of each frame
// of a riottest game that started at start: the mapper stamps a frame's
// points at the game start (whole milliseconds) plus the frame's offset.
func frameStamps(start time.Time, offsets []time.Duration) []int64 {
	origin := time.UnixMilli(start.UnixMilli())
	out := make([]int64, len(offsets))
	for i, o := range offsets {
		out[i] = origin.Add(o).Unix()
	}
	return out
}

// framePoints groups the timestamped metric points of one match by
// timestamp, then by series (name and tags), keeping every value received.
func framePoints(ds []statsdtest.Datagram, matchID string) map[int64]map[string][]float64 {
	tag := "match_id:" + strings.ToLower(matchID)
	out := map[int64]map[string][]float64{}
	for _, d := range ds {
		if d.Kind != statsdtest.Metric || d.Timestamp == 0 || !d.HasTags(tag) {
			continue
		}
		series := d.Name + "|" + d.Type + "|" + strings.Join(d.Tags, ",")
		if out[d.Timestamp] == nil {
			out[d.Timestamp] = map[string][]float64{}
		}
		out[d.Timestamp][series] = append(out[d.Timestamp][series], d.Value)
	}
	return out
}

// countEvents counts the events that carry every one of tags.
func countEvents(ds []statsdtest.Datagram, tags ...string) int {
	n := 0
	for _, d := range ds {
		if d.Kind == statsdtest.Event && d.HasTags(tags...) {
			n++
		}
	}
	return n
}

// sumMetric adds up every value of a metric.
func sumMetric(ds []statsdtest.Datagram, name string) float64 {
	sum := 0.0
	for _, d := range ds {
		if d.Kind == statsdtest.Metric && d.Name == name {
			sum += d.Value
		}
	}
	return sum
}

func isGameEnd(line, matchID string) bool {
	return strings.HasPrefix(line, "_e{") && strings.Contains(line, "moment:game_end") &&
		strings.Contains(line, "match_id:"+strings.ToLower(matchID))
}

// TestRunKill9Resume kills the real binary with SIGKILL in the middle of a
// match and starts it again on the same state, a bolt file or Redis: the
// match must be completed from where it stopped, every frame delivered, and
// at most the one frame in flight at the kill delivered twice, with the same
// values. With Redis the second process is a new replica that takes over
// once the dead one's heartbeat and its claim on the match have expired.
func TestRunKill9Resume(t *testing.T) {
	for _, backend := range []string{config.StateBolt, config.StateRedis} {
		t.Run(backend, func(t *testing.T) { kill9Resume(t, backend) })
	}
}

func kill9Resume(t *testing.T, backend string) {
	statsdtest.ClearEnv(t)
	t.Setenv("RIOT_API_KEY", "")
	srv := riottest.NewServer()
	t.Cleanup(srv.Close) // after the processes' cleanups
	offsets := sampleFrameOffsets(t)
	last := len(offsets) - 1
	// The frame whose first point triggers the kill.
	killFrame := len(offsets) / 5

	const attempts = 5
	for attempt := 1; attempt <= attempts; attempt++ {
		player := runPlayer{fmt.Sprintf("Resume %d", attempt), "KILL", "kr"}
		puuid := srv.AddPlayer(player.name, player.tag, player.platform)
		// A game that ended a moment ago, 29 minutes long, so its frames
		// fall inside Datadog's intake window; the first sweep finds it.
		start := time.Now().Add(-29 * time.Minute)
		id := srv.AddGame(riottest.GameSpec{Platform: "kr", Players: []string{puuid}, Start: start, Duration: 29*time.Minute - time.Second, ProcessingDelay: 500 * time.Millisecond})
		if id == "" {
			t.Fatal("scenario rejected")
		}
		stamps := frameStamps(start, offsets)
		tag := "match_id:" + strings.ToLower(id)
		dsd := statsdtest.ListenUnix(t)
		extra := "" // a fresh state file
		if backend == config.StateRedis {
			url := redistest.URL(t)
			extra = redisConfig(url, redistest.Prefix(t, url))
		}
		cfg := writeRunConfig(t, srv, dsd.Addr(), []runPlayer{player}, extra)
		if backend == config.StateRedis {
			// A claim lasts one poll timeout: a short one lets the new
			// replica take the dead one's match over within seconds.
			shortenPollTimeout(t, cfg, "3s")
		}

		first := startBridge(t, fmt.Sprintf("attempt %d, first run", attempt), cfg)
		wait, stop := context.WithTimeout(context.Background(), 60*time.Second)
		// Kill once a few frames are out, so that the second run must map
		// the frames sent before without sending them. Scan only the lines
		// not seen yet, so the kill follows the datagram closely.
		killAt := fmt.Sprintf("|T%d", stamps[killFrame])
		seen := 0
		_, err := dsd.WaitFor(wait, func(lines []string) bool {
			for _, l := range lines[seen:] {
				if strings.Contains(l, tag) && strings.Contains(l, killAt) {
					return true
				}
			}
			seen = len(lines)
			return false
		})
		stop()
		if err != nil {
			t.Fatalf("no point of %s frame %d: %v\nstderr:\n%s", id, killFrame, err, first.stderr.String())
		}
		first.kill9(t)
		lines1 := syncLines(t, dsd)
		ds1 := parseAll(t, lines1)
		run1 := framePoints(ds1, id)
		if _, ok := run1[stamps[last]]; ok || countEvents(ds1, tag, "moment:game_end") > 0 {
			t.Logf("attempt %d: the first run sent the last frame of %s (%d of %d frames) before the kill; again with a new game",
				attempt, id, len(run1), len(stamps))
			continue
		}
		for ts := range run1 {
			if !slices.Contains(stamps, ts) {
				t.Fatalf("first run: point of %s at %d, which is no frame's time (frames %v)", id, ts, stamps)
			}
		}

		// Same state, same listener.
		second := startBridge(t, fmt.Sprintf("attempt %d, second run", attempt), cfg)
		wait, stop = context.WithTimeout(context.Background(), 60*time.Second)
		_, err = dsd.WaitFor(wait, func(lines []string) bool {
			return slices.ContainsFunc(lines[len(lines1):], func(l string) bool { return isGameEnd(l, id) })
		})
		stop()
		if err != nil {
			t.Fatalf("the second run never finished %s: %v\nstderr:\n%s", id, err, second.stderr.String())
		}
		second.terminate(t)
		all := syncLines(t, dsd)
		ds2 := parseAll(t, all[len(lines1):])
		run2 := framePoints(ds2, id)
		checkResume(t, id, stamps, run1, run2)

		ds := append(ds1, ds2...)
		if n := countEvents(ds, tag, "moment:game_end"); n != 1 {
			t.Errorf("%s: %d game_end events over both runs, want 1", id, n)
		}
		if n := sumMetric(ds, "lol.bridge.matches_emitted"); n != 1 {
			t.Errorf("lol.bridge.matches_emitted sums to %v over both runs, want 1", n)
		}
		for _, f := range finalFigures {
			if got, ok := lastValue(ds2, f.metric, append([]string{tag}, f.tags...)...); !ok || got != f.want {
				t.Errorf("after the resume, %s %s%v = %v (found %v), want %v: the resumed run lost the running totals",
					id, f.metric, f.tags, got, ok, f.want)
			}
		}
		st := srv.Stats()
		if st.TimelineFetches[id] > 2 || st.MatchFetches[id] > 2 {
			t.Errorf("%s fetched %d matches and %d timelines over two runs, want at most one each per run",
				id, st.MatchFetches[id], st.TimelineFetches[id])
		}
		if n := st.RateLimited[riottest.LimitApplication] + st.RateLimited[riottest.LimitMethod]; n != 0 {
			t.Errorf("drew %d application/method 429s, want 0", n)
		}
		for _, p := range []*bridgeProc{first, second} {
			if strings.Contains(p.stderr.String(), srv.Key()) {
				t.Errorf("%s: the API key appears in the logs", p.name)
			}
		}
		t.Logf("attempt %d: %s: the first run sent %d of %d frames before SIGKILL; timeline fetched %d times",
			attempt, id, len(run1), len(stamps), st.TimelineFetches[id])
		return
	}
	t.Fatalf("in %d attempts the first run always finished the match before SIGKILL landed; the kill never came mid-emission", attempts)
}

// checkResume checks the frames of two runs of one match against the
// exactly-once bound: all frames between them, the second starting where the
// first stopped, at most one frame in both and the same values in each.
func checkResume(t *testing.T, id string, stamps []int64, run1, run2 map[int64]map[string][]float64) {
	t.Helper()
	frameOf := func(ts int64) int { return slices.Index(stamps, ts) }
	// The series each frame must deliver, from mapping the sample riottest
	// serves: a frame cut short by the kill and not sent again would lose
	// points without losing the whole frame.
	rec, err := riot.LoadRecording([]string{sampleTimeline}, sampleMatch)
	if err != nil {
		t.Fatal(err)
	}
	m := mapper.New(mapper.Describe(rec.Timeline, rec.Match), mapper.Options{})
	var want [][]mapper.Point
	for i := range rec.Timeline.Info.Frames {
		want = append(want, m.Frame(&rec.Timeline.Info.Frames[i], mapper.Timebase{}).Points)
	}
	if len(want) != len(stamps) {
		t.Fatalf("sample has %d frames, the served match %d", len(want), len(stamps))
	}
	var both []int
	for i, ts := range stamps {
		p1, in1 := run1[ts]
		p2, in2 := run2[ts]
		union := maps.Clone(p1)
		if union == nil {
			union = map[string][]float64{}
		}
		maps.Copy(union, p2)
		if len(union) != len(want[i]) {
			t.Errorf("%s frame %d: %d series delivered over both runs, want %d", id, i, len(union), len(want[i]))
		}
		switch {
		case !in1 && !in2:
			t.Errorf("%s frame %d (T%d): no point in either run", id, i, ts)
		case in1 && in2:
			both = append(both, i)
			for series, v1 := range p1 {
				v2 := p2[series]
				if len(v2) != 1 || v1[0] != v2[0] {
					t.Errorf("%s frame %d re-sent with %s = %v, first sent as %v", id, i, series, v2, v1)
				}
			}
		}
		for r, points := range []map[string][]float64{p1, p2} {
			for series, vs := range points {
				if len(vs) > 1 {
					t.Errorf("%s frame %d: run %d sent %s %d times (%v)", id, i, r+1, series, len(vs), vs)
				}
			}
		}
	}
	for ts := range run2 {
		if frameOf(ts) < 0 {
			t.Errorf("second run: point of %s at %d, which is no frame's time", id, ts)
		}
	}
	if len(both) > 1 {
		t.Errorf("%s: frames %v were sent by both runs; the bound is the one frame in flight at the kill", id, both)
	}
	// The second run resumes: nothing before the first run's last frame.
	lastFirst, firstSecond := -1, len(stamps)
	for ts := range run1 {
		lastFirst = max(lastFirst, frameOf(ts))
	}
	for ts := range run2 {
		firstSecond = min(firstSecond, frameOf(ts))
	}
	if firstSecond < lastFirst {
		t.Errorf("%s: the second run re-sent frame %d, before frame %d the first run had already sent", id, firstSecond, lastFirst)
	}
	dup := "none"
	if len(both) == 1 {
		dup = fmt.Sprintf("frame %d (%d of its %d series had arrived before the kill)", both[0], len(run1[stamps[both[0]]]), len(run2[stamps[both[0]]]))
	}
	t.Logf("%s: first run frames 0–%d, second run frames %d–%d; sent twice: %s", id, lastFirst, firstSecond, len(stamps)-1, dup)
}

// TestRunStateLocked: a second riftbridge on a state file another one holds
// stops at once with one line that names state.path and the lock, and the
// holder runs on.
func TestRunStateLocked(t *testing.T) {
	statsdtest.ClearEnv(t)
	t.Setenv("RIOT_API_KEY", "")
	srv := riottest.NewServer()
	t.Cleanup(srv.Close)
	player := runPlayer{"Locked", "LCK", "kr"}
	srv.AddPlayer(player.name, player.tag, player.platform)
	dsd := statsdtest.ListenUDP(t)
	statePath := filepath.Join(t.TempDir(), "state.db")
	cfg := writeRunConfig(t, srv, dsd.Addr(), []runPlayer{player}, fmt.Sprintf("state:\n  path: %q\n", statePath))

	holder := startBridge(t, "holder", cfg)
	holder.waitLog(t, "the holder to start", 30*time.Second, func(s string) bool { return strings.Contains(s, "riftbridge running") })

	checkLine := func(who, stderr string) {
		t.Helper()
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if len(lines) != 1 {
			t.Errorf("%s: stderr has %d lines, want one:\n%s", who, len(lines), stderr)
		}
		line := lines[len(lines)-1]
		for _, want := range []string{`"state.path"`, "locked", statePath} {
			if !strings.Contains(line, want) {
				t.Errorf("%s: %q does not name %s", who, line, want)
			}
		}
		for _, bad := range []string{srv.Key(), "goroutine ", "panic"} {
			if strings.Contains(stderr, bad) {
				t.Errorf("%s: stderr holds %q:\n%s", who, bad, stderr)
			}
		}
	}

	second := startBridge(t, "second process", cfg)
	if !second.exitWithin(20 * time.Second) {
		t.Fatalf("the second process still runs on a locked state file; stderr:\n%s", second.stderr.String())
	}
	if c := second.code(); c != exitFailure {
		t.Errorf("second process: exit %d, want %d", c, exitFailure)
	}
	checkLine("second process", second.stderr.String())

	// The same in-process, as main runs it.
	code, _, stderr := runCLI(t, "run", "--config", cfg)
	if code != exitFailure {
		t.Errorf("in-process run: exit %d, want %d", code, exitFailure)
	}
	checkLine("in-process run", stderr)

	if holder.done() {
		t.Fatalf("the holder died; stderr:\n%s", holder.stderr.String())
	}
	holder.terminate(t)
	// The holder released the lock on its way out.
	b, err := state.OpenBolt(statePath, telemetry.Settings{})
	if err != nil {
		t.Fatalf("state file still locked after the holder exited: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

// shortenPollTimeout rewrites pollers.timeout in the config writeRunConfig
// wrote.
func shortenPollTimeout(t *testing.T, path, timeout string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Replace(string(b), "  timeout: 20s\n", "  timeout: "+timeout+"\n", 1)
	if out == string(b) {
		t.Fatal("no pollers.timeout in the config to shorten")
	}
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRunCorruptState: a state file cut short, as a first start on a full
// disk leaves it, stops `run` with one line that names state.path and says
// what to do, never a SIGBUS and its stack.
func TestRunCorruptState(t *testing.T) {
	statsdtest.ClearEnv(t)
	t.Setenv("RIOT_API_KEY", "")
	srv := riottest.NewServer()
	t.Cleanup(srv.Close)
	player := runPlayer{"Corrupt", "CRP", "kr"}
	srv.AddPlayer(player.name, player.tag, player.platform)
	statePath := filepath.Join(t.TempDir(), "state.db")
	store, err := state.OpenBolt(statePath, telemetry.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetPUUID(context.Background(), "kr", "Corrupt#CRP", "puuid", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(statePath, 12<<10); err != nil {
		t.Fatal(err)
	}
	cfg := writeRunConfig(t, srv, statsdtest.ListenUDP(t).Addr(), []runPlayer{player}, fmt.Sprintf("state:\n  path: %q\n", statePath))
	p := startBridge(t, "run", cfg)
	if !p.exitWithin(20 * time.Second) {
		t.Fatalf("still running on a truncated state file; stderr:\n%s", p.stderr.String())
	}
	stderr := strings.TrimSpace(p.stderr.String())
	if c := p.code(); c != exitBadInput || strings.Count(stderr, "\n") != 0 {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and one line", c, stderr, exitBadInput)
	}
	for _, want := range []string{`"state.path"`, statePath, "truncated", "move it aside"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("%q does not say %s", stderr, want)
		}
	}
}

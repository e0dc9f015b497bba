package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot/liveclient"
	"github.com/riftbridge/riftbridge/riot/liveclient/lctest"
	"github.com/riftbridge/riftbridge/sink/statsdtest"
)

const rankedCapture = "../../riot/liveclient/testdata/allgamedata_ranked_00.json"

// writeLiveConfig writes a config that runs the Live Client source alone,
// against srv, into dsd: no Riot key, no players.
func writeLiveConfig(t *testing.T, srv *lctest.Server, statsdAddr, statePath string) string {
	t.Helper()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, srv.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`statsd:
  address: %q
health:
  address: ""
state:
  path: %q
liveclient:
  enabled: true
  address: %q
  ca_file: %q
  interval: 200ms
`, statsdAddr, statePath, srv.URL(), ca)
	path := filepath.Join(dir, "riftbridge.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startRun runs `riftbridge run --config path` in-process, as main does;
// stop cancels it, as SIGTERM does, and returns its exit code.
func startRun(t *testing.T, path string) (stop func() int, stderr *bridgetest.SyncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &bridgetest.SyncBuffer{}
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, []string{"run", "--config", path}, &bytes.Buffer{}, stderr) }()
	var code int
	var once sync.Once
	stop = func() int {
		once.Do(func() {
			cancel()
			code = bridgetest.Recv(t, exit, "run to stop", 10*time.Second)
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return stop, stderr
}

// liveFigures are what the Agent must hold once the capture's game is over:
// team kills and each participant's kills from the final scores, towers
// and dragons from the events, and the count of every event type.
type liveFigures struct {
	teamKills, towers, dragons map[string]float64 // by team tag value
	kills                      map[string]float64 // by champion tag value
	events                     map[string]float64 // by event_type
	total                      float64
}

// figuresOf works the figures out from the capture itself, independently
// of the mapper: ORDER is blue; a turret or inhibitor counts for the side
// that does not own it; a dragon for its killer's side.
func figuresOf(t *testing.T, path string) liveFigures {
	t.Helper()
	g, err := liveclient.DecodeAllGameData(bridgetest.ReadFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	side := map[string]string{"ORDER": "blue", "CHAOS": "red"}
	f := liveFigures{teamKills: map[string]float64{}, towers: map[string]float64{}, dragons: map[string]float64{},
		kills: map[string]float64{}, events: map[string]float64{}}
	byName := map[string]string{}
	for _, p := range g.AllPlayers {
		f.teamKills[side[p.Team]] += float64(p.Scores.Kills)
		f.kills[strings.ToLower(strings.TrimPrefix(p.RawChampionName, "game_character_displayname_"))] = float64(p.Scores.Kills)
		byName[p.SummonerName] = side[p.Team]
	}
	other := map[string]string{"blue": "red", "red": "blue"}
	for _, e := range append(g.Events.Events, liveclient.Event{EventName: liveclient.EventGameEnd}) {
		f.events[liveclient.SnakeCase(e.EventName)]++
		f.total++
		switch e.EventName {
		case liveclient.EventTurretKilled:
			owner := side[map[string]string{"T1": "ORDER", "T2": "CHAOS"}[strings.Split(e.TurretKilled, "_")[1]]]
			f.towers[other[owner]]++
		case liveclient.EventDragonKill:
			f.dragons[byName[e.KillerName]]++
		}
	}
	return f
}

// TestRunLiveClient is the Live Client source's acceptance test: `run` with
// only liveclient enabled, no key and no players, follows a whole recorded
// game served at 60× by a Live-Client-shaped HTTPS server with its own CA,
// and the Agent ends up with the right team kills, dragons and towers,
// each participant's kills, every event counted once and one game_end;
// the bridge is still running, idle and quiet, afterwards.
func TestRunLiveClient(t *testing.T) {
	statsdtest.ClearEnv(t)
	t.Setenv("RIOT_API_KEY", "")
	srv := lctest.New(t, lctest.Game{Capture: bridgetest.ReadFile(t, rankedCapture), Speed: 60, PostGameFor: 3 * time.Second})
	dsd := statsdtest.ListenUDP(t)
	path := writeLiveConfig(t, srv, dsd.Addr(), filepath.Join(t.TempDir(), "state.db"))

	stopRun, stderr := startRun(t, path)
	wait, stop := context.WithTimeout(context.Background(), 90*time.Second)
	defer stop()
	if _, err := dsd.WaitFor(wait, func(lines []string) bool {
		return strings.Contains(strings.Join(lines, "\n"), "moment:game_end")
	}); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, stderr.String())
	}
	bridgetest.Eventually(t, "the game to be over and the bridge idle", 30*time.Second, func() bool {
		return strings.Contains(stderr.String(), "followed game ended")
	}, stderr.String)
	// Idle now: a few idle polls (5 s apart) find the API gone, quietly.
	quiet := stderr.String()
	time.Sleep(6 * time.Second)
	if after := stderr.String(); after != quiet {
		t.Errorf("idle after the game, the bridge logged:\n%s", strings.TrimPrefix(after, quiet))
	}
	// Still running: it stops on the signal with 0, as a service does.
	if code := stopRun(); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	lines, err := dsd.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := figuresOf(t, rankedCapture)
	t.Logf("want kills %v, towers %v, dragons %v, %v events", want.teamKills, want.towers, want.dragons, want.total)
	checkLiveFigures(t, parseAll(t, lines), want)
	for _, want := range []string{`msg="following a game"`, `msg="followed game ended"`} {
		if n := strings.Count(stderr.String(), want); n != 1 {
			t.Errorf("%s logged %d times, want once:\n%s", want, n, stderr.String())
		}
	}
}

func checkLiveFigures(t *testing.T, ds []statsdtest.Datagram, want liveFigures) {
	t.Helper()
	ns := "lol."
	for team, n := range want.teamKills {
		if got, ok := lastValue(ds, ns+mapper.MetricTeamKills, "team:"+team); !ok || got != n {
			t.Errorf("%s kills %v (%t), want %v", team, got, ok, n)
		}
		if got, ok := lastValue(ds, ns+mapper.MetricTeamTowers, "team:"+team); !ok || got != want.towers[team] {
			t.Errorf("%s towers %v (%t), want %v", team, got, ok, want.towers[team])
		}
		if got, ok := lastValue(ds, ns+mapper.MetricTeamDragons, "team:"+team); !ok || got != want.dragons[team] {
			t.Errorf("%s dragons %v (%t), want %v", team, got, ok, want.dragons[team])
		}
	}
	for champion, n := range want.kills {
		if got, ok := lastValue(ds, ns+mapper.MetricParticipantKills, "champion:"+champion); !ok || got != n {
			t.Errorf("%s kills %v (%t), want %v", champion, got, ok, n)
		}
	}
	counted := map[string]float64{}
	total, gameEnds := 0.0, 0
	for _, d := range ds {
		switch {
		case d.Kind == statsdtest.Metric && d.Name == ns+mapper.MetricEventCount:
			for _, tag := range d.Tags {
				if typ, ok := strings.CutPrefix(tag, "event_type:"); ok {
					counted[typ] += d.Value
				}
			}
			total += d.Value
		case d.Kind == statsdtest.Event && d.HasTags("moment:game_end"):
			gameEnds++
		}
	}
	if total != want.total {
		t.Errorf("%v events counted, want %v", total, want.total)
	}
	for typ, n := range want.events {
		if counted[typ] != n {
			t.Errorf("event_type:%s counted %v, want %v", typ, counted[typ], n)
		}
	}
	if gameEnds != 1 {
		t.Errorf("%d game_end events, want 1", gameEnds)
	}
}

// TestRunLiveClientRestart stops the bridge mid-game and starts it again
// on the same state file: between the two runs every event is counted
// once, and the second run's team totals carry on from the first's.
func TestRunLiveClientRestart(t *testing.T) {
	statsdtest.ClearEnv(t)
	t.Setenv("RIOT_API_KEY", "")
	srv := lctest.New(t, lctest.Game{Capture: bridgetest.ReadFile(t, rankedCapture), Speed: 60, PostGameFor: 3 * time.Second})
	dsd := statsdtest.ListenUDP(t)
	path := writeLiveConfig(t, srv, dsd.Addr(), filepath.Join(t.TempDir(), "state.db"))

	start := func() (stop func() string, stderr *bridgetest.SyncBuffer) {
		stopRun, stderr := startRun(t, path)
		return func() string {
			if code := stopRun(); code != 0 {
				t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
			}
			return stderr.String()
		}, stderr
	}
	stop, stderr := start()
	// Stop once a third of the game has gone by: 10 game minutes at 60×.
	bridgetest.Eventually(t, "the first run to follow the game", 30*time.Second, func() bool {
		return strings.Contains(stderr.String(), "following a game") && srv.GameTime() > 10*time.Minute
	}, stderr.String)
	first := stop()
	stop, stderr = start()
	wait, cancelWait := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancelWait()
	if _, err := dsd.WaitFor(wait, func(lines []string) bool {
		return strings.Contains(strings.Join(lines, "\n"), "moment:game_end")
	}); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, stderr.String())
	}
	second := stop()
	if !strings.Contains(second, "resumed_at_event=") {
		t.Errorf("the second run did not resume the game:\nfirst:\n%s\nsecond:\n%s", first, second)
	}
	lines, err := dsd.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkLiveFigures(t, parseAll(t, lines), figuresOf(t, rankedCapture))
}

// TestReplayLiveClientSnapshot replays the bundled allgamedata capture:
// one poll, every event counted once, the final figures right.
func TestReplayLiveClientSnapshot(t *testing.T) {
	code, stdout, stderr := runCLI(t, "replay", "--liveclient", "../../samples/liveclient_allgamedata.json", "--sink", "stdout")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "replayed ../../samples/liveclient_allgamedata.json: 1 polls,") {
		t.Errorf("summary: %s", stderr)
	}
	want := figuresOf(t, "../../samples/liveclient_allgamedata.json")
	// A snapshot holds no GameEnd: the game was captured running.
	want.total--
	want.events["game_end"]--
	ds := parseAll(t, strings.Split(strings.TrimSpace(stdout), "\n"))
	total := 0.0
	for _, d := range ds {
		if d.Name == "lol.event.count" {
			total += d.Value
		}
	}
	if total != want.total {
		t.Errorf("%v events counted, want %v", total, want.total)
	}
	for team, n := range want.teamKills {
		if got, _ := lastValue(ds, "lol.team.kills", "team:"+team); got != n {
			t.Errorf("%s kills %v, want %v", team, got, n)
		}
	}
}

// TestRecordAndReplay records a whole game served at 120× with `riftbridge
// record`, which stops by itself at the game's end, and replays the file:
// the replay counts every event once and ends the game once, as a run did.
func TestRecordAndReplay(t *testing.T) {
	statsdtest.ClearEnv(t)
	srv := lctest.New(t, lctest.Game{Capture: bridgetest.ReadFile(t, rankedCapture), Speed: 120, PostGameFor: 3 * time.Second})
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, srv.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "game.jsonl.gz")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	code := run(ctx, []string{"record", "--out", file, "--liveclient-addr", srv.URL(), "--ca-file", ca, "--interval", "200ms"}, &bytes.Buffer{}, &stderr)
	if code != 0 || !strings.Contains(stderr.String(), "recorded game lc-") {
		t.Fatalf("record: exit %d:\n%s", code, stderr.String())
	}
	// An existing file is never overwritten.
	if code := run(ctx, []string{"record", "--out", file, "--liveclient-addr", srv.URL()}, &bytes.Buffer{}, &stderr); code != exitBadInput {
		t.Errorf("record onto an existing file: exit %d, want %d", code, exitBadInput)
	}

	code, stdout, errOut := runCLI(t, "replay", "--liveclient", file, "--sink", "stdout")
	if code != 0 {
		t.Fatalf("replay: exit %d: %s", code, errOut)
	}
	checkLiveFigures(t, parseAll(t, strings.Split(strings.TrimSpace(stdout), "\n")), figuresOf(t, rankedCapture))
}

// TestRunLiveClientImpostor: a server whose certificate another CA signed
// is refused: one warning naming the certificate, and nothing of its game
// reaches the Agent.
func TestRunLiveClientImpostor(t *testing.T) {
	statsdtest.ClearEnv(t)
	t.Setenv("RIOT_API_KEY", "")
	srv := lctest.New(t, lctest.Game{Capture: bridgetest.ReadFile(t, rankedCapture)}, lctest.WithUntrustedLeaf())
	dsd := statsdtest.ListenUDP(t)
	path := writeLiveConfig(t, srv, dsd.Addr(), filepath.Join(t.TempDir(), "state.db"))
	stopRun, stderr := startRun(t, path)
	bridgetest.Eventually(t, "the certificate to be refused", 30*time.Second, func() bool {
		return strings.Contains(stderr.String(), "unknown authority")
	}, stderr.String)
	time.Sleep(time.Second) // polls meanwhile are refused as quietly
	if code := stopRun(); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	if n := strings.Count(stderr.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warnings, want one:\n%s", n, stderr.String())
	}
	lines, err := dsd.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "lol.participant.") || strings.HasPrefix(l, "lol.event.count") {
			t.Fatalf("the impostor's game reached the Agent: %s", l)
		}
	}
}

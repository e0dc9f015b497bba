package main

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot/riottest"
	"github.com/riftbridge/riftbridge/sink/statsdtest"
	"github.com/riftbridge/riftbridge/state/redistest"
)

const inGameMetric = "lol." + mapper.MetricLiveInGame

// aggregationSettle outlasts datadog-go's client-side aggregation of
// untimed gauges (2 s), so a window that starts after it holds no gauge of
// a poll made before it began.
const aggregationSettle = 3 * time.Second

// redisConfig is the extra config of a replica on the Redis at url.
func redisConfig(url, prefix string) string {
	return fmt.Sprintf("state:\n  backend: redis\nredis:\n  url: %q\n  prefix: %q\n", url, prefix)
}

// playerTag is the player tag of a configured player's live points.
func playerTag(p runPlayer) string {
	return mapper.TagPlayer + ":" + mapper.TagValue(p.name+"#"+p.tag)
}

// replica is one riftbridge process among replicas, with its own listener,
// so that what each sent can be told apart.
type replica struct {
	*bridgeProc
	dsd *statsdtest.Server
}

var assignedRE = regexp.MustCompile(`msg="players assigned" replica=\S+ players=(\d+) of=\d+ replicas=(\d+)`)

// assignments returns the replica counts of each "players assigned" line.
func assignments(stderr string) []int {
	var out []int
	for _, m := range assignedRE.FindAllStringSubmatch(stderr, -1) {
		n, _ := strconv.Atoi(m[2])
		out = append(out, n)
	}
	return out
}

// inGameSenders returns, for each player, the replicas whose listeners got
// its in_game gauge in lines[from[i]:] of replica i, and how many gauges
// arrived in all.
func inGameSenders(t *testing.T, reps []*replica, from []int, players []runPlayer) (senders map[string][]int, gauges map[string]int) {
	t.Helper()
	senders, gauges = map[string][]int{}, map[string]int{}
	for i, r := range reps {
		lines := r.dsd.Lines()
		if from[i] > len(lines) {
			continue
		}
		for _, line := range lines[from[i]:] {
			if !strings.HasPrefix(line, inGameMetric+":") {
				continue
			}
			d, err := statsdtest.ParseLine(line)
			if err != nil {
				t.Fatalf("replica %d: %v", i, err)
			}
			for _, p := range players {
				if d.HasTags(playerTag(p)) {
					gauges[p.name]++
					if !slices.Contains(senders[p.name], i) {
						senders[p.name] = append(senders[p.name], i)
					}
				}
			}
		}
	}
	return senders, gauges
}

// lineCounts marks where each replica's listener stands now.
func lineCounts(reps []*replica) []int {
	out := make([]int, len(reps))
	for i, r := range reps {
		out[i] = len(r.dsd.Lines())
	}
	return out
}

// TestRunReplicas runs three replicas on one Redis and one Riot key with a
// tight application limit: together they stay inside it, each finished match
// is emitted once in all, each player is polled by exactly one replica, and
// when one is killed with SIGKILL the two others take its players over.
func TestRunReplicas(t *testing.T) {
	statsdtest.ClearEnv(t)
	t.Setenv("RIOT_API_KEY", "")
	// Nine players polled every second on one platform want 9 requests a
	// second there; the key allows 6 on average, so the replicas must share
	// one budget to stay inside it.
	appLimits := []riottest.Limit{{Count: 10, Seconds: 1}, {Count: 60, Seconds: 10}}
	srv := riottest.NewServer(riottest.WithAppLimits(appLimits...))
	t.Cleanup(srv.Close)
	url := redistest.URL(t)
	extra := redisConfig(url, redistest.Prefix(t, url))

	var players []runPlayer
	var puuids []string
	for i := range 9 {
		p := runPlayer{fmt.Sprintf("Replica %d", i), "RB3", "kr"}
		players = append(players, p)
		puuids = append(puuids, srv.AddPlayer(p.name, p.tag, p.platform))
	}
	// Three games of several players each, so players of one game land on
	// different replicas: one over before the start (found by the match
	// list sweep), two ending soon after it (found by the spectator).
	now := time.Now()
	offsets := sampleFrameOffsets(t)
	type match struct {
		id     string
		stamps []int64
	}
	var matches []match
	for _, g := range []struct {
		players []string
		start   time.Time
		length  time.Duration
	}{
		{puuids[0:3], now.Add(-29 * time.Minute), 29*time.Minute - time.Second},
		{puuids[3:6], now.Add(-29 * time.Minute), 29*time.Minute + 3*time.Second},
		{puuids[6:9], now.Add(-29 * time.Minute), 29*time.Minute + 4*time.Second},
	} {
		id := srv.AddGame(riottest.GameSpec{Platform: "kr", Players: g.players, Start: g.start, Duration: g.length, ProcessingDelay: time.Second})
		if id == "" {
			t.Fatal("scenario rejected")
		}
		matches = append(matches, match{id, frameStamps(g.start, offsets)})
	}

	var reps []*replica
	var procs []*bridgeProc
	for i := range 3 {
		dsd := statsdtest.ListenUnix(t)
		p := startBridge(t, fmt.Sprintf("replica %d", i), writeRunConfig(t, srv, dsd.Addr(), players, extra))
		reps = append(reps, &replica{p, dsd})
		procs = append(procs, p)
	}
	allLines := func(rs []*replica) []statsdtest.Datagram {
		var ds []statsdtest.Datagram
		for _, r := range rs {
			ds = append(ds, parseAll(t, r.dsd.Lines())...)
		}
		return ds
	}
	lastAssigned := func(r *replica) int {
		a := assignments(r.stderr.String())
		if len(a) == 0 {
			return 0
		}
		return a[len(a)-1]
	}

	// Steady state: every replica sees the three.
	bridgetest.Eventually(t, "every replica to take its share of three", 30*time.Second, func() bool {
		return !slices.ContainsFunc(reps, func(r *replica) bool { return lastAssigned(r) != 3 })
	}, stderrs(procs...))
	// Live gauges are aggregated by datadog-go and flushed every 2 s: let
	// those of polls made under an earlier assignment arrive first.
	time.Sleep(aggregationSettle)
	from := lineCounts(reps)
	bridgetest.Eventually(t, "every player polled twice", 30*time.Second, func() bool {
		_, gauges := inGameSenders(t, reps, from, players)
		return !slices.ContainsFunc(players, func(p runPlayer) bool { return gauges[p.name] < 2 })
	}, stderrs(procs...))
	senders, _ := inGameSenders(t, reps, from, players)
	owned := make([][]runPlayer, len(reps))
	for _, p := range players {
		if len(senders[p.name]) != 1 {
			t.Errorf("with three replicas, %s's in_game came from replicas %v, want exactly one", p.name, senders[p.name])
			continue
		}
		owned[senders[p.name][0]] = append(owned[senders[p.name][0]], p)
	}
	for i, r := range reps {
		if a := assignments(r.stderr.String()); a[len(a)-1] != 3 {
			t.Errorf("replica %d: membership changed during the window: assignments %v", i, a)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	var split []string
	for i := range reps {
		split = append(split, fmt.Sprintf("replica %d: %d", i, len(owned[i])))
	}
	t.Logf("players per replica: %s", strings.Join(split, ", "))
	for g, m := range matches {
		var on []int
		for i := range reps {
			for _, p := range owned[i] {
				if slices.Contains(players[3*g:3*g+3], p) && !slices.Contains(on, i) {
					on = append(on, i)
				}
			}
		}
		slices.Sort(on)
		t.Logf("%s: its tracked players are polled by replicas %v", m.id, on)
	}

	// Every match emitted, then a self-telemetry flush from each replica
	// after that, so its lol.bridge.matches_emitted is in.
	bridgetest.Eventually(t, "every match's game_end", 60*time.Second, func() bool {
		var lines []string
		for _, r := range reps {
			lines = append(lines, r.dsd.Lines()...)
		}
		for _, m := range matches {
			if !slices.ContainsFunc(lines, func(l string) bool { return isGameEnd(l, m.id) }) {
				return false
			}
		}
		return true
	}, stderrs(procs...))
	emittedAt := lineCounts(reps)
	replicasGauge := func(r *replica, from int) (float64, bool) {
		lines := r.dsd.Lines()
		if from > len(lines) {
			return 0, false
		}
		return lastValue(parseAll(t, lines[from:]), "lol.bridge.replicas")
	}
	bridgetest.Eventually(t, "a self-telemetry flush from each replica after the matches", 30*time.Second, func() bool {
		for i, r := range reps {
			if _, ok := replicasGauge(r, emittedAt[i]); !ok {
				return false
			}
		}
		return true
	}, stderrs(procs...))
	for i, r := range reps {
		if v, _ := replicasGauge(r, emittedAt[i]); v != 3 {
			t.Errorf("replica %d: lol.bridge.replicas = %v, want 3", i, v)
		}
	}

	// SIGKILL the replica with the most players: no Leave, its heartbeat
	// must expire.
	victim := 0
	for i := range reps {
		if len(owned[i]) > len(owned[victim]) {
			victim = i
		}
	}
	var survivors []*replica
	var survivorProcs []*bridgeProc
	for i, r := range reps {
		if i != victim {
			survivors, survivorProcs = append(survivors, r), append(survivorProcs, r.bridgeProc)
		}
	}
	from = lineCounts(survivors)
	killed := time.Now()
	reps[victim].kill9(t)
	bridgetest.Eventually(t, fmt.Sprintf("the survivors to poll replica %d's players %v", victim, owned[victim]), 15*time.Second, func() bool {
		_, gauges := inGameSenders(t, survivors, from, owned[victim])
		return !slices.ContainsFunc(owned[victim], func(p runPlayer) bool { return gauges[p.name] == 0 })
	}, stderrs(survivorProcs...))
	takeover := time.Since(killed)
	bridgetest.Eventually(t, "both survivors to take their share of two", 15*time.Second, func() bool {
		return !slices.ContainsFunc(survivors, func(r *replica) bool { return lastAssigned(r) != 2 })
	}, stderrs(survivorProcs...))
	time.Sleep(500 * time.Millisecond)
	from = lineCounts(survivors)
	bridgetest.Eventually(t, "every player polled twice by the survivors", 30*time.Second, func() bool {
		_, gauges := inGameSenders(t, survivors, from, players)
		return !slices.ContainsFunc(players, func(p runPlayer) bool { return gauges[p.name] < 2 })
	}, stderrs(survivorProcs...))
	senders, _ = inGameSenders(t, survivors, from, players)
	perSurvivor := make([]int, len(survivors))
	for _, p := range players {
		if len(senders[p.name]) != 1 {
			t.Errorf("with two replicas, %s's in_game came from survivors %v, want exactly one", p.name, senders[p.name])
			continue
		}
		perSurvivor[senders[p.name][0]]++
	}
	for i, r := range survivors {
		if a := assignments(r.stderr.String()); a[len(a)-1] != 2 {
			t.Errorf("survivor %d: membership changed during the window: assignments %v", i, a)
		}
	}
	t.Logf("SIGKILL of replica %d (%d players): every one polled by a survivor %v after the kill; players per survivor %v",
		victim, len(owned[victim]), takeover.Round(10*time.Millisecond), perSurvivor)

	// The first survivor stopped reports two replicas in its last flush.
	stopFrom := len(survivors[0].dsd.Lines())
	survivors[0].terminate(t)
	lines := syncLines(t, survivors[0].dsd)
	if v, ok := lastValue(parseAll(t, lines[stopFrom:]), "lol.bridge.replicas"); !ok || v != 2 {
		t.Errorf("first survivor's final lol.bridge.replicas = %v (found %v), want 2", v, ok)
	}
	survivors[1].terminate(t)
	for _, r := range reps {
		syncLines(t, r.dsd)
	}

	// Each match once over all three listeners, frame by frame.
	ds := allLines(reps)
	for _, m := range matches {
		tag := "match_id:" + strings.ToLower(m.id)
		if n := countEvents(ds, tag, "moment:game_end"); n != 1 {
			t.Errorf("%s: %d game_end events over the three replicas, want 1", m.id, n)
		}
		var by []int
		for i, r := range reps {
			if len(framePoints(parseAll(t, r.dsd.Lines()), m.id)) > 0 {
				by = append(by, i)
			}
		}
		points := framePoints(ds, m.id)
		for f, ts := range m.stamps {
			if len(points[ts]) == 0 {
				t.Errorf("%s frame %d: no point", m.id, f)
			}
			for series, vs := range points[ts] {
				if len(vs) != 1 {
					t.Errorf("%s frame %d: %s received %d times (%v), want once", m.id, f, series, len(vs), vs)
				}
			}
		}
		if len(points) != len(m.stamps) {
			t.Errorf("%s: points at %d timestamps, want the %d frames'", m.id, len(points), len(m.stamps))
		}
		if len(by) != 1 {
			t.Errorf("%s: frames sent by replicas %v, want one", m.id, by)
		}
		for _, f := range finalFigures {
			if got, ok := lastValue(ds, f.metric, append([]string{tag}, f.tags...)...); !ok || got != f.want {
				t.Errorf("%s %s%v = %v (found %v), want %v", m.id, f.metric, f.tags, got, ok, f.want)
			}
		}
		t.Logf("%s emitted by replica %v", m.id, by)
	}
	if n := sumMetric(ds, "lol.bridge.matches_emitted"); n != float64(len(matches)) {
		t.Errorf("lol.bridge.matches_emitted sums to %v over the replicas, want %d", n, len(matches))
	}

	st := srv.Stats()
	checkWellBehaved(t, st)
	// The limit was pressed for real: the spectator's platform filled its
	// long window.
	for _, w := range st.Windows {
		if w.Endpoint == "" {
			t.Logf("app window %s %v: max %d", w.Route, w.Limit, w.MaxCount)
			if w.Route == "kr" && w.Limit.Seconds == 10 && w.MaxCount < w.Limit.Count*9/10 {
				t.Errorf("kr's %v window peaked at %d: the replicas never pressed the shared limit", w.Limit, w.MaxCount)
			}
		}
	}
	for _, m := range matches {
		if st.TimelineFetches[m.id] != 1 {
			t.Errorf("%s: timeline fetched %d times over the replicas, want 1", m.id, st.TimelineFetches[m.id])
		}
	}
	for _, r := range reps {
		if strings.Contains(r.stderr.String(), srv.Key()) {
			t.Errorf("%s: the API key appears in the logs", r.name)
		}
	}
}

// TestRunRedisDown: a replica whose Redis is not there at start stops with
// one line naming the URL without its password; one whose Redis goes away
// for a while counts it, and emits a match that finished meanwhile once
// Redis is back, exactly once.
func TestRunRedisDown(t *testing.T) {
	statsdtest.ClearEnv(t)
	t.Setenv("RIOT_API_KEY", "")
	srv := riottest.NewServer()
	t.Cleanup(srv.Close)

	t.Run("unreachable at start", func(t *testing.T) {
		player := runPlayer{"No Redis", "DOWN", "kr"}
		srv.AddPlayer(player.name, player.tag, player.platform)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		const password = "hunter2-s3cret"
		dsd := statsdtest.ListenUDP(t)
		cfg := writeRunConfig(t, srv, dsd.Addr(), []runPlayer{player},
			redisConfig("redis://:"+password+"@"+addr+"/0", "rbtest:down:"))
		// At info level, so that the one line is all there is.
		data, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cfg, []byte(strings.Replace(string(data), "level: debug", "level: info", 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		p := startBridge(t, "replica without redis", cfg)
		if !p.exitWithin(20 * time.Second) {
			t.Fatalf("still running 20 s after start with no Redis; stderr:\n%s", p.stderr.String())
		}
		stderr := p.stderr.String()
		if p.code() == 0 {
			t.Errorf("exit 0 with no Redis; stderr:\n%s", stderr)
		}
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if len(lines) != 1 {
			t.Errorf("stderr has %d lines, want one:\n%s", len(lines), stderr)
		}
		if want := "redis://" + addr + "/0"; !strings.Contains(lines[len(lines)-1], want) {
			t.Errorf("last line %q does not name %s", lines[len(lines)-1], want)
		}
		for _, bad := range []string{password, srv.Key(), "goroutine ", "panic"} {
			if strings.Contains(stderr, bad) {
				t.Errorf("stderr holds %q:\n%s", bad, stderr)
			}
		}
		t.Logf("exit %d: %s", p.code(), strings.TrimSpace(stderr))
	})

	t.Run("down for a while", func(t *testing.T) {
		rs := redistest.Start(t)
		player := runPlayer{"Flaky Redis", "DOWN", "kr"}
		puuid := srv.AddPlayer(player.name, player.tag, player.platform)
		start := time.Now().Add(-29 * time.Minute)
		length := 29*time.Minute + 5*time.Second
		const delay = time.Second
		id := srv.AddGame(riottest.GameSpec{Platform: "kr", Players: []string{puuid}, Start: start, Duration: length, ProcessingDelay: delay})
		if id == "" {
			t.Fatal("scenario rejected")
		}
		available := start.Add(length + delay)
		tag := "match_id:" + strings.ToLower(id)
		dsd := statsdtest.ListenUnix(t)
		p := startBridge(t, "replica", writeRunConfig(t, srv, dsd.Addr(), []runPlayer{player}, redisConfig(rs.URL, redistest.Prefix(t, rs.URL))))

		// Polling under way: the live game seen.
		bridgetest.Eventually(t, "the live game", 30*time.Second, func() bool {
			return slices.ContainsFunc(dsd.Lines(), func(l string) bool {
				return strings.HasPrefix(l, inGameMetric+":1|") && strings.Contains(l, playerTag(player))
			})
		}, stderrs(p))
		rs.Stop()
		stopped := time.Now()
		// Down until the match is ready, and at least a few heartbeats.
		time.Sleep(max(time.Until(available)+500*time.Millisecond, 2*time.Second))
		rs.Restart()
		down := time.Since(stopped)
		duringOutage := !available.After(time.Now())

		bridgetest.Eventually(t, "the match's game_end once Redis is back", 45*time.Second, func() bool {
			return slices.ContainsFunc(dsd.Lines(), func(l string) bool { return isGameEnd(l, id) })
		}, stderrs(p))
		p.terminate(t)
		ds := parseAll(t, syncLines(t, dsd))

		if n := sumMetric(ds, "lol.bridge.state.unavailable"); n == 0 {
			t.Errorf("lol.bridge.state.unavailable never counted while Redis was down for %v", down.Round(time.Millisecond))
		} else {
			t.Logf("Redis down %v: lol.bridge.state.unavailable counted %v; match available during the outage: %v", down.Round(time.Millisecond), n, duringOutage)
		}
		if n := countEvents(ds, tag, "moment:game_end"); n != 1 {
			t.Errorf("%s: %d game_end events, want 1", id, n)
		}
		if n := sumMetric(ds, "lol.bridge.matches_emitted"); n != 1 {
			t.Errorf("lol.bridge.matches_emitted sums to %v, want 1", n)
		}
		points := framePoints(ds, id)
		for f, ts := range frameStamps(start, sampleFrameOffsets(t)) {
			if len(points[ts]) == 0 {
				t.Errorf("%s frame %d: no point", id, f)
			}
			for series, vs := range points[ts] {
				if len(vs) != 1 {
					t.Errorf("%s frame %d: %s received %d times, want once", id, f, series, len(vs))
				}
			}
		}
		if strings.Contains(p.stderr.String(), srv.Key()) {
			t.Error("the API key appears in the logs")
		}
	})
}

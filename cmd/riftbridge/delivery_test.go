package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/config"
	"github.com/riftbridge/riftbridge/riot/riottest"
	"github.com/riftbridge/riftbridge/sink/statsdtest"
	"github.com/riftbridge/riftbridge/state"
	"github.com/riftbridge/riftbridge/state/redistest"
)

// TestReplayBackfillDelivery replays the sample with --backfill into Agents
// that do not keep up: every line the stdout sink prints for the same
// replay must arrive, once.
func TestReplayBackfillDelivery(t *testing.T) {
	statsdtest.ClearEnv(t)
	args := []string{"replay", "--timeline", sampleTimeline, "--match", sampleMatch, "--backfill"}
	code, stdout, stderr := runCLI(t, append(args, "--sink", "stdout")...)
	if code != 0 {
		t.Fatalf("stdout replay: exit %d: %s", code, stderr)
	}
	want := strings.Split(strings.TrimSpace(stdout), "\n")
	for _, tt := range []struct {
		name   string
		listen func(t *testing.T) *statsdtest.Server
	}{
		{"udp with the kernel's default receive buffer", func(t *testing.T) *statsdtest.Server {
			return statsdtest.ListenUDP(t, statsdtest.DefaultBuffer())
		}},
		{"unix socket read at 500 datagrams per second", func(t *testing.T) *statsdtest.Server {
			return statsdtest.ListenUnix(t, statsdtest.ReadRate(500))
		}},
		{"unix socket whose reader hangs 3 s mid-match", func(t *testing.T) *statsdtest.Server {
			return statsdtest.ListenUnix(t, statsdtest.PauseAfter(50, 3*time.Second))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			statsdtest.ClearEnv(t)
			srv := tt.listen(t)
			code, _, stderr := runCLI(t, append(args, "--statsd-addr", srv.Addr())...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			lines := syncLines(t, srv)
			// datadog-go's own telemetry is the only addition.
			lines = slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, "datadog.dogstatsd.client.") })
			if missing, extra := lineDiff(want, lines), lineDiff(lines, want); len(missing)+len(extra) > 0 {
				t.Errorf("received %d lines, the stdout sink printed %d: %d missing (%.3q), %d unexpected (%.3q)",
					len(lines), len(want), len(missing), missing, len(extra), extra)
			}
		})
	}
}

// lineDiff returns the lines of a that b lacks, counting repeats.
func lineDiff(a, b []string) []string {
	left := map[string]int{}
	for _, l := range b {
		left[l]++
	}
	var out []string
	for _, l := range a {
		if left[l] > 0 {
			left[l]--
			continue
		}
		out = append(out, l)
	}
	return out
}

// TestRunDelivery: `run` sends a finished match to Agents that do not keep
// up, or are not there when it ends. Every series of every frame arrives,
// once, and the ledger says emitted only once all of them are in the
// Agent's socket; while the Agent is away, no frame is recorded as sent,
// and once it is back, in the same process or in a new one on the same
// state, the match arrives whole.
func TestRunDelivery(t *testing.T) {
	for _, tt := range []struct {
		name   string
		listen []statsdtest.Option
		udp    bool
		// away: the socket is missing until the match has failed twice;
		// restart: and the process is replaced meanwhile.
		away, restart bool
		backend       string
	}{
		// Redis lets the test read the ledger while the process runs.
		{name: "udp with the kernel's default receive buffer", udp: true, listen: []statsdtest.Option{statsdtest.DefaultBuffer()}, backend: config.StateRedis},
		{name: "unix socket read at 500 datagrams per second", listen: []statsdtest.Option{statsdtest.ReadRate(500)}, backend: config.StateRedis},
		{name: "unix socket whose reader hangs 3 s mid-match", listen: []statsdtest.Option{statsdtest.PauseAfter(50, 3*time.Second)}, backend: config.StateRedis},
		{name: "unix socket missing, then there", away: true, backend: config.StateRedis},
		{name: "unix socket missing, then there after a restart", away: true, restart: true, backend: config.StateBolt},
	} {
		t.Run(tt.name, func(t *testing.T) {
			statsdtest.ClearEnv(t)
			t.Setenv("RIOT_API_KEY", "")
			if tt.away {
				// Fail fast while the socket is missing; the others wait
				// with the default patience, as users' bridges do.
				t.Setenv("RIFTBRIDGE_STATSD_PATIENCE", "1s")
			}
			srv := riottest.NewServer()
			t.Cleanup(srv.Close)
			player := runPlayer{"Delivery", "DLV", "kr"}
			puuid := srv.AddPlayer(player.name, player.tag, player.platform)
			start := time.Now().Add(-29 * time.Minute)
			id := srv.AddGame(riottest.GameSpec{Platform: "kr", Players: []string{puuid}, Start: start, Duration: 29*time.Minute - time.Second, ProcessingDelay: 500 * time.Millisecond})
			if id == "" {
				t.Fatal("scenario rejected")
			}
			socket := filepath.Join(t.TempDir(), "dsd.socket")
			addr, listen := "unix://"+socket, func() *statsdtest.Server { return statsdtest.ListenUnixAt(t, socket, tt.listen...) }
			if tt.udp {
				addr = statsdtest.FreeUDPAddr(t)
				listen = func() *statsdtest.Server { return statsdtest.ListenUDPAt(t, addr, tt.listen...) }
			}
			var dsd *statsdtest.Server
			if !tt.away {
				dsd = listen()
			}
			statePath := filepath.Join(t.TempDir(), "state.db")
			extra := fmt.Sprintf("state:\n  path: %q\n", statePath)
			var ledger func() state.MatchStatus
			if tt.backend == config.StateRedis {
				url := redistest.URL(t)
				prefix := redistest.Prefix(t, url)
				extra = redisConfig(url, prefix)
				store := state.NewRedis(redistest.Conn(t, url), state.RedisPrefix(prefix))
				t.Cleanup(func() { store.Close() })
				ledger = func() state.MatchStatus { return matchStatus(t, store, id) }
			} else {
				// The file is locked while a process runs.
				ledger = func() state.MatchStatus {
					store, err := state.OpenBolt(statePath, telemetry.Settings{})
					if err != nil {
						t.Fatal(err)
					}
					defer store.Close()
					return matchStatus(t, store, id)
				}
			}
			cfg := writeRunConfig(t, srv, addr, []runPlayer{player}, extra)
			running := startBridge(t, "first run", cfg)

			if tt.away {
				// Fetched, and failing at the first frame, at each try.
				running.waitLog(t, "the match to fail twice", time.Minute, func(s string) bool { return failedTries(s, id) >= 2 })
				if !strings.Contains(running.stderr.String(), "the datadog agent is not taking payloads") {
					t.Errorf("no warning that the agent is away:\n%s", running.stderr.String())
				}
				if tt.restart {
					running.terminate(t)
				}
				if st := ledger(); st.Phase == state.Finished || st.FramesDone != 0 {
					t.Fatalf("with the agent away, the ledger says %+v: want the match unfinished, no frame recorded", st)
				}
				dsd = listen()
				if tt.restart {
					running = startBridge(t, "second run", cfg)
				}
			}

			stamps := frameStamps(start, sampleFrameOffsets(t))
			tag := "match_id:" + strings.ToLower(id)
			if tt.backend == config.StateRedis {
				// The moment the ledger says emitted, the Agent's socket
				// already holds every frame.
				bridgetest.Eventually(t, "the ledger to say emitted", time.Minute, func() bool { return ledger().Outcome == state.Emitted }, stderrs(running))
				if got := framePoints(parseAll(t, syncLines(t, dsd)), id); len(got) != len(stamps) {
					t.Fatalf("the ledger says emitted with %d of %d frames in the agent's socket", len(got), len(stamps))
				}
			} else {
				wait, stop := context.WithTimeout(context.Background(), time.Minute)
				_, err := dsd.WaitFor(wait, func(lines []string) bool {
					return slices.ContainsFunc(lines, func(l string) bool { return isGameEnd(l, id) })
				})
				stop()
				if err != nil {
					t.Fatalf("the match never arrived once the agent was back: %v\nstderr:\n%s", err, running.stderr.String())
				}
			}
			running.terminate(t)
			if st := ledger(); st.Outcome != state.Emitted {
				t.Errorf("after delivery the ledger says %+v, want emitted", st)
			}

			defer func() {
				if t.Failed() {
					t.Logf("stderr:\n%s", running.stderr.String())
				}
			}()
			ds := parseAll(t, syncLines(t, dsd))
			// Every frame whole and once: the check of a resume with
			// nothing sent before it.
			checkResume(t, id, stamps, nil, framePoints(ds, id))
			if n := countEvents(ds, tag, "moment:game_end"); n != 1 {
				t.Errorf("%d game_end events, want 1", n)
			}
			if n := sumMetric(ds, "lol.bridge.matches_emitted"); n != 1 {
				t.Errorf("lol.bridge.matches_emitted sums to %v, want 1", n)
			}
			if n := sumMetric(ds, "lol.bridge.frames_undelivered"); tt.away && !tt.restart && n < 2 {
				t.Errorf("lol.bridge.frames_undelivered sums to %v, want the failed tries counted", n)
			}
			if st := srv.Stats(); !tt.restart && (st.TimelineFetches[id] != 1 || st.MatchFetches[id] != 1) {
				t.Errorf("%s fetched %d times and its timeline %d times, want once each: a retry resends what it has",
					id, st.MatchFetches[id], st.TimelineFetches[id])
			}
		})
	}
}

// failedTries counts the fetch polls whose emission of match id failed to
// deliver.
func failedTries(stderr, id string) int {
	n := 0
	for line := range strings.SplitSeq(stderr, "\n") {
		if strings.Contains(line, `msg="poll failed`) && strings.Contains(line, "poller=matches.fetch") && strings.Contains(line, id) && strings.Contains(line, "not delivered") {
			n++
		}
	}
	return n
}

func matchStatus(t *testing.T, store state.Store, id string) state.MatchStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := store.Status(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestRunPicksAgentSocket: with statsd.address at its default and the
// Agent's socket there, `run` sends over the socket and its start-up line
// says so.
func TestRunPicksAgentSocket(t *testing.T) {
	statsdtest.ClearEnv(t)
	t.Setenv("RIOT_API_KEY", "")
	srv := riottest.NewServer()
	t.Cleanup(srv.Close)
	player := runPlayer{"Socket", "UDS", "kr"}
	srv.AddPlayer(player.name, player.tag, player.platform)
	dsd := statsdtest.ListenUnix(t)
	t.Setenv("DD_DOGSTATSD_SOCKET", strings.TrimPrefix(dsd.Addr(), "unix://"))
	bridge := startBridge(t, "run", writeRunConfig(t, srv, "127.0.0.1:8125", []runPlayer{player}, ""))
	bridge.waitLog(t, "the start-up line", 30*time.Second, func(s string) bool { return strings.Contains(s, "riftbridge running") })
	wait, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	if _, err := dsd.WaitFor(wait, func(lines []string) bool {
		return slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, inGameMetric) })
	}); err != nil {
		t.Fatalf("no live gauge on the agent's socket: %v\nstderr:\n%s", err, bridge.stderr.String())
	}
	bridge.terminate(t)
	for line := range strings.SplitSeq(bridge.stderr.String(), "\n") {
		if strings.Contains(line, "riftbridge running") {
			for _, want := range []string{`sink="dogstatsd ` + dsd.Addr() + `"`, "transport=uds", `transport_chosen="the agent's socket, found at`} {
				if !strings.Contains(line, want) {
					t.Errorf("start-up line %q does not say %s", line, want)
				}
			}
		}
	}
}

package main

import (
	"bytes"
	"context"
	"image/png"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/sink/statsdtest"
)

const (
	sampleTimeline = "../../samples/KR_7014499581.timeline.json"
	sampleMatch    = "../../samples/KR_7014499581.match.json"
	seedFrame      = "../../samples/seed_frame_interval.json"
	seedEvents     = "../../samples/seed_event_interval.json"
)

// runCLI runs the command line in-process, as main does.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// parseAll parses every line strictly and fails the test on the first
// malformed one.
func parseAll(t testing.TB, lines []string) []statsdtest.Datagram {
	t.Helper()
	out := make([]statsdtest.Datagram, 0, len(lines))
	for _, line := range lines {
		d, err := statsdtest.ParseLine(line)
		if err != nil {
			t.Fatalf("malformed DogStatsD line %q: %v", line, err)
		}
		out = append(out, d)
	}
	return out
}

// lastValue returns the value of the last datagram of a metric with tags.
func lastValue(ds []statsdtest.Datagram, name string, tags ...string) (float64, bool) {
	v, ok := 0.0, false
	for _, d := range ds {
		if d.Kind == statsdtest.Metric && d.Name == name && d.HasTags(tags...) {
			v, ok = d.Value, true
		}
	}
	return v, ok
}

func hasEvent(ds []statsdtest.Datagram, tags ...string) bool {
	for _, d := range ds {
		if d.Kind == statsdtest.Event && d.HasTags(tags...) {
			return true
		}
	}
	return false
}

// finalFigures are the sample's end-of-game team figures, computed by hand
// from the timeline and confirmed by the match file's team objectives.
var finalFigures = []struct {
	metric string
	tags   []string
	want   float64
}{
	{"lol.team.gold", []string{"team:blue"}, 56649}, {"lol.team.gold", []string{"team:red"}, 64250},
	{"lol.team.kills", []string{"team:blue"}, 23}, {"lol.team.kills", []string{"team:red"}, 26},
	{"lol.team.dragons", []string{"team:blue"}, 3}, {"lol.team.dragons", []string{"team:red"}, 1},
	{"lol.team.towers", []string{"team:blue"}, 3}, {"lol.team.towers", []string{"team:red"}, 7},
	{"lol.match.gold_diff", nil, -7601},
}

func checkReplay(t *testing.T, ds []statsdtest.Datagram) {
	t.Helper()
	for _, f := range finalFigures {
		got, ok := lastValue(ds, f.metric, append([]string{"match_id:kr_7014499581"}, f.tags...)...)
		if !ok || got != f.want {
			t.Errorf("%s%v = %v (found %v), want %v", f.metric, f.tags, got, ok, f.want)
		}
	}
	for id := 1; id <= 10; id++ {
		for _, stat := range []string{"health", "health_max", "armor", "ability_haste", "spell_vamp", "movement_speed"} {
			if _, ok := lastValue(ds, "lol.participant.champion."+stat, "participant_id:"+strconv.Itoa(id)); !ok {
				t.Errorf("participant %d: no lol.participant.champion.%s", id, stat)
			}
		}
	}
	if !hasEvent(ds, "moment:game_end", "team:red") || !hasEvent(ds, "moment:first_blood") {
		t.Error("notable-moment events missing")
	}
}

// TestReplayIntoUDP is the end-to-end path: the CLI replays the sample at
// speed 0 into a real UDP DogStatsD listener.
func TestReplayIntoUDP(t *testing.T) {
	statsdtest.ClearEnv(t)
	srv := statsdtest.ListenUDP(t)
	code, _, stderr := runCLI(t, "replay", "--timeline", sampleTimeline, "--match", sampleMatch, "--statsd-addr", srv.Addr())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "replayed KR_7014499581: 30 frames, 16750 points, 12 events") {
		t.Errorf("summary line missing: %q", stderr)
	}
	// The CLI has exited, so every datagram was sent: Sync reads them all,
	// where waiting for the last metric could stop before the reader has
	// drained the socket.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lines, err := srv.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkReplay(t, parseAll(t, lines))
}

// TestReplayBackfillIntoUnixSocket sends true timestamps over the Agent's
// Unix socket transport: nothing is aggregated, so every point arrives.
func TestReplayBackfillIntoUnixSocket(t *testing.T) {
	statsdtest.ClearEnv(t)
	srv := statsdtest.ListenUnix(t)
	code, _, stderr := runCLI(t, "replay", "--timeline", sampleTimeline, "--match", sampleMatch, "--backfill", "--statsd-addr", srv.Addr())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "outside Datadog's intake window") {
		t.Errorf("no intake-window warning for a 2024 match: %q", stderr)
	}
	isPoint := func(l string) bool { return strings.HasPrefix(l, "lol.") }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	lines, err := srv.WaitFor(ctx, func(lines []string) bool {
		n := 0
		for _, l := range lines {
			if isPoint(l) {
				n++
			}
		}
		return n >= 16750
	})
	if err != nil {
		t.Fatal(err)
	}
	ds := parseAll(t, lines)
	gameEnd := time.UnixMilli(1712161619935 + 1739347).Unix()
	points := 0
	for _, d := range ds {
		if d.Kind != statsdtest.Metric || !strings.HasPrefix(d.Name, "lol.") {
			continue
		}
		points++
		if d.Timestamp < 1712161619 || d.Timestamp > gameEnd {
			t.Fatalf("%s stamped %d, outside the game [1712161619, %d]", d.Name, d.Timestamp, gameEnd)
		}
	}
	if points != 16750 {
		t.Errorf("%d points arrived, want all 16750", points)
	}
	checkReplay(t, ds)
	if v, _ := lastValue(ds, "lol.team.gold", "team:blue"); v != 56649 {
		t.Errorf("last blue gold %v", v)
	}
}

func TestReplayToStdoutFromConfigAndEnv(t *testing.T) {
	statsdtest.ClearEnv(t)
	t.Setenv("RIFTBRIDGE_REPLAY_TIMELINE", sampleTimeline)
	t.Setenv("RIFTBRIDGE_METRICS_DROP_TAGS", "match_id")
	code, stdout, stderr := runCLI(t, "replay", "--config", "testdata/stdout.yaml", "--match", sampleMatch)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	ds := parseAll(t, lines)
	if v, ok := lastValue(ds, "lol.team.gold", "team:red"); !ok || v != 64250 {
		t.Errorf("red gold = %v, %v", v, ok)
	}
	if strings.Contains(stdout, "match_id:") {
		t.Error("metrics.drop_tags from the environment was not applied")
	}
}

func TestReplayPlot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gold.png")
	code, _, stderr := runCLI(t, "replay", "--timeline", sampleTimeline, "--match", sampleMatch, "--sink", "stdout", "--plot", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 300 {
		t.Errorf("plot is %v, too small to read", b)
	}
}

func TestReplaySeedFragments(t *testing.T) {
	code, stdout, stderr := runCLI(t, "replay", "--timeline", seedFrame, "--timeline", seedEvents, "--sink", "stdout")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ds := parseAll(t, strings.Split(strings.TrimSpace(stdout), "\n"))
	if v, ok := lastValue(ds, "lol.event.count", "event_type:champion_kill"); !ok || v != 2 {
		t.Errorf("champion kills = %v, %v; want 2", v, ok)
	}
	if _, ok := lastValue(ds, "lol.participant.champion.health", "participant_id:10"); !ok {
		t.Error("participant 10's champion stats missing")
	}
}

// TestBadInput: every kind of bad input ends with exit 2 and one line on
// stderr naming what is wrong — never a panic or a usage dump.
func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"replay", "--timeline", "testdata/nope.json", "--sink", "stdout"}, "testdata/nope.json"},
		{"malformed json", []string{"replay", "--timeline", "testdata/malformed.json", "--sink", "stdout"}, "testdata/malformed.json: invalid JSON at byte 72"},
		{"no frames", []string{"replay", "--timeline", "testdata/no-frames.json", "--sink", "stdout"}, "no frames"},
		{"aborted game", []string{"replay", "--timeline", "testdata/aborted.json", "--sink", "stdout"}, "Abort_Unexpected"},
		{"match as timeline", []string{"replay", "--timeline", sampleMatch, "--sink", "stdout"}, "pass it with --match"},
		{"no timeline", []string{"replay", "--sink", "stdout"}, `"replay.timeline": required`},
		{"unknown config key", []string{"replay", "--config", "testdata/unknown-key.yaml", "--timeline", sampleTimeline}, `unknown key "statsd.adress"`},
		{"bad flag value", []string{"replay", "--timeline", sampleTimeline, "--speed", "fast"}, `invalid argument "fast" for "--speed"`},
		{"negative speed", []string{"replay", "--timeline", sampleTimeline, "--speed", "-1", "--sink", "stdout"}, `"replay.speed": must be 0`},
		{"bad sink", []string{"replay", "--timeline", sampleTimeline, "--sink", "kafka"}, `"sink": must be "dogstatsd" or "stdout"`},
		{"backfill without start", []string{"replay", "--timeline", seedFrame, "--backfill", "--sink", "stdout"}, "--backfill needs the game start time"},
		{"unknown flag", []string{"replay", "--timelines", sampleTimeline}, "unknown flag: --timelines"},
		{"a device", []string{"replay", "--timeline", "/dev/zero", "--sink", "stdout"}, "/dev/zero: not a regular file (a device)"},
		{"a directory", []string{"replay", "--timeline", "testdata", "--sink", "stdout"}, "testdata: not a regular file (a directory)"},
		{"utf-16", []string{"replay", "--timeline", "testdata/utf16.json", "--sink", "stdout"}, "testdata/utf16.json: the file is UTF-16 or UTF-32 text; save it as UTF-8"},
		{"live: missing file", []string{"replay", "--liveclient", "testdata/nope.jsonl", "--sink", "stdout"}, "testdata/nope.jsonl: no such file"},
		{"live: a timeline", []string{"replay", "--liveclient", sampleTimeline, "--sink", "stdout"}, "neither a riftbridge recording nor an allgamedata snapshot"},
		{"live: and a timeline", []string{"replay", "--liveclient", "x.jsonl", "--timeline", sampleTimeline, "--sink", "stdout"}, `"replay.liveclient": replays a followed game instead of a timeline`},
		{"live: backfill a snapshot", []string{"replay", "--liveclient", "../../samples/liveclient_allgamedata.json", "--backfill", "--sink", "stdout"}, "--backfill needs the time of each poll, which a snapshot lacks"},
		{"record without --out", []string{"record"}, "record: --out FILE is required"},
		{"record over http", []string{"record", "--out", "x.jsonl", "--liveclient-addr", "http://127.0.0.1:2999"}, `"liveclient.address": must be an https origin`},
		{"record with a bad ca file", []string{"record", "--out", "x.jsonl", "--ca-file", "testdata/nope.pem"}, `"liveclient.ca_file": open testdata/nope.pem: no such file or directory`},
		{"repeated frame", []string{"replay", "--timeline", "testdata/repeated-frame.json", "--sink", "stdout"}, "frame 2 at 60021 ms does not come after frame 1 at 60021 ms: frames repeated or out of order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != exitBadInput {
				t.Errorf("exit %d, want %d; stderr %q", code, exitBadInput, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q does not say %q", stderr, tt.want)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
				t.Errorf("stderr holds %d lines, want one: %q", n+1, stderr)
			}
			if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "Usage:") {
				t.Errorf("stderr dumps a stack or usage: %q", stderr)
			}
		})
	}
}

// TestReplayIntoDeadAgent: nothing listens on the port, so the replay fails
// with a clear line and exit 1 instead of reporting success.
func TestReplayIntoDeadAgent(t *testing.T) {
	statsdtest.ClearEnv(t)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := conn.LocalAddr().String()
	conn.Close()
	t.Setenv("RIFTBRIDGE_STATSD_PATIENCE", "500ms")
	code, _, stderr := runCLI(t, "replay", "--timeline", sampleTimeline, "--match", sampleMatch, "--backfill", "--statsd-addr", addr)
	if code != exitFailure {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitFailure, stderr)
	}
	// The warning when the wait begins, and the line that ends the replay.
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	if len(lines) != 2 || !strings.Contains(last, "is the Datadog Agent listening there?") || !strings.Contains(last, addr) ||
		!strings.Contains(last, "frame 0") || !strings.Contains(last, "connection refused") {
		t.Errorf("stderr does not explain the dead agent in two lines:\n%s", stderr)
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "riftbridge ") {
		t.Errorf("version: exit %d, %q", code, stdout)
	}
}

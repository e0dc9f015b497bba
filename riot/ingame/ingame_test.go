package ingame

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/liveclient"
	"github.com/riftbridge/riftbridge/riot/liveclient/lctest"
	"github.com/riftbridge/riftbridge/riot/source"
	"github.com/riftbridge/riftbridge/state"
)

// games records what a Follower emits: each game begun, every event
// delivered, each end. fail, if set, fails the n-th poll (from 1).
type games struct {
	mu     sync.Mutex
	begins []string
	events []int
	names  []string
	polls  int
	ends   int
	fail   func(poll int) error
}

var _ source.Emitter = (*games)(nil)

func (g *games) Live(context.Context, riot.Live) error { return errors.New("not a spectator source") }
func (g *games) BeginMatch(context.Context, *riot.Recording, int) (source.Emission, error) {
	return nil, errors.New("not a match source")
}

func (g *games) BeginGame(_ context.Context, key string, from int) (source.GameEmission, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.begins = append(g.begins, fmt.Sprintf("%s from %d", key, from))
	return &game{g: g}, nil
}

type game struct {
	g    *games
	done bool
}

func (e *game) Poll(_ context.Context, p source.GamePoll) error {
	g := e.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if e.done {
		return errors.New("poll after the end")
	}
	g.polls++
	if g.fail != nil {
		if err := g.fail(g.polls); err != nil {
			e.done = true
			return err
		}
	}
	for _, ev := range p.Events {
		g.events = append(g.events, ev.EventID)
		g.names = append(g.names, ev.EventName)
	}
	return nil
}

func (e *game) End() {
	if !e.done {
		e.done = true
		e.g.mu.Lock()
		e.g.ends++
		e.g.mu.Unlock()
	}
}

func (g *games) snapshot() (begins []string, events []int, ends int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.begins), slices.Clone(g.events), g.ends
}

// polled reports each finished poll's error.
type polled struct {
	telemetry.Nop
	errs chan error
}

func (p *polled) Polled(_ string, _ time.Duration, err error) { p.errs <- err }

// harness runs a Follower on a fake clock, one poll per step.
type harness struct {
	t      *testing.T
	clock  *clockwork.FakeClock
	ticks  chan time.Time
	polled *polled
	logs   *bridgetest.SyncBuffer
	out    *games
	f      *Follower
	stop   func()
}

func follow(t *testing.T, clock *clockwork.FakeClock, client *Client, out *games, opts ...Option) *harness {
	t.Helper()
	h := &harness{t: t, clock: clock, ticks: make(chan time.Time), polled: &polled{errs: make(chan error, 1)},
		logs: &bridgetest.SyncBuffer{}, out: out}
	set := telemetry.Settings{Clock: clock, Logger: slog.New(slog.NewTextHandler(h.logs, nil)), Observer: h.polled}
	h.f = NewFollower(client, set, append([]Option{WithTicks(h.ticks)}, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.f.Run(ctx, out) }()
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			if err := bridgetest.Recv(t, done, "Run to return", 10*time.Second); err != nil {
				t.Errorf("Run = %v", err)
			}
		})
	}
	t.Cleanup(h.stop)
	h.wait() // the poll at start
	return h
}

// wait returns the error of the next poll to finish.
func (h *harness) wait() error {
	h.t.Helper()
	return bridgetest.Recv(h.t, h.polled.errs, "a poll", 10*time.Second)
}

// step moves the clock by d and polls once; it fails the test on a poll
// error.
func (h *harness) step(d time.Duration) {
	h.t.Helper()
	if err := h.stepErr(d); err != nil {
		h.t.Fatalf("poll at %v: %v", h.clock.Since(t0), err)
	}
}

func (h *harness) stepErr(d time.Duration) error {
	h.t.Helper()
	h.clock.Advance(d)
	h.ticks <- h.clock.Now()
	return h.wait()
}

// lines returns the log lines holding msg.
func (h *harness) lines(msg string) []string {
	var out []string
	for line := range strings.SplitSeq(h.logs.String(), "\n") {
		if strings.Contains(line, msg) {
			out = append(out, line)
		}
	}
	return out
}

// allEvents is every event id of the capture's game, served to its end.
func allEvents(t *testing.T, path string) int {
	t.Helper()
	g, err := liveclient.DecodeAllGameData(bridgetest.ReadFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return len(g.Events.Events) + 1 // and the GameEnd the server adds
}

func ids(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestFollowerPlayerGame follows a whole game: every event delivered once,
// in order, eventdata asked with rising ids, one start and one end logged,
// and the follower idle, and quiet, once the API has gone.
func TestFollowerPlayerGame(t *testing.T) {
	srv, clock := newGame(t, lctest.Game{})
	out := &games{}
	h := follow(t, clock, newClient(t, srv), out)
	for range 35 {
		h.step(time.Minute)
	}
	begins, events, ends := out.snapshot()
	n := allEvents(t, rankedCapture)
	if len(begins) != 1 || !strings.HasSuffix(begins[0], " from 0") || ends != 1 {
		t.Errorf("begins %v, ends %d; want one game from 0, ended once", begins, ends)
	}
	if !slices.Equal(events, ids(0, n)) {
		t.Errorf("events delivered %v, want 0 to %d once each", events, n-1)
	}
	if last := out.names[len(out.names)-1]; last != liveclient.EventGameEnd {
		t.Errorf("last event %s, want GameEnd", last)
	}
	asked := srv.Stats().EventIDs
	for i := 1; i < len(asked); i++ {
		if asked[i] < asked[i-1] {
			t.Fatalf("eventIDs asked %v: they went back", asked)
		}
	}
	if len(h.lines(`msg="following a game"`)) != 1 || len(h.lines(`msg="followed game ended"`)) != 1 {
		t.Errorf("log:\n%s\nwant one start and one end", h.logs.String())
	}
	if h.f.active.Load() {
		t.Error("still following after the game")
	}
	// Idle: polls that find no game say nothing.
	before := h.logs.String()
	for range 5 {
		h.step(5 * time.Second)
	}
	if after := h.logs.String(); after != before {
		t.Errorf("idle polls logged:\n%s", strings.TrimPrefix(after, before))
	}
}

// TestFollowerSpectator: a spectator's client has no active player, and
// events only since the join, numbered from 0.
func TestFollowerSpectator(t *testing.T) {
	srv, clock := newGame(t, lctest.Game{Capture: bridgetest.ReadFile(t, spectatedCapture), Spectator: true})
	out := &games{}
	h := follow(t, clock, newClient(t, srv), out)
	for range 3 {
		h.step(time.Minute)
	}
	_, events, _ := out.snapshot()
	if len(events) == 0 || events[0] != 0 || out.names[0] != liveclient.EventGameStart {
		t.Errorf("events %v (%v), want a GameStart numbered 0 first", events, out.names)
	}
	if lines := h.lines(`msg="following a game"`); len(lines) != 1 || !strings.Contains(lines[0], "spectating=true") {
		t.Errorf("start logged as %q, want one line saying spectating", lines)
	}
}

// TestFollowerRestart: a follower stopped mid-game and another started on
// the same state file deliver every event once between them.
func TestFollowerRestart(t *testing.T) {
	srv, clock := newGame(t, lctest.Game{})
	store, err := state.OpenBolt(filepath.Join(t.TempDir(), "state.db"), telemetry.Settings{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	first := &games{}
	h := follow(t, clock, newClient(t, srv), first, WithCursors(store))
	for range 12 {
		h.step(time.Minute)
	}
	h.stop()
	_, before, ends := first.snapshot()
	if len(before) == 0 || ends != 1 {
		t.Fatalf("first run: %d events, %d ends", len(before), ends)
	}

	second := &games{}
	h = follow(t, clock, newClient(t, srv), second, WithCursors(store))
	for range 25 {
		h.step(time.Minute)
	}
	begins, after, _ := second.snapshot()
	if len(begins) != 1 || !strings.HasSuffix(begins[0], fmt.Sprintf(" from %d", len(before))) {
		t.Errorf("second run began %v, want from %d", begins, len(before))
	}
	if all := append(before, after...); !slices.Equal(all, ids(0, allEvents(t, rankedCapture))) {
		t.Errorf("events across the restart %v, want each once", all)
	}
}

// TestFollowerVanish: the client going away mid-game ends the emission,
// says so once, and leaves the follower idle.
func TestFollowerVanish(t *testing.T) {
	srv, clock := newGame(t, lctest.Game{})
	out := &games{}
	h := follow(t, clock, newClient(t, srv), out)
	h.step(5 * time.Minute)
	srv.Vanish()
	for range 4 {
		h.step(5 * time.Second)
	}
	if _, _, ends := out.snapshot(); ends != 1 {
		t.Errorf("%d ends, want 1", ends)
	}
	if lines := h.lines(`msg="stopped following a game"`); len(lines) != 1 || !strings.Contains(lines[0], "no longer serves it") {
		t.Errorf("log:\n%s\nwant one line that the client no longer serves the game", h.logs.String())
	}
	if h.f.active.Load() {
		t.Error("still following a game no longer served")
	}
}

// TestFollowerBadAnswer: a malformed answer fails one poll, warned once,
// and the next poll carries on without losing or repeating an event.
func TestFollowerBadAnswer(t *testing.T) {
	srv, clock := newGame(t, lctest.Game{})
	out := &games{}
	h := follow(t, clock, newClient(t, srv), out)
	h.step(3 * time.Minute)
	srv.Inject(lctest.Fault{Endpoint: "eventdata", Kind: lctest.Truncated, Count: 2})
	for range 2 {
		if err := h.stepErr(time.Minute); !errors.Is(err, liveclient.ErrMalformed) {
			t.Errorf("poll with a cut answer: %v, want ErrMalformed", err)
		}
	}
	for range 30 {
		h.step(time.Minute)
	}
	if _, events, _ := out.snapshot(); !slices.Equal(events, ids(0, allEvents(t, rankedCapture))) {
		t.Errorf("events %v, want each once", events)
	}
	if n := len(h.lines("level=WARN")); n != 1 {
		t.Errorf("%d warnings, want 1 for two failed polls:\n%s", n, h.logs.String())
	}
}

// TestFollowerFailedDelivery: a poll the pipeline could not deliver begins
// the game again from the last delivered event, with no state, so nothing
// is lost or sent twice.
func TestFollowerFailedDelivery(t *testing.T) {
	srv, clock := newGame(t, lctest.Game{})
	out := &games{fail: func(poll int) error {
		if poll == 4 {
			return errors.New("agent away")
		}
		return nil
	}}
	h := follow(t, clock, newClient(t, srv), out)
	for range 2 {
		h.step(time.Minute)
	}
	_, delivered, _ := out.snapshot()
	if err := h.stepErr(time.Minute); err == nil || !strings.Contains(err.Error(), "agent away") {
		t.Fatalf("failed delivery: %v", err)
	}
	for range 30 {
		h.step(time.Minute)
	}
	begins, events, _ := out.snapshot()
	if len(begins) != 2 || !strings.HasSuffix(begins[1], fmt.Sprintf(" from %d", len(delivered))) {
		t.Errorf("begins %v, want the game begun again from %d", begins, len(delivered))
	}
	if !slices.Equal(events, ids(0, allEvents(t, rankedCapture))) {
		t.Errorf("events %v, want each once", events)
	}
}

// TestFollowerIdle: with no client running, polls succeed quietly.
func TestFollowerIdle(t *testing.T) {
	c := NewClient(deadAddress(t), RiotRoots(), time.Second)
	defer c.CloseIdleConnections()
	out := &games{}
	h := follow(t, clockwork.NewFakeClockAt(t0), c, out)
	for range 10 {
		h.step(5 * time.Second)
	}
	if logs := h.logs.String(); logs != "" {
		t.Errorf("idle polls logged:\n%s", logs)
	}
	if got := h.f.next(); got != 5*time.Second {
		t.Errorf("idle interval %v, want 5s", got)
	}
}

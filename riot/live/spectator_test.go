package live

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/api"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/riot/riottest"
	"github.com/riftbridge/riftbridge/state"
)

// liveString renders a Live for comparison: "idle", "start A", "in A", "end A".
func liveString(l riot.Live, names map[string]string) string {
	switch {
	case l.Game == nil:
		return "idle"
	case l.Ended:
		return "end " + names[l.Game.MatchID()]
	case l.Started:
		return "start " + names[l.Game.MatchID()]
	}
	return "in " + names[l.Game.MatchID()]
}

// TestSpectatorTransitions polls one player through two games with a pause,
// then two back to back, on a server clock the test moves.
func TestSpectatorTransitions(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	srv := newServer(t, riottest.WithClock(clk), generous)
	puuid := srv.AddPlayer("Watched", "EUW", "euw1")
	m := time.Minute
	game := func(start, dur time.Duration) string {
		return srv.AddGame(riottest.GameSpec{Platform: "euw1", Players: []string{puuid}, Start: t0.Add(start), Duration: dur})
	}
	names := map[string]string{
		game(10*m, 20*m):                "A", // 10m–30m
		game(30*m+30*time.Second, 25*m): "B", // 30m30s–55m30s
		game(70*m, 10*m):                "C", // 70m–80m
		game(80*m+10*time.Second, 20*m): "D", // back to back with C
	}
	s := NewSpectator(api.NewClient(newTestDoer(t, srv, telemetry.Settings{})))
	p := riot.Player{RiotID: "Watched#EUW", Platform: "euw1", PUUID: puuid}

	steps := []struct {
		at   time.Duration
		want []string
	}{
		{0, []string{"idle"}},
		{10*m + 30*time.Second, []string{"start A"}},
		{15 * m, []string{"in A"}},
		{29 * m, []string{"in A"}},
		{30*m + 15*time.Second, []string{"end A"}},
		{31 * m, []string{"start B"}},
		{60 * m, []string{"end B"}},
		{61 * m, []string{"idle"}},
		{75 * m, []string{"start C"}},
		// C ended and D began between two polls.
		{81 * m, []string{"end C", "start D"}},
		{90 * m, []string{"in D"}},
	}
	for _, step := range steps {
		clk.Advance(t0.Add(step.at).Sub(clk.Now()))
		var got []string
		var ended *riot.ActiveGame
		err := s.Poll(context.Background(), p, func(_ context.Context, l riot.Live) error {
			if l.Player != p {
				t.Errorf("live for %+v, want %+v", l.Player, p)
			}
			if l.Ended {
				ended = l.Game
			}
			got = append(got, liveString(l, names))
			return nil
		})
		if err != nil {
			t.Fatalf("at %v: %v", step.at, err)
		}
		if !slices.Equal(got, step.want) {
			t.Errorf("at %v: %v, want %v", step.at, got, step.want)
		}
		// An ended game carries its match id, which Matches will fetch.
		if ended != nil && names[ended.MatchID()] == "" {
			t.Errorf("at %v: ended game %s is not one of ours", step.at, ended.MatchID())
		}
	}
	if st := srv.Stats(); st.Requests != len(steps) || st.WrongRoute != 0 {
		t.Errorf("%d requests, %d on the wrong route; want %d and 0", st.Requests, st.WrongRoute, len(steps))
	}
}

// TestSpectatorErrors checks that a failed poll is an error, leaves the
// player's state alone and emits nothing, and that emit errors come back.
func TestSpectatorErrors(t *testing.T) {
	srv := newServer(t, generous)
	puuid := srv.AddPlayer("Flaky", "NA1", "na1")
	id := srv.AddGame(riottest.GameSpec{Platform: "na1", Players: []string{puuid}, Start: time.Now().Add(-time.Minute)})
	s := NewSpectator(api.NewClient(newTestDoer(t, srv, telemetry.Settings{}, api.WithMaxRetries(1), api.WithBackoff(time.Millisecond, 0))))
	p := riot.Player{RiotID: "Flaky#NA1", Platform: "na1", PUUID: puuid}
	names := map[string]string{id: "A"}
	poll := func() ([]string, error) {
		var got []string
		err := s.Poll(context.Background(), p, func(_ context.Context, l riot.Live) error {
			got = append(got, liveString(l, names))
			return nil
		})
		return got, err
	}

	if got, err := poll(); err != nil || !slices.Equal(got, []string{"start A"}) {
		t.Fatalf("first poll: %v, %v; want [start A]", got, err)
	}
	srv.InjectStatus(503, 2) // outlasts one retry
	got, err := poll()
	var se *api.StatusError
	if !errors.As(err, &se) || se.Status != 503 || len(got) != 0 {
		t.Fatalf("failed poll: %v, %v; want a 503 *StatusError and nothing emitted", got, err)
	}
	if got, err := poll(); err != nil || !slices.Equal(got, []string{"in A"}) {
		t.Errorf("after the failure: %v, %v; want [in A], not a second start", got, err)
	}

	errSink := errors.New("sink down")
	err = s.Poll(context.Background(), p, func(context.Context, riot.Live) error { return errSink })
	if !errors.Is(err, errSink) {
		t.Errorf("emit error: got %v, want %v", err, errSink)
	}

	s.Forget(puuid)
	if got, err := poll(); err != nil || !slices.Equal(got, []string{"start A"}) {
		t.Errorf("after Forget: %v, %v; want [start A]", got, err)
	}
}

// TestSpectatorPlayers polls players on several platforms at once: each
// keeps its own state.
func TestSpectatorPlayers(t *testing.T) {
	srv := newServer(t, generous)
	s := NewSpectator(api.NewClient(newTestDoer(t, srv, telemetry.Settings{})))
	var players []riot.Player
	names := map[string]string{}
	for i, platform := range []string{"kr", "euw1", "oc1", "me1", "sg2", "na1"} {
		puuid := srv.AddPlayer(fmt.Sprintf("P%d", i), "T", platform)
		players = append(players, riot.Player{RiotID: fmt.Sprintf("P%d#T", i), Platform: platform, PUUID: puuid})
		if i%2 == 0 {
			names[srv.AddGame(riottest.GameSpec{Platform: platform, Players: []string{puuid}, Start: time.Now().Add(-time.Minute)})] = platform
		}
	}
	for round, want := range []string{"start", "in"} {
		errs := make(chan error, len(players))
		got := make([]string, len(players))
		for i, p := range players {
			go func() {
				errs <- s.Poll(context.Background(), p, func(_ context.Context, l riot.Live) error {
					got[i] = liveString(l, names)
					return nil
				})
			}()
		}
		for range players {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		for i, p := range players {
			w := "idle"
			if i%2 == 0 {
				w = want + " " + p.Platform
			}
			if got[i] != w {
				t.Errorf("round %d, %s: %s, want %s", round, p.Platform, got[i], w)
			}
		}
	}
	if st := srv.Stats(); st.WrongRoute != 0 || st.Unknown != 0 {
		t.Errorf("wrong route %d, unknown %d", st.WrongRoute, st.Unknown)
	}
}

// markerFixture is a Spectator with LiveMarkers in a bolt file, against
// riottest on a fake clock, and one player on kr.
type markerFixture struct {
	clk   *clockwork.FakeClock
	srv   *riottest.Server
	store *state.Bolt
	s     *Spectator
	p     riot.Player
}

func newMarkerFixture(t *testing.T) *markerFixture {
	clk := clockwork.NewFakeClockAt(t0)
	srv := newServer(t, riottest.WithClock(clk), generous)
	store := tempBolt(t, clk)
	puuid := srv.AddPlayer("Marked", "KR1", "kr")
	return &markerFixture{
		clk: clk, srv: srv, store: store,
		s: NewSpectator(api.NewClient(newTestDoer(t, srv, telemetry.Settings{})), WithMarkers(store)),
		p: riot.Player{RiotID: "Marked#KR1", Platform: "kr", PUUID: puuid},
	}
}

// game adds a game of the player on kr and returns its match and game ids.
func (f *markerFixture) game(t *testing.T, start, dur time.Duration) (string, int64) {
	t.Helper()
	id := f.srv.AddGame(riottest.GameSpec{Platform: "kr", Players: []string{f.p.PUUID}, Start: t0.Add(start), Duration: dur})
	_, num, _ := strings.Cut(id, "_")
	gameID, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		t.Fatalf("match id %q: %v", id, err)
	}
	return id, gameID
}

// poll polls the player once and returns what it emitted.
func (f *markerFixture) poll(t *testing.T) []riot.Live {
	t.Helper()
	var got []riot.Live
	if err := f.s.Poll(context.Background(), f.p, func(_ context.Context, l riot.Live) error {
		got = append(got, l)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// marker returns the player's stored live game, 0 when none.
func (f *markerFixture) marker(t *testing.T) int64 {
	t.Helper()
	gameID, ok, err := f.store.LiveGame(context.Background(), f.p.PUUID)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return 0
	}
	return gameID
}

// TestSpectatorMarkerEndedWhileAway: a marked game that ended while no process ran is reported ended on the first poll.
func TestSpectatorMarkerEndedWhileAway(t *testing.T) {
	f := newMarkerFixture(t)
	if err := f.store.SetLiveGame(context.Background(), f.p.PUUID, 7100000042); err != nil {
		t.Fatal(err)
	}
	got := f.poll(t)
	if len(got) != 1 || !got[0].Ended || got[0].Game == nil || got[0].Game.MatchID() != "KR_7100000042" {
		t.Fatalf("first poll emitted %+v, want the end of KR_7100000042", got)
	}
	if m := f.marker(t); m != 0 {
		t.Errorf("marker %d after the end, want none", m)
	}
	if got := f.poll(t); len(got) != 1 || got[0].Game != nil {
		t.Errorf("second poll emitted %+v, want idle", got)
	}
}

// TestSpectatorMarkerSameGame: a marked game still running is not reported started again.
func TestSpectatorMarkerSameGame(t *testing.T) {
	f := newMarkerFixture(t)
	_, gameID := f.game(t, -5*time.Minute, 30*time.Minute)
	if err := f.store.SetLiveGame(context.Background(), f.p.PUUID, gameID); err != nil {
		t.Fatal(err)
	}
	got := f.poll(t)
	if len(got) != 1 || got[0].Started || got[0].Ended || got[0].Game == nil || got[0].Game.GameID != gameID {
		t.Fatalf("first poll emitted %+v, want game %d running, not started", got, gameID)
	}
	if m := f.marker(t); m != gameID {
		t.Errorf("marker %d, want %d", m, gameID)
	}
}

// TestSpectatorMarkerFollowsGames: the marker is set when a game starts, replaced by the next and cleared at the end.
func TestSpectatorMarkerFollowsGames(t *testing.T) {
	f := newMarkerFixture(t)
	a, gameA := f.game(t, 10*time.Minute, 20*time.Minute)           // 10m–30m
	b, gameB := f.game(t, 30*time.Minute+10*time.Second, time.Hour) // back to back with A
	names := map[string]string{a: "A", b: "B"}
	steps := []struct {
		at     time.Duration
		want   []string
		marker int64
	}{
		{0, []string{"idle"}, 0},
		{15 * time.Minute, []string{"start A"}, gameA},
		{20 * time.Minute, []string{"in A"}, gameA},
		{35 * time.Minute, []string{"end A", "start B"}, gameB},
		{2 * time.Hour, []string{"end B"}, 0},
	}
	for _, step := range steps {
		f.clk.Advance(t0.Add(step.at).Sub(f.clk.Now()))
		var got []string
		for _, l := range f.poll(t) {
			got = append(got, liveString(l, names))
		}
		if !slices.Equal(got, step.want) {
			t.Errorf("at %v: %v, want %v", step.at, got, step.want)
		}
		if m := f.marker(t); m != step.marker {
			t.Errorf("at %v: marker %d, want %d", step.at, m, step.marker)
		}
	}
}

// TestSpectatorMarkerAfterForget: Forget makes the next poll read the marker again.
func TestSpectatorMarkerAfterForget(t *testing.T) {
	f := newMarkerFixture(t)
	id, _ := f.game(t, -5*time.Minute, 30*time.Minute)
	names := map[string]string{id: "A"}
	for i, want := range []string{"start A", "in A"} {
		if i > 0 {
			f.s.Forget(f.p.PUUID)
		}
		got := f.poll(t)
		if len(got) != 1 || liveString(got[0], names) != want {
			t.Errorf("poll %d: %+v, want %s", i, got, want)
		}
	}
}

// failingClear is the marker store with ClearLiveGame failing while fail
// is set.
type failingClear struct {
	LiveMarkers
	fail bool
}

func (f *failingClear) ClearLiveGame(ctx context.Context, puuid string) error {
	if f.fail {
		return errors.New("store down")
	}
	return f.LiveMarkers.ClearLiveGame(ctx, puuid)
}

// TestSpectatorMarkerRetried: a marker write that failed is made on the
// next poll, so no stale marker outlives the game.
func TestSpectatorMarkerRetried(t *testing.T) {
	f := newMarkerFixture(t)
	_, gameID := f.game(t, -5*time.Minute, 10*time.Minute)
	markers := &failingClear{LiveMarkers: f.store}
	WithMarkers(markers)(f.s)
	if got := f.poll(t); len(got) != 1 || !got[0].Started {
		t.Fatalf("first poll emitted %+v, want the start", got)
	}
	f.clk.Advance(10 * time.Minute) // the game is over
	markers.fail = true
	err := f.s.Poll(context.Background(), f.p, func(context.Context, riot.Live) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "Marked#KR1") {
		t.Fatalf("poll with the store down = %v, want an error naming the player", err)
	}
	if m := f.marker(t); m != gameID {
		t.Fatalf("marker %d while the store is down, want %d still", m, gameID)
	}
	markers.fail = false
	if got := f.poll(t); len(got) != 1 || got[0].Game != nil {
		t.Errorf("next poll emitted %+v, want idle", got)
	}
	if m := f.marker(t); m != 0 {
		t.Errorf("marker %d after the next poll, want none", m)
	}
}

package live

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/api"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/riot/riottest"
)

// matchesFixture is a Matches against riottest on a fake clock shared by the
// server (game times) and Matches (GiveUpAfter).
type matchesFixture struct {
	clk *clockwork.FakeClock
	srv *riottest.Server
	m   *Matches
}

func newMatchesFixture(t *testing.T) *matchesFixture {
	clk := clockwork.NewFakeClockAt(t0)
	srv := newServer(t, riottest.WithClock(clk), generous)
	client := api.NewClient(newTestDoer(t, srv, telemetry.Settings{}, api.WithMaxRetries(1), api.WithBackoff(time.Millisecond, 0)))
	return &matchesFixture{clk: clk, srv: srv, m: NewMatches(client, telemetry.Settings{Clock: clk}, WithGiveUpAfter(10*time.Minute), WithConcurrency(4))}
}

// TestMatchesSharedFetchedOnce has three tracked players end the same game:
// each queues it from the spectator and from its match list, and three
// fetch loops run at once, yet Riot is asked for it once.
func TestMatchesSharedFetchedOnce(t *testing.T) {
	f := newMatchesFixture(t)
	var players []riot.Player
	var puuids []string
	for _, name := range []string{"One", "Two", "Three"} {
		puuid := f.srv.AddPlayer(name, "KR1", "kr")
		puuids = append(puuids, puuid)
		players = append(players, riot.Player{RiotID: name + "#KR1", Platform: "kr", PUUID: puuid})
	}
	id := f.srv.AddGame(riottest.GameSpec{Platform: "kr", Players: puuids, Start: t0.Add(-40 * time.Minute), Duration: 30 * time.Minute})

	var wg sync.WaitGroup
	for _, p := range players {
		wg.Go(func() {
			f.m.Queue(id)
			if _, err := f.m.Sweep(context.Background(), p); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := f.m.Pending(); got != 1 {
		t.Fatalf("%d pending, want 1", got)
	}
	var out updates
	for range 3 {
		wg.Go(func() {
			if err := f.m.Fetch(context.Background(), out.emitter()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// Another sweep finds it again; it is settled and not fetched again.
	if f.m.Queue(id) {
		t.Error("a settled match was queued again")
	}
	if err := f.m.Fetch(context.Background(), out.emitter()); err != nil {
		t.Fatal(err)
	}

	st := f.srv.Stats()
	if st.MatchFetches[id] != 1 || st.TimelineFetches[id] != 1 {
		t.Errorf("match fetched %d times, timeline %d; want 1 each", st.MatchFetches[id], st.TimelineFetches[id])
	}
	if got := out.frames()[id]; !slices.Equal(got, allFrames(30)) {
		t.Errorf("frames emitted %v, want 0 to 29 once, in order", got)
	}
	for _, up := range out.got {
		if up.Recording != out.got[0].Recording || up.Live != nil || up.Recording.Timeline.Metadata.MatchID != id {
			t.Fatalf("update %+v: want frames of one recording of %s", up, id)
		}
	}
	if f.m.Pending() != 0 {
		t.Errorf("%d pending after the fetch, want 0", f.m.Pending())
	}
}

// TestMatchesProcessing follows a match Riot takes 5 minutes to process:
// 404s keep it queued without an error, then it is emitted.
func TestMatchesProcessing(t *testing.T) {
	f := newMatchesFixture(t)
	puuid := f.srv.AddPlayer("Patient", "EUW", "euw1")
	id := f.srv.AddGame(riottest.GameSpec{Platform: "euw1", Players: []string{puuid}, Start: t0.Add(-30 * time.Minute), Duration: 30 * time.Minute, ProcessingDelay: 5 * time.Minute})
	f.m.Queue(id)
	var out updates
	for minute := range 5 {
		if err := f.m.Fetch(context.Background(), out.emitter()); err != nil {
			t.Fatalf("minute %d: %v", minute, err)
		}
		if len(out.got) != 0 || f.m.Pending() != 1 {
			t.Fatalf("minute %d: %d updates, %d pending; want 0 and 1", minute, len(out.got), f.m.Pending())
		}
		f.clk.Advance(time.Minute)
	}
	if err := f.m.Fetch(context.Background(), out.emitter()); err != nil {
		t.Fatal(err)
	}
	if got := out.frames()[id]; !slices.Equal(got, allFrames(30)) {
		t.Errorf("frames %v, want 0 to 29", got)
	}
	st := f.srv.Stats()
	if n := st.ByEndpoint[riottest.RouteEndpoint{Route: "europe", Endpoint: riottest.EndpointMatch}]; n != 6 {
		t.Errorf("%d match requests, want 6 (5 answered 404)", n)
	}
	if n := st.ByEndpoint[riottest.RouteEndpoint{Route: "europe", Endpoint: riottest.EndpointTimeline}]; n != 1 {
		t.Errorf("%d timeline requests, want 1: none before the match is there", n)
	}
}

// TestMatchesTimelineLater: Riot serves the match before the timeline; a
// retry asks for the timeline alone, not the match again.
func TestMatchesTimelineLater(t *testing.T) {
	f := newMatchesFixture(t)
	puuid := f.srv.AddPlayer("Patient", "EUW", "euw1")
	id := f.srv.AddGame(riottest.GameSpec{Platform: "euw1", Players: []string{puuid}, Start: t0.Add(-30 * time.Minute), Duration: 30 * time.Minute})
	f.srv.Inject(riottest.Fault{Endpoint: riottest.EndpointTimeline, Status: http.StatusNotFound, Count: 2})
	f.m.Queue(id)
	var out updates
	for range 3 {
		if err := f.m.Fetch(context.Background(), out.emitter()); err != nil {
			t.Fatal(err)
		}
	}
	if got := out.frames()[id]; !slices.Equal(got, allFrames(30)) {
		t.Errorf("frames %v, want 0 to 29", got)
	}
	st := f.srv.Stats()
	match := st.ByEndpoint[riottest.RouteEndpoint{Route: "europe", Endpoint: riottest.EndpointMatch}]
	timeline := st.ByEndpoint[riottest.RouteEndpoint{Route: "europe", Endpoint: riottest.EndpointTimeline}]
	if match != 1 || timeline != 3 {
		t.Errorf("%d match and %d timeline requests, want 1 and 3", match, timeline)
	}
}

// TestMatchesGiveUp abandons a match Riot never processes once GiveUpAfter
// has passed, and does not fetch it again when a sweep finds it.
func TestMatchesGiveUp(t *testing.T) {
	f := newMatchesFixture(t)
	puuid := f.srv.AddPlayer("Forgotten", "NA1", "na1")
	id := f.srv.AddGame(riottest.GameSpec{Platform: "na1", Players: []string{puuid}, Start: t0.Add(-30 * time.Minute), Duration: 30 * time.Minute, ProcessingDelay: 24 * time.Hour})
	f.m.Queue(id)
	var out updates
	fetch := func() {
		t.Helper()
		if err := f.m.Fetch(context.Background(), out.emitter()); err != nil {
			t.Fatal(err)
		}
	}
	fetch()
	f.clk.Advance(10 * time.Minute) // not past GiveUpAfter yet
	fetch()
	if f.m.Pending() != 1 {
		t.Fatalf("%d pending at GiveUpAfter, want 1", f.m.Pending())
	}
	f.clk.Advance(time.Second)
	fetch()
	if f.m.Pending() != 0 {
		t.Fatalf("%d pending past GiveUpAfter, want 0", f.m.Pending())
	}
	requests := f.srv.Stats().Requests
	f.clk.Advance(24 * time.Hour) // processed at last: too late
	if f.m.Queue(id) {
		t.Error("an abandoned match was queued again")
	}
	fetch()
	if got := f.srv.Stats().Requests; got != requests || len(out.got) != 0 {
		t.Errorf("%d more requests, %d updates for an abandoned match; want none", got-requests, len(out.got))
	}
}

// TestMatchesErrorsStayQueued checks that failures other than 404 keep a
// match queued, even past GiveUpAfter, and that an emit error does too.
func TestMatchesErrorsStayQueued(t *testing.T) {
	f := newMatchesFixture(t)
	puuid := f.srv.AddPlayer("Unlucky", "KR1", "kr")
	id := f.srv.AddGame(riottest.GameSpec{Platform: "kr", Players: []string{puuid}, Start: t0.Add(-30 * time.Minute), Duration: 30 * time.Minute})
	f.m.Queue(id)

	f.srv.Inject(riottest.Fault{Endpoint: riottest.EndpointTimeline, Status: 500, Count: 2}) // outlasts one retry
	f.clk.Advance(time.Hour)                                                                 // past GiveUpAfter
	var out updates
	err := f.m.Fetch(context.Background(), out.emitter())
	var se *api.StatusError
	if !errors.As(err, &se) || se.Status != 500 || !strings.Contains(err.Error(), id) {
		t.Fatalf("err = %v, want a 500 *StatusError naming %s", err, id)
	}
	if f.m.Pending() != 1 || len(out.got) != 0 {
		t.Fatalf("%d pending, %d updates; want 1 and 0", f.m.Pending(), len(out.got))
	}

	errSink := errors.New("sink down")
	var tries []int
	err = f.m.Fetch(context.Background(), emitFunc(func(_ context.Context, up update) error {
		tries = append(tries, up.Frame)
		if up.Frame == 3 {
			return errSink
		}
		return nil
	}))
	if !errors.Is(err, errSink) || !slices.Equal(tries, []int{0, 1, 2, 3}) {
		t.Fatalf("err = %v after frames %v; want %v at frame 3", err, tries, errSink)
	}
	if f.m.Pending() != 1 {
		t.Fatalf("%d pending after an emit error, want 1", f.m.Pending())
	}
	if err := f.m.Fetch(context.Background(), out.emitter()); err != nil {
		t.Fatal(err)
	}
	if got := out.frames()[id]; !slices.Equal(got, allFrames(30)) {
		t.Errorf("frames %v on the retry, want 0 to 29", got)
	}
	if f.m.Pending() != 0 {
		t.Errorf("%d pending, want 0", f.m.Pending())
	}
}

// TestMatchesOrder fetches several matches one at a time: oldest first, and
// each match's frames together and in order.
func TestMatchesOrder(t *testing.T) {
	f := newMatchesFixture(t)
	WithConcurrency(1)(f.m)
	puuid := f.srv.AddPlayer("Grinder", "KR1", "kr")
	var ids []string
	for i := range 3 {
		start := t0.Add(-time.Duration(3-i) * time.Hour)
		ids = append(ids, f.srv.AddGame(riottest.GameSpec{Platform: "kr", Players: []string{puuid}, Start: start, Duration: 30 * time.Minute}))
	}
	p := riot.Player{RiotID: "Grinder#KR1", Platform: "kr", PUUID: puuid}
	if queued, err := f.m.Sweep(context.Background(), p); err != nil || !queued {
		t.Fatalf("sweep: queued %v, %v", queued, err)
	}
	if queued, err := f.m.Sweep(context.Background(), p); err != nil || queued {
		t.Errorf("second sweep: queued %v, %v; want nothing new", queued, err)
	}
	var out updates
	if err := f.m.Fetch(context.Background(), out.emitter()); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, up := range out.got {
		id := up.Recording.Match.Metadata.MatchID
		if len(order) == 0 || order[len(order)-1] != id {
			order = append(order, id)
		}
	}
	if !slices.Equal(order, ids) {
		t.Errorf("matches emitted in order %v, want %v", order, ids)
	}
	for _, id := range ids {
		if got := out.frames()[id]; !slices.Equal(got, allFrames(30)) {
			t.Errorf("%s: frames %v", id, got)
		}
	}
}

// TestMatchesSweepSince lists only games that started after Since.
func TestMatchesSweepSince(t *testing.T) {
	f := newMatchesFixture(t)
	WithSince(t0.Add(-2 * time.Hour))(f.m)
	puuid := f.srv.AddPlayer("Old", "KR1", "kr")
	f.srv.AddGame(riottest.GameSpec{Platform: "kr", Players: []string{puuid}, Start: t0.Add(-3 * time.Hour), Duration: 30 * time.Minute})
	recent := f.srv.AddGame(riottest.GameSpec{Platform: "kr", Players: []string{puuid}, Start: t0.Add(-time.Hour), Duration: 30 * time.Minute})
	if _, err := f.m.Sweep(context.Background(), riot.Player{RiotID: "Old#KR1", Platform: "kr", PUUID: puuid}); err != nil {
		t.Fatal(err)
	}
	if f.m.Pending() != 1 {
		t.Errorf("%d pending, want 1: only %s", f.m.Pending(), recent)
	}
}

// abortedServer serves aborted documents, which riottest cannot make, from
// a plain server: KR_1 is an aborted match, EUW1_2 a match whose timeline is
// aborted. hits counts requests by path.
func abortedServer(t *testing.T) (c *api.Client, hits func() map[string]int) {
	abortedMatch := bridgetest.ReadFile(t, "../testdata/aborted_match/match.json")
	abortedTimeline := bridgetest.ReadFile(t, "../testdata/aborted/timeline.json")
	// Served as EUW1_2, so under that id.
	match := bytes.ReplaceAll(bridgetest.ReadFile(t, sampleMatch), []byte(`"matchId":"KR_7014499581"`), []byte(`"matchId":"EUW1_2"`))
	var mu sync.Mutex
	counts := map[string]int{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		counts[r.URL.Path]++
		mu.Unlock()
		switch r.URL.Path {
		case "/asia/lol/match/v5/matches/KR_1":
			w.Write(abortedMatch)
		case "/europe/lol/match/v5/matches/EUW1_2":
			w.Write(match)
		case "/europe/lol/match/v5/matches/EUW1_2/timeline":
			w.Write(abortedTimeline)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	return plainClient(t, ts), func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(counts)
	}
}

// TestMatchesAborted: an aborted match is skipped without asking for its
// timeline, an aborted timeline is skipped, and neither is tried again.
func TestMatchesAborted(t *testing.T) {
	client, hits := abortedServer(t)
	m := NewMatches(client, telemetry.Settings{})
	m.Queue("KR_1", "EUW1_2")
	var out updates
	for range 2 {
		if err := m.Fetch(context.Background(), out.emitter()); err != nil {
			t.Fatal(err)
		}
	}
	if len(out.got) != 0 || m.Pending() != 0 {
		t.Errorf("%d updates, %d pending; want none", len(out.got), m.Pending())
	}
	want := map[string]int{
		"/asia/lol/match/v5/matches/KR_1":              1,
		"/europe/lol/match/v5/matches/EUW1_2":          1,
		"/europe/lol/match/v5/matches/EUW1_2/timeline": 1,
	}
	if got := hits(); !maps.Equal(got, want) {
		t.Errorf("requests %v, want %v", got, want)
	}
}

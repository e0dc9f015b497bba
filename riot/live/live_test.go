package live

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
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

// pollCounts is a PollObserver that counts polls and skips by source and
// lets a test wait for a count.
type pollCounts struct {
	telemetry.Nop
	mu      sync.Mutex
	polled  map[string]int
	ok      map[string]int // polls that returned no error
	skipped map[string]int
	changed chan struct{}
}

func newPollCounts() *pollCounts {
	return &pollCounts{polled: map[string]int{}, ok: map[string]int{}, skipped: map[string]int{}, changed: make(chan struct{}, 1)}
}

func (c *pollCounts) Polled(source string, _ time.Duration, err error) {
	if err == nil {
		c.mu.Lock()
		c.ok[source]++
		c.mu.Unlock()
	}
	c.add(c.polled, source)
}

func (c *pollCounts) Skipped(source string) { c.add(c.skipped, source) }

func (c *pollCounts) add(m map[string]int, source string) {
	c.mu.Lock()
	m[source]++
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// ticks is how many ticks of source were handled: polled or skipped.
func (c *pollCounts) ticks(source string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.polled[source] + c.skipped[source]
}

// waitTicks waits until source handled at least n ticks.
func (c *pollCounts) waitTicks(tb testing.TB, source string, n int) {
	tb.Helper()
	c.wait(tb, source, "ticks", n, c.ticks)
}

// waitOK waits until source had at least n polls without an error. A
// removed player's loop may still poll once with its context cancelled;
// that poll fails and is not counted.
func (c *pollCounts) waitOK(tb testing.TB, source string, n int) {
	tb.Helper()
	c.wait(tb, source, "polls without error", n, func(source string) int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.ok[source]
	})
}

func (c *pollCounts) wait(tb testing.TB, source, what string, n int, count func(string) int) {
	tb.Helper()
	deadline := time.After(5 * time.Second)
	for count(source) < n {
		select {
		case <-c.changed:
		case <-deadline:
			tb.Fatalf("%s: %d %s, want %d", source, count(source), what, n)
		}
	}
}

// liveFixture runs Pollers against riottest. The server and the loops share
// a fake clock; the Doer paces on real time, under generous limits.
type liveFixture struct {
	clk   *clockwork.FakeClock
	srv   *riottest.Server
	p     *Pollers
	polls *pollCounts

	mu   sync.Mutex
	live []riot.Live
	out  updates
	done chan error
}

func newLiveFixture(t *testing.T, iv Intervals) *liveFixture {
	clk := clockwork.NewFakeClockAt(t0)
	srv := newServer(t, riottest.WithClock(clk), generous)
	client := api.NewClient(newTestDoer(t, srv, telemetry.Settings{}))
	f := &liveFixture{clk: clk, srv: srv, polls: newPollCounts()}
	f.p = NewPollers(client, NewSpectator(client),
		NewMatches(client, telemetry.Settings{Clock: clk}, WithSince(t0.Add(-time.Hour)), WithGiveUpAfter(time.Hour), WithConcurrency(2)),
		func() Intervals { return iv },
		telemetry.Settings{Clock: clk, Observer: f.polls}, WithPollTimeout(5*time.Second))
	return f
}

func (f *liveFixture) emit(ctx context.Context, u update) error {
	if u.Live != nil {
		f.mu.Lock()
		f.live = append(f.live, *u.Live)
		f.mu.Unlock()
		return nil
	}
	return f.out.emit(ctx, u)
}

// run starts Run; it is stopped, and checked to return nil, with the test.
func (f *liveFixture) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f.done = make(chan error, 1)
	go func() { f.done <- f.p.Run(ctx, emitFunc(f.emit)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-f.done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// spectatorRequests counts spectator-v5 requests on platform.
func (f *liveFixture) spectatorRequests(platform string) int {
	return f.srv.Stats().ByEndpoint[riottest.RouteEndpoint{Route: platform, Endpoint: riottest.EndpointSpectator}]
}

// settle waits until no player poll runs and both the schedule and the
// fetch loop wait on the clock, so that an Advance fires what falls due and
// no tick is lost.
func (f *liveFixture) settle(t *testing.T) {
	t.Helper()
	bridgetest.Eventually(t, "the schedule to settle", 5*time.Second, f.p.settled)
	if err := blockUntil(f.clk, 2); err != nil {
		t.Fatal(err)
	}
}

func waitResolved(t *testing.T, p *Pollers, want int) {
	t.Helper()
	bridgetest.Eventually(t, fmt.Sprintf("%d players resolved", want), 5*time.Second, func() bool {
		got, _ := p.Resolved()
		return got == want
	})
}

// TestPollersSetPlayers adds and removes players while Run runs: a removed
// player's loops stop (no more requests for it), a new player's start.
func TestPollersSetPlayers(t *testing.T) {
	f := newLiveFixture(t, Intervals{Spectator: time.Minute, Matches: time.Hour, Fetch: time.Hour})
	specs := map[string]PlayerSpec{}
	for _, platform := range []string{"kr", "euw1", "na1"} {
		f.srv.AddPlayer("P "+platform, "T", platform)
		specs[platform] = PlayerSpec{RiotID: "P " + platform + "#T", Platform: platform}
	}
	f.p.SetPlayers([]PlayerSpec{specs["kr"], specs["euw1"]})
	if got, total := f.p.Resolved(); got != 0 || total != 2 {
		t.Errorf("before Run: resolved %d of %d, want 0 of 2", got, total)
	}
	f.run(t)
	waitResolved(t, f.p, 2)
	f.p.SetPlayers([]PlayerSpec{specs["kr"], specs["euw1"], specs["na1"]})
	waitResolved(t, f.p, 3)
	f.polls.waitOK(t, "spectator", 3)
	f.polls.waitOK(t, "matches", 3)
	f.settle(t)
	f.p.SetPlayers([]PlayerSpec{specs["euw1"], specs["na1"]})
	if got, total := f.p.Resolved(); got != 2 || total != 2 {
		t.Errorf("after removing kr: resolved %d of %d, want 2 of 2", got, total)
	}

	for minute := 1; minute <= 5; minute++ {
		f.clk.Advance(time.Minute)
		f.polls.waitOK(t, "spectator", 3+2*minute)
	}
	want := map[string]int{"kr": 1, "euw1": 6, "na1": 6}
	for platform, n := range want {
		if got := f.spectatorRequests(platform); got != n {
			t.Errorf("%s: %d spectator requests, want %d", platform, got, n)
		}
	}
	st := f.srv.Stats()
	for route, n := range map[string]int{"asia": 2, "europe": 2, "americas": 2} { // account + match list
		if got := st.Routes[route].Accepted; got != n {
			t.Errorf("%s: %d requests, want %d", route, got, n)
		}
	}

	// Removing everyone stops every player loop; only the fetch loop remains.
	f.p.SetPlayers(nil)
	if got, total := f.p.Resolved(); got != 0 || total != 0 {
		t.Errorf("no players: resolved %d of %d", got, total)
	}
	before := f.srv.Stats().Requests
	fetches := f.polls.ticks("matches.fetch")
	for range 3 {
		f.clk.Advance(time.Hour)
		fetches++
		f.polls.waitTicks(t, "matches.fetch", fetches)
	}
	if got := f.srv.Stats().Requests; got != before {
		t.Errorf("%d requests after every player was removed, want 0", got-before)
	}
}

// TestPollersSetPlayersRace changes the players from several goroutines at
// once, also while Run starts: once the calls return, the player loops
// running must be those of the players last set.
func TestPollersSetPlayersRace(t *testing.T) {
	f := newLiveFixture(t, Intervals{Spectator: time.Hour, Matches: time.Hour, Fetch: time.Hour})
	var sets [][]PlayerSpec
	for i := range 8 {
		sets = append(sets, []PlayerSpec{{RiotID: fmt.Sprintf("Racer%d#T", i), Platform: "kr"}})
	}
	check := func(round int) {
		t.Helper()
		f.p.mu.Lock()
		defer f.p.mu.Unlock()
		if !slices.Equal(slices.Collect(maps.Keys(f.p.players)), f.p.wanted) {
			t.Fatalf("round %d: loops run for %v, players set %v", round, slices.Collect(maps.Keys(f.p.players)), f.p.wanted)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		f.p.SetPlayers(sets[0])
		done <- f.p.Run(ctx, emitFunc(f.emit))
	}()
	f.p.SetPlayers(sets[1]) // races with Run's start
	for round := range 200 {
		var wg sync.WaitGroup
		for _, set := range sets {
			wg.Go(func() { f.p.SetPlayers(set) })
		}
		wg.Wait()
		f.p.mu.Lock()
		running := f.p.run != nil
		f.p.mu.Unlock()
		if running {
			check(round)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestPollersResolveRetry keeps retrying a Riot ID that does not resolve,
// once per spectator interval, while the other player is polled.
func TestPollersResolveRetry(t *testing.T) {
	f := newLiveFixture(t, Intervals{Spectator: time.Minute, Matches: time.Hour, Fetch: time.Hour})
	f.srv.AddPlayer("Known", "KR1", "kr")
	f.p.SetPlayers([]PlayerSpec{{RiotID: "Known#KR1", Platform: "kr"}, {RiotID: "Typo#KR1", Platform: "kr"}})
	f.run(t)
	accounts := func() int {
		return f.srv.Stats().ByEndpoint[riottest.RouteEndpoint{Route: "asia", Endpoint: riottest.EndpointAccount}]
	}
	for minute := 0; minute <= 3; minute++ {
		if minute > 0 {
			f.clk.Advance(time.Minute)
		}
		bridgetest.Eventually(t, fmt.Sprintf("minute %d", minute), 5*time.Second, func() bool { return accounts() >= 2+minute })
		f.polls.waitOK(t, "spectator", 1+minute)
		// Known's two loops and Typo's next try, on the schedule.
		f.settle(t)
	}
	if got := accounts(); got != 5 {
		t.Errorf("%d account requests, want 5: one for Known, four tries for Typo", got)
	}
	if got, total := f.p.Resolved(); got != 1 || total != 2 {
		t.Errorf("resolved %d of %d, want 1 of 2", got, total)
	}
	if got := f.spectatorRequests("kr"); got != 4 {
		t.Errorf("%d spectator requests for Known, want 4", got)
	}
}

// TestPollersKeyRejected ends Run with ErrKeyRejected, whether the key is
// rejected while resolving players or later while polling.
func TestPollersKeyRejected(t *testing.T) {
	for _, when := range []string{"at start", "while polling"} {
		t.Run(when, func(t *testing.T) {
			f := newLiveFixture(t, Intervals{Spectator: time.Minute, Matches: time.Hour, Fetch: time.Hour})
			f.srv.AddPlayer("Keyed", "KR1", "kr")
			f.p.SetPlayers([]PlayerSpec{{RiotID: "Keyed#KR1", Platform: "kr"}})
			if when == "at start" {
				f.srv.ExpireKey()
			}
			done := make(chan error, 1)
			go func() { done <- f.p.Run(context.Background(), emitFunc(f.emit)) }()
			if when == "while polling" {
				f.polls.waitTicks(t, "spectator", 1)
				f.polls.waitTicks(t, "matches", 1)
				f.srv.ExpireKey()
				f.clk.Advance(time.Minute)
			}
			err := bridgetest.Recv(t, done, "return from Run", 5*time.Second)
			if !errors.Is(err, api.ErrKeyRejected) {
				t.Errorf("Run = %v, want ErrKeyRejected", err)
			}
			if st := f.srv.Stats(); st.AuthFailures != 1 {
				t.Errorf("%d requests with the rejected key, want 1", st.AuthFailures)
			}
		})
	}
}

// TestPollersGame follows a player's game from the spectator to the match:
// start, end, 404 while Riot processes it, then its frames, fetched once.
func TestPollersGame(t *testing.T) {
	f := newLiveFixture(t, Intervals{Spectator: time.Minute, Matches: 30 * time.Minute, Fetch: time.Minute})
	puuid := f.srv.AddPlayer("Gamer", "EUW", "euw1")
	// Ends at t0+4m30s; processed at t0+6m.
	id := f.srv.AddGame(riottest.GameSpec{Platform: "euw1", Players: []string{puuid}, Start: t0.Add(-25 * time.Minute), Duration: 29*time.Minute + 30*time.Second, ProcessingDelay: 90 * time.Second})
	f.p.SetPlayers([]PlayerSpec{{RiotID: "Gamer#EUW", Platform: "euw1"}})
	f.run(t)
	f.polls.waitTicks(t, "spectator", 1)
	f.polls.waitTicks(t, "matches.fetch", 1)
	f.settle(t)
	for minute := 1; minute <= 6; minute++ {
		f.clk.Advance(time.Minute)
		f.polls.waitTicks(t, "spectator", 1+minute)
		// A tick a minute, and at minute 5 the game's end triggers one
		// more; each ends as a poll or, while one runs, a skip.
		fetches := 1 + minute
		if minute >= 5 {
			fetches++
		}
		f.polls.waitTicks(t, "matches.fetch", fetches)
		if minute == 5 && f.p.matches.Pending() != 1 {
			t.Errorf("minute 5: %d matches pending, want the game Riot is processing", f.p.matches.Pending())
		}
	}
	if got := f.out.frames()[id]; !slices.Equal(got, allFrames(30)) {
		t.Fatalf("frames %v, want 0 to 29", got)
	}
	f.mu.Lock()
	var seen []string
	for _, l := range f.live {
		seen = append(seen, liveString(l, map[string]string{id: "A"}))
	}
	f.mu.Unlock()
	want := []string{"start A", "in A", "in A", "in A", "in A", "end A", "idle"}
	if !slices.Equal(seen, want) {
		t.Errorf("spectator saw %v, want %v", seen, want)
	}
	st := f.srv.Stats()
	if st.MatchFetches[id] != 1 || st.TimelineFetches[id] != 1 {
		t.Errorf("match fetched %d times, timeline %d; want 1 each", st.MatchFetches[id], st.TimelineFetches[id])
	}
	if st.WrongRoute != 0 || st.Unknown != 0 {
		t.Errorf("wrong route %d, unknown %d", st.WrongRoute, st.Unknown)
	}
}

// idleSaturation runs n idle players polled far faster than a tight limit
// allows, in real time, and returns the server's stats.
func idleSaturation(tb testing.TB, n int, dur time.Duration) riottest.Stats {
	tb.Helper()
	srv := newServer(tb, riottest.WithAppLimits(riottest.Limit{Count: 10, Seconds: 1}, riottest.Limit{Count: 30, Seconds: 3}))
	client := api.NewClient(newTestDoer(tb, srv, telemetry.Settings{}))
	p := NewPollers(client, NewSpectator(client),
		NewMatches(client, telemetry.Settings{}, WithSince(time.Now()), WithConcurrency(2)),
		func() Intervals {
			return Intervals{Spectator: 10 * time.Millisecond, Matches: time.Hour, Fetch: time.Hour}
		},
		telemetry.Settings{}, WithJitter(0.05), WithPollTimeout(10*time.Second))
	var specs []PlayerSpec
	for i := range n {
		name := fmt.Sprintf("Idle%02d", i)
		srv.AddPlayer(name, "KR1", "kr")
		specs = append(specs, PlayerSpec{RiotID: name + "#KR1", Platform: "kr"})
	}
	p.SetPlayers(specs)
	ctx, cancel := context.WithCancel(context.Background())
	stop := time.AfterFunc(dur, cancel)
	defer stop.Stop()
	if err := p.Run(ctx, emitFunc(func(context.Context, update) error { return nil })); err != nil {
		tb.Fatal(err)
	}
	return srv.Stats()
}

// TestPollersIdleSaturation is the acceptance test of the live source under
// load: 40 idle players want about 4000 spectator calls a second from a key
// allowing 10, and riottest must serve at least 85 % of what the limit
// allows on kr without one application or method 429.
func TestPollersIdleSaturation(t *testing.T) {
	st := idleSaturation(t, 40, 3500*time.Millisecond)
	accepted, allowed := st.Routes["kr"].Accepted, st.Allowed("kr")
	share := float64(accepted) / float64(max(allowed, 1))
	t.Logf("kr accepted %d of %d allowed (%.3f); asia %d; 429s %v", accepted, allowed, share, st.Routes["asia"].Accepted, st.RateLimited)
	if n := st.RateLimited[riottest.LimitApplication] + st.RateLimited[riottest.LimitMethod]; n != 0 {
		t.Errorf("%d application/method 429s, want none", n)
	}
	if ex := st.Exceeded(); len(ex) != 0 {
		t.Errorf("windows over their limit: %+v", ex)
	}
	if share < 0.85 {
		t.Errorf("kr served %.3f of its limit (%d of %d), want >= 0.85", share, accepted, allowed)
	}
}

// TestPollersMarkerQueuesMatch: a game that ended while no process ran is ended from its marker and fetched.
func TestPollersMarkerQueuesMatch(t *testing.T) {
	f := newLiveFixture(t, Intervals{Spectator: time.Minute, Matches: time.Hour, Fetch: time.Hour})
	store := tempBolt(t, f.clk)
	WithMarkers(store)(f.p.spectator)
	WithSince(t0)(f.p.matches) // the sweep lists nothing
	puuid := f.srv.AddPlayer("Away", "KR1", "kr")
	id := f.srv.AddGame(riottest.GameSpec{Platform: "kr", Players: []string{puuid}, Start: t0.Add(-90 * time.Minute), Duration: 30 * time.Minute})
	gameID, err := strconv.ParseInt(strings.TrimPrefix(id, "KR_"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetLiveGame(context.Background(), puuid, gameID); err != nil {
		t.Fatal(err)
	}
	f.p.SetPlayers([]PlayerSpec{{RiotID: "Away#KR1", Platform: "kr"}})
	f.run(t)
	bridgetest.Eventually(t, "the match's frames", 5*time.Second, func() bool { return len(f.out.frames()[id]) == 30 })
	if got := f.out.frames()[id]; !slices.Equal(got, allFrames(30)) {
		t.Errorf("frames %v, want 0 to 29", got)
	}
	f.mu.Lock()
	first := f.live[0]
	f.mu.Unlock()
	if !first.Ended || first.Game.MatchID() != id {
		t.Errorf("first observation %+v, want the end of %s", first, id)
	}
	if _, ok, err := store.LiveGame(context.Background(), puuid); ok || err != nil {
		t.Errorf("marker still set (%v, %v) after the end", ok, err)
	}
}

// TestPollersPUUIDCache: stored PUUIDs: used while fresh, refreshed when stale, kept if Riot fails, dropped on 404.
func TestPollersPUUIDCache(t *testing.T) {
	const refresh = 24 * time.Hour
	for _, tc := range []struct {
		name     string
		riotID   string        // Cached#KR1 exists on riottest, Gone#KR1 does not
		age      time.Duration // of the stored PUUID
		fault    int           // status of the account endpoint's next two answers
		accounts int           // account-v1 requests wanted
		use      string        // PUUID wanted polled: "stored", "current" (Riot's), "" (unresolved)
		stored   string        // PUUID wanted in the store afterwards
		at       time.Time     // and when it was resolved
	}{
		{"fresh", "Cached#KR1", time.Hour, 0, 0, "stored", "stored", t0.Add(-time.Hour)},
		{"stale", "Cached#KR1", 2 * refresh, 0, 1, "current", "current", t0},
		{"stale and riot failing", "Cached#KR1", 2 * refresh, http.StatusInternalServerError, 2, "stored", "stored", t0.Add(-2 * refresh)},
		{"stale and riot id gone", "Gone#KR1", 2 * refresh, 0, 1, "", "stored", t0.Add(-2 * refresh)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newLiveFixture(t, Intervals{Spectator: time.Minute, Matches: time.Hour, Fetch: time.Hour})
			client := api.NewClient(newTestDoer(t, f.srv, telemetry.Settings{}, api.WithMaxRetries(1), api.WithBackoff(time.Millisecond, 0)))
			f.p.client, f.p.spectator.client, f.p.matches.client = client, client, client
			store := tempBolt(t, f.clk)
			WithPUUIDCache(store, refresh)(f.p)
			puuids := map[string]string{
				"current": f.srv.AddPlayer("Cached", "KR1", "kr"),
				"stored":  f.srv.AddPlayer("Previous", "KR1", "kr"), // valid, but no longer this Riot ID's
			}
			if err := store.SetPUUID(ctx, "kr", tc.riotID, puuids["stored"], t0.Add(-tc.age)); err != nil {
				t.Fatal(err)
			}
			if tc.fault != 0 {
				f.srv.Inject(riottest.Fault{Endpoint: riottest.EndpointAccount, Status: tc.fault, Count: 2}) // outlasts one retry
			}
			f.p.SetPlayers([]PlayerSpec{{RiotID: tc.riotID, Platform: "kr"}})
			f.run(t)
			accounts := func() int {
				n := 0
				for re, c := range f.srv.Stats().ByEndpoint {
					if re.Endpoint == riottest.EndpointAccount {
						n += c
					}
				}
				return n
			}

			var used string
			if tc.use == "" {
				bridgetest.Eventually(t, "an account request", 5*time.Second, func() bool { return accounts() > 0 })
				// The fetch loop and the next resolve wait on the clock.
				f.settle(t)
			} else {
				f.polls.waitOK(t, "spectator", 1)
				f.mu.Lock()
				used = f.live[0].Player.PUUID
				f.mu.Unlock()
			}
			if used != puuids[tc.use] {
				t.Errorf("polled as %q, want the %q PUUID %q", used, tc.use, puuids[tc.use])
			}
			wantResolved := 1
			if tc.use == "" {
				wantResolved = 0
			}
			if resolved, _ := f.p.Resolved(); resolved != wantResolved {
				t.Errorf("resolved %d, want %d", resolved, wantResolved)
			}
			if got := accounts(); got != tc.accounts {
				t.Errorf("%d account requests, want %d", got, tc.accounts)
			}
			puuid, at, _, err := store.PUUID(ctx, "kr", tc.riotID)
			if err != nil {
				t.Fatal(err)
			}
			if puuid != puuids[tc.stored] || !at.Equal(tc.at) {
				t.Errorf("stored %q resolved at %v, want the %q PUUID at %v", puuid, at, tc.stored, tc.at)
			}
		})
	}
}

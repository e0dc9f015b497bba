package live

import (
	"bytes"
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

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot/api"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/riot/riottest"
	"github.com/riftbridge/riftbridge/state"
	"github.com/riftbridge/riftbridge/state/redistest"
)

// openBolt opens the state file at path on clk; it is closed with the test.
func openBolt(t *testing.T, path string, clk clockwork.Clock) *state.Bolt {
	t.Helper()
	b, err := state.OpenBolt(path, telemetry.Settings{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// tempBolt opens a new state file in the test's temporary directory.
func tempBolt(t *testing.T, clk clockwork.Clock) *state.Bolt {
	t.Helper()
	return openBolt(t, filepath.Join(t.TempDir(), "state.db"), clk)
}

// split returns the frames emitted for id, in emit order, and those of them
// marked Sent.
func (u *updates) split(id string) (all, sent []int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, up := range u.got {
		if up.Recording.Match.Metadata.MatchID != id {
			continue
		}
		all = append(all, up.Frame)
		if up.Sent {
			sent = append(sent, up.Frame)
		}
	}
	return all, sent
}

// checkStatus checks the ledger's record of id.
func checkStatus(t *testing.T, l Ledger, id string, phase state.Phase, outcome state.Outcome, frames int) state.MatchStatus {
	t.Helper()
	st, err := l.Status(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != phase || st.Outcome != outcome || st.FramesDone != frames {
		t.Errorf("%s: %v/%v with %d frames done, want %v/%v with %d", id, st.Phase, st.Outcome, st.FramesDone, phase, outcome, frames)
	}
	return st
}

// addGame adds a processed 30-minute (30-frame) game of a new player on kr.
func addGame(f *matchesFixture, name string) string {
	puuid := f.srv.AddPlayer(name, "KR1", "kr")
	return f.srv.AddGame(riottest.GameSpec{Platform: "kr", Players: []string{puuid}, Start: t0.Add(-40 * time.Minute), Duration: 30 * time.Minute})
}

// TestLedgerResumeAfterRestart: resumes a half-sent match after a crash from its first unrecorded frame, then never again.
func TestLedgerResumeAfterRestart(t *testing.T) {
	for _, queued := range []bool{true, false} {
		t.Run(fmt.Sprintf("queued=%v", queued), func(t *testing.T) {
			const k = 12
			ctx := context.Background()
			f := newMatchesFixture(t)
			id := addGame(f, "Crashed")
			path := filepath.Join(t.TempDir(), "state.db")
			old := openBolt(t, path, f.clk)
			if _, ok, err := old.Claim(ctx, id, "old", time.Hour); !ok || err != nil {
				t.Fatalf("claim: %v, %v", ok, err)
			}
			if err := old.Progress(ctx, id, "old", k); err != nil {
				t.Fatal(err)
			}
			if err := old.Close(); err != nil { // the crash: its lease is gone with it
				t.Fatal(err)
			}

			store := openBolt(t, path, f.clk)
			WithLedger(store, "new", time.Hour)(f.m)
			if queued {
				f.m.Queue(id)
			}
			var out updates
			if err := f.m.Fetch(ctx, out.emitter()); err != nil {
				t.Fatal(err)
			}
			all, sent := out.split(id)
			if !slices.Equal(all, allFrames(30)) || !slices.Equal(sent, allFrames(k)) {
				t.Fatalf("frames %v with %v sent before; want 0 to 29 with 0 to %d", all, sent, k-1)
			}
			st := checkStatus(t, store, id, state.Finished, state.Emitted, 30)
			if st.Owner != "new" {
				t.Errorf("finished by %q, want new", st.Owner)
			}

			requests := f.srv.Stats().Requests
			if err := f.m.Fetch(ctx, out.emitter()); err != nil {
				t.Fatal(err)
			}
			fresh := NewMatches(f.m.client, telemetry.Settings{Clock: f.clk}, WithLedger(store, "fresh", 0))
			fresh.Queue(id)
			if err := fresh.Fetch(ctx, out.emitter()); err != nil {
				t.Fatal(err)
			}
			if n := len(out.got); n != 30 {
				t.Errorf("%d updates, want the 30 of the first fetch only", n)
			}
			if got := f.srv.Stats().Requests; got != requests {
				t.Errorf("%d requests for a finished match, want 0", got-requests)
			}
			if f.m.Pending() != 0 || fresh.Pending() != 0 {
				t.Errorf("pending %d and %d, want 0", f.m.Pending(), fresh.Pending())
			}
		})
	}
}

// TestLedgerProgressPerFrame: an emit failing at frame j leaves j frames recorded and the claim released.
func TestLedgerProgressPerFrame(t *testing.T) {
	const j = 7
	ctx := context.Background()
	f := newMatchesFixture(t)
	store := tempBolt(t, f.clk)
	WithLedger(store, "a", time.Hour)(f.m)
	id := addGame(f, "Halfway")
	f.m.Queue(id)

	errSink := errors.New("sink down")
	var tries []int
	err := f.m.Fetch(ctx, emitFunc(func(_ context.Context, up update) error {
		tries = append(tries, up.Frame)
		if up.Frame == j {
			return errSink
		}
		return nil
	}))
	if !errors.Is(err, errSink) || !strings.Contains(err.Error(), fmt.Sprintf("match %s frame %d", id, j)) {
		t.Fatalf("err = %v, want %v naming match %s frame %d", err, errSink, id, j)
	}
	if !slices.Equal(tries, allFrames(j+1)) || f.m.Pending() != 1 {
		t.Fatalf("tried frames %v, %d pending; want 0 to %d and 1", tries, f.m.Pending(), j)
	}
	st := checkStatus(t, store, id, state.Claimed, 0, j)
	if !st.LeaseExpires.IsZero() {
		t.Errorf("lease ends %v, want released", st.LeaseExpires)
	}
	// Released: another owner claims it at once, well within the 1h ttl.
	if next, ok, err := store.Claim(ctx, id, "b", time.Hour); !ok || err != nil || next != j {
		t.Fatalf("claim by b: next %d, %v, %v; want %d, true", next, ok, err, j)
	}
	if err := store.Release(ctx, id, "b"); err != nil {
		t.Fatal(err)
	}

	var out updates
	if err := f.m.Fetch(ctx, out.emitter()); err != nil {
		t.Fatal(err)
	}
	all, sent := out.split(id)
	if !slices.Equal(all, allFrames(30)) || !slices.Equal(sent, allFrames(j)) {
		t.Errorf("retry: frames %v with %v sent; want 0 to 29 with 0 to %d", all, sent, j-1)
	}
	checkStatus(t, store, id, state.Finished, state.Emitted, 30)
	// The retry sent what the first attempt had fetched.
	if st := f.srv.Stats(); st.MatchFetches[id] != 1 || st.TimelineFetches[id] != 1 {
		t.Errorf("fetched the match %d and its timeline %d times, want once each", st.MatchFetches[id], st.TimelineFetches[id])
	}
}

// TestLedgerReplicasEmitOnce: two replicas on one Redis emit and fetch a shared match once.
func TestLedgerReplicasEmitOnce(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	f := newMatchesFixture(t)
	id := addGame(f, "Shared")

	type replica struct {
		m   *Matches
		out updates
	}
	var replicas []*replica
	for _, owner := range []string{"replica-a", "replica-b"} {
		store := state.NewRedis(redistest.Conn(t, url), state.RedisPrefix(prefix))
		t.Cleanup(func() { store.Close() })
		client := api.NewClient(newTestDoer(t, f.srv, telemetry.Settings{}, api.WithMaxRetries(1), api.WithBackoff(time.Millisecond, 0)))
		r := &replica{m: NewMatches(client, telemetry.Settings{Clock: f.clk}, WithLedger(store, owner, 0), WithConcurrency(2))}
		r.m.Queue(id)
		replicas = append(replicas, r)
	}
	fetchAll := func() {
		t.Helper()
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, r := range replicas {
			wg.Go(func() {
				<-start
				if err := r.m.Fetch(context.Background(), r.out.emitter()); err != nil {
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
	}
	fetchAll()
	fetchAll() // the replica that lost the claim finds the match finished

	var emitters []string
	var frames []int
	for _, r := range replicas {
		all, sent := r.out.split(id)
		if len(all) == 0 {
			continue
		}
		emitters = append(emitters, r.m.owner)
		frames = all
		if len(sent) != 0 {
			t.Errorf("%s: frames %v marked sent, want none", r.m.owner, sent)
		}
	}
	if len(emitters) != 1 || !slices.Equal(frames, allFrames(30)) {
		t.Fatalf("emitted by %v, frames %v; want one replica emitting 0 to 29", emitters, frames)
	}
	for _, r := range replicas {
		if r.m.Pending() != 0 {
			t.Errorf("%s: %d pending, want 0", r.m.owner, r.m.Pending())
		}
	}
	st := f.srv.Stats()
	if n := st.ByEndpoint[riottest.RouteEndpoint{Route: "asia", Endpoint: riottest.EndpointTimeline}]; n != 1 {
		t.Errorf("%d timeline requests, want 1", n)
	}
	checkStatus(t, replicas[0].m.ledger, id, state.Finished, state.Emitted, 30)

	requests := st.Requests
	fetchAll()
	if n := len(replicas[0].out.got) + len(replicas[1].out.got); n != 30 {
		t.Errorf("%d updates in all, want 30", n)
	}
	if got := f.srv.Stats().Requests; got != requests {
		t.Errorf("%d requests after the match was settled, want 0", got-requests)
	}
}

// TestLedgerNotFoundReleases: a 404 releases the claim, so the next Fetch need not wait out the lease.
func TestLedgerNotFoundReleases(t *testing.T) {
	ctx := context.Background()
	f := newMatchesFixture(t)
	store := tempBolt(t, f.clk)
	WithLedger(store, "a", time.Hour)(f.m)
	puuid := f.srv.AddPlayer("Patient", "KR1", "kr")
	id := f.srv.AddGame(riottest.GameSpec{Platform: "kr", Players: []string{puuid}, Start: t0.Add(-30 * time.Minute), Duration: 30 * time.Minute, ProcessingDelay: 5 * time.Minute})
	f.m.Queue(id)

	var out updates
	fetch := func(what string) {
		t.Helper()
		if err := f.m.Fetch(ctx, out.emitter()); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	fetch("match 404")
	if st := checkStatus(t, store, id, state.Claimed, 0, 0); !st.LeaseExpires.IsZero() {
		t.Errorf("after a 404 the lease ends %v, want released", st.LeaseExpires)
	}
	f.clk.Advance(5 * time.Minute)
	f.srv.Inject(riottest.Fault{Endpoint: riottest.EndpointTimeline, Status: 404, Count: 1})
	fetch("timeline 404")
	if st := checkStatus(t, store, id, state.Claimed, 0, 0); !st.LeaseExpires.IsZero() {
		t.Errorf("after a timeline 404 the lease ends %v, want released", st.LeaseExpires)
	}
	if len(out.got) != 0 || f.m.Pending() != 1 {
		t.Fatalf("%d updates, %d pending while riot processes it; want 0 and 1", len(out.got), f.m.Pending())
	}
	fetch("processed")
	if all, sent := out.split(id); !slices.Equal(all, allFrames(30)) || len(sent) != 0 {
		t.Errorf("frames %v with %v sent, want 0 to 29, none sent", all, sent)
	}
	checkStatus(t, store, id, state.Finished, state.Emitted, 30)
	if f.m.Pending() != 0 {
		t.Errorf("%d pending, want 0", f.m.Pending())
	}
}

// TestLedgerGiveUpAbandons: a match given up on is finished as Abandoned.
func TestLedgerGiveUpAbandons(t *testing.T) {
	ctx := context.Background()
	f := newMatchesFixture(t)
	store := tempBolt(t, f.clk)
	WithLedger(store, "a", 0)(f.m)
	puuid := f.srv.AddPlayer("Forgotten", "KR1", "kr")
	id := f.srv.AddGame(riottest.GameSpec{Platform: "kr", Players: []string{puuid}, Start: t0.Add(-30 * time.Minute), Duration: 30 * time.Minute, ProcessingDelay: 24 * time.Hour})
	f.m.Queue(id)
	var out updates
	for _, step := range []time.Duration{0, 10 * time.Minute, time.Second} {
		f.clk.Advance(step)
		if err := f.m.Fetch(ctx, out.emitter()); err != nil {
			t.Fatal(err)
		}
	}
	checkStatus(t, store, id, state.Finished, state.Abandoned, 0)
	if unfinished, err := store.Unfinished(ctx); err != nil || len(unfinished) != 0 {
		t.Errorf("unfinished %v, %v; want none", unfinished, err)
	}
	if f.m.Pending() != 0 || len(out.got) != 0 {
		t.Errorf("%d pending, %d updates; want none", f.m.Pending(), len(out.got))
	}
}

// TestLedgerAbortedSkipped: aborted matches and timelines are finished as Skipped.
func TestLedgerAbortedSkipped(t *testing.T) {
	ctx := context.Background()
	client, _ := abortedServer(t)
	store := tempBolt(t, clockwork.NewFakeClockAt(t0))
	m := NewMatches(client, telemetry.Settings{}, WithLedger(store, "a", 0))
	m.Queue("KR_1", "EUW1_2")
	var out updates
	if err := m.Fetch(ctx, out.emitter()); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"KR_1", "EUW1_2"} {
		checkStatus(t, store, id, state.Finished, state.Skipped, 0)
	}
	if m.Pending() != 0 || len(out.got) != 0 {
		t.Errorf("%d pending, %d updates; want none", m.Pending(), len(out.got))
	}
}

// leaseLostAfter is a Ledger that another owner takes over once after
// frames are recorded: later Progress calls fail with state.ErrLeaseLost.
type leaseLostAfter struct {
	state.Store
	after int
}

func (l leaseLostAfter) Progress(ctx context.Context, matchID, owner string, framesDone int) error {
	if framesDone > l.after {
		return fmt.Errorf("progress match %s as %s: %w to other", matchID, owner, state.ErrLeaseLost)
	}
	return l.Store.Progress(ctx, matchID, owner, framesDone)
}

// TestLedgerLeaseLostStops: a lost lease stops emission quietly and leaves the match unsettled.
func TestLedgerLeaseLostStops(t *testing.T) {
	const m = 5
	f := newMatchesFixture(t)
	store := tempBolt(t, f.clk)
	var logs bytes.Buffer
	WithLedger(leaseLostAfter{Store: store, after: m}, "a", 0)(f.m)
	f.m.set.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	id := addGame(f, "Usurped")
	f.m.Queue(id)
	var out updates
	if err := f.m.Fetch(context.Background(), out.emitter()); err != nil {
		t.Fatalf("fetch = %v, want nil: losing the lease is not an error", err)
	}
	if all, _ := out.split(id); !slices.Equal(all, allFrames(m+1)) {
		t.Errorf("frames %v, want 0 to %d: frame %d was sent, its progress found the lease lost", all, m, m)
	}
	checkStatus(t, store, id, state.Claimed, 0, m)
	if f.m.Pending() != 1 {
		t.Errorf("%d pending, want 1: not settled", f.m.Pending())
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), id) {
		t.Errorf("log %q, want a warning naming %s", logs.String(), id)
	}
}

// TestLedgerAdoptAfter: a replica leaves alone an unfinished match another
// touched recently, and adopts it once untouched for AdoptAfter.
func TestLedgerAdoptAfter(t *testing.T) {
	ctx := context.Background()
	f := newMatchesFixture(t)
	id := addGame(f, "Waiting")
	store := tempBolt(t, f.clk)
	// Another replica claimed it, found it unprocessed and released it.
	if _, ok, err := store.Claim(ctx, id, "other", time.Minute); !ok || err != nil {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	if err := store.Release(ctx, id, "other"); err != nil {
		t.Fatal(err)
	}
	WithLedger(store, "me", 0)(f.m)
	WithAdoptAfter(3 * time.Minute)(f.m)

	var out updates
	if err := f.m.Fetch(ctx, out.emitter()); err != nil {
		t.Fatal(err)
	}
	if all, _ := out.split(id); len(all) != 0 || f.m.Pending() != 0 {
		t.Fatalf("adopted a match touched just now: %d frames, %d pending", len(all), f.m.Pending())
	}
	f.clk.Advance(3*time.Minute + time.Second)
	if err := f.m.Fetch(ctx, out.emitter()); err != nil {
		t.Fatal(err)
	}
	if all, sent := out.split(id); !slices.Equal(all, allFrames(30)) || len(sent) != 0 {
		t.Fatalf("after %v untouched: frames %v, %v marked sent; want 0 to 29, none", 3*time.Minute, all, sent)
	}
	checkStatus(t, store, id, state.Finished, state.Emitted, 30)
}

// TestLedgerShutdownRecords: a poll ending (SIGTERM, timeout) right after a
// frame went out still records that frame and releases the claim, so it is
// neither sent again nor held until the lease runs out.
func TestLedgerShutdownRecords(t *testing.T) {
	const j = 4
	f := newMatchesFixture(t)
	store := tempBolt(t, f.clk)
	WithLedger(store, "a", time.Hour)(f.m)
	id := addGame(f, "Stopping")
	f.m.Queue(id)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var tries []int
	err := f.m.Fetch(ctx, emitFunc(func(_ context.Context, up update) error {
		tries = append(tries, up.Frame)
		if up.Frame == j {
			cancel() // the frame is delivered; the process is stopping
		}
		return nil
	}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if !slices.Equal(tries, allFrames(j+1)) {
		t.Fatalf("emitted frames %v, want 0 to %d and nothing after the cancel", tries, j)
	}
	checkStatus(t, store, id, state.Claimed, 0, j+1)
	if next, ok, err := store.Claim(context.Background(), id, "b", time.Hour); !ok || err != nil || next != j+1 {
		t.Fatalf("claim by b: next %d, %v, %v; want %d, true (recorded and released)", next, ok, err, j+1)
	}
}

// TestLedgerGiveUpAcrossRestarts: the wait for Riot counts from the first
// claim of any run, so restarting more often than GiveUpAfter does not
// keep an unprocessed match alive forever.
func TestLedgerGiveUpAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	f := newMatchesFixture(t)
	path := filepath.Join(t.TempDir(), "state.db")
	puuid := f.srv.AddPlayer("Restarted", "KR1", "kr")
	id := f.srv.AddGame(riottest.GameSpec{Platform: "kr", Players: []string{puuid}, Start: t0.Add(-30 * time.Minute), Duration: 30 * time.Minute, ProcessingDelay: 24 * time.Hour})
	var out updates
	// Each run lives 6 minutes, under the 10-minute GiveUpAfter.
	for run := range 3 {
		store, err := state.OpenBolt(path, telemetry.Settings{Clock: f.clk})
		if err != nil {
			t.Fatal(err)
		}
		m := NewMatches(f.m.client, telemetry.Settings{Clock: f.clk}, WithLedger(store, fmt.Sprintf("run%d", run), 0), WithGiveUpAfter(f.m.giveUpAfter))
		m.Queue(id)
		for range 2 {
			if err := m.Fetch(ctx, out.emitter()); err != nil {
				t.Fatal(err)
			}
			f.clk.Advance(3 * time.Minute)
		}
		if err := store.Close(); err != nil {
			t.Fatal(err)
		}
	}
	checkStatus(t, openBolt(t, path, f.clk), id, state.Finished, state.Abandoned, 0)
}

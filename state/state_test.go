package state

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/state/redisconn"
	"github.com/riftbridge/riftbridge/state/redistest"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		os.Exit(crashChild(path))
	}
	if spec := os.Getenv(openChildEnv); spec != "" {
		os.Exit(openChild(spec))
	}
	goleak.VerifyTestMain(m)
}

// harness is one backend under the contract test.
type harness struct {
	store     Store
	retention time.Duration
	// elapse lets at least d pass for leases and retention: a fake clock's
	// advance for Bolt, a real wait for Redis.
	elapse func(d time.Duration)
	open   func() Store // on the same data
}

func newHarness(open func() Store, retention time.Duration, elapse func(time.Duration)) *harness {
	return &harness{store: open(), retention: retention, elapse: elapse, open: open}
}

// reopen closes the store and opens a new one on the same data, as a
// restarted process would.
func (h *harness) reopen(t *testing.T) Store {
	t.Helper()
	if err := h.store.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	h.store = h.open()
	return h.store
}

type backend struct {
	name string
	// shortRetention is a retention the retention case can wait out.
	shortRetention time.Duration
	open           func(t *testing.T, retention time.Duration) *harness
}

func backends() []backend {
	return []backend{
		{
			name: "bolt",
			// Past pruneEvery, so waiting it out also brings a pruning pass.
			shortRetention: 2 * time.Hour,
			open: func(t *testing.T, retention time.Duration) *harness {
				clock := clockwork.NewFakeClockAt(time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC))
				path := filepath.Join(t.TempDir(), "state.db")
				open := func() Store {
					b, err := OpenBolt(path, telemetry.Settings{Clock: clock}, BoltRetention(retention))
					if err != nil {
						t.Fatalf("open bolt: %v", err)
					}
					t.Cleanup(func() { _ = b.Close() })
					return b
				}
				return newHarness(open, retention, clock.Advance)
			},
		},
		{
			name:           "redis",
			shortRetention: 300 * time.Millisecond,
			open: func(t *testing.T, retention time.Duration) *harness {
				url := redistest.URL(t)
				prefix := redistest.Prefix(t, url)
				open := func() Store {
					r := NewRedis(redistest.Conn(t, url), RedisPrefix(prefix), RedisRetention(retention))
					t.Cleanup(func() { _ = r.Close() })
					return r
				}
				return newHarness(open, retention, func(d time.Duration) { time.Sleep(d + 20*time.Millisecond) })
			},
		},
	}
}

const (
	long  = time.Hour             // a lease that outlives the test
	short = 50 * time.Millisecond // a lease the test waits out
)

// TestStoreContract runs every case against both backends.
func TestStoreContract(t *testing.T) {
	cases := []struct {
		name      string
		retention bool // open with the backend's short retention
		run       func(t *testing.T, h *harness)
	}{
		{"claim a new match", false, func(t *testing.T, h *harness) {
			wantClaim(t, h.store, "KR_1", "a", long, 0, true)
			st := status(t, h.store, "KR_1")
			if st.Phase != Claimed || st.FramesDone != 0 || st.Owner != "a" || st.LeaseExpires.IsZero() || st.UpdatedAt.IsZero() {
				t.Fatalf("status = %+v, want claimed by a with a lease, 0 frames", st)
			}
		}},
		{"the first claim's time survives hand-overs, restarts and the finish", false, func(t *testing.T, h *harness) {
			wantClaim(t, h.store, "KR_1", "a", short, 0, true)
			first := status(t, h.store, "KR_1").FirstClaimed
			if first.IsZero() {
				t.Fatal("no first claim time")
			}
			h.elapse(short)
			wantClaim(t, h.store, "KR_1", "b", long, 0, true)
			if err := h.store.Release(ctx(t), "KR_1", "b"); err != nil {
				t.Fatal(err)
			}
			store := h.reopen(t)
			wantClaim(t, store, "KR_1", "c", long, 0, true)
			mustFinish(t, store, "KR_1", "c", Abandoned)
			if st := status(t, store, "KR_1"); !st.FirstClaimed.Equal(first) || !st.UpdatedAt.After(first) {
				t.Fatalf("first claimed %v, updated %v; want %v and later", st.FirstClaimed, st.UpdatedAt, first)
			}
		}},
		{"a live lease refuses every other claim, its holder's own too", false, func(t *testing.T, h *harness) {
			wantClaim(t, h.store, "KR_1", "a", long, 0, true)
			mustProgress(t, h.store, "KR_1", "a", 4)
			wantClaim(t, h.store, "KR_1", "b", long, 0, false)
			wantClaim(t, h.store, "KR_1", "a", long, 0, false)
			if st := status(t, h.store, "KR_1"); st.Owner != "a" || st.FramesDone != 4 {
				t.Fatalf("status = %+v, want still a's with 4 frames", st)
			}
		}},
		{"an expired lease hands over with its progress", false, func(t *testing.T, h *harness) {
			wantClaim(t, h.store, "KR_1", "a", short, 0, true)
			for f := 1; f <= 5; f++ {
				mustProgress(t, h.store, "KR_1", "a", f)
			}
			h.elapse(short)
			wantClaim(t, h.store, "KR_1", "b", long, 5, true)
			if err := h.store.Progress(ctx(t), "KR_1", "a", 6); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("progress by the old owner: %v, want ErrLeaseLost", err)
			}
			if err := h.store.Finish(ctx(t), "KR_1", "a", Emitted); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("finish by the old owner: %v, want ErrLeaseLost", err)
			}
			mustProgress(t, h.store, "KR_1", "b", 6)
			mustFinish(t, h.store, "KR_1", "b", Emitted)
			if st := status(t, h.store, "KR_1"); st.Phase != Finished || st.Outcome != Emitted || st.FramesDone != 6 {
				t.Fatalf("status = %+v, want finished, emitted, 6 frames", st)
			}
		}},
		{"a holder whose lease expired untaken keeps it", false, func(t *testing.T, h *harness) {
			wantClaim(t, h.store, "KR_1", "a", short, 0, true)
			h.elapse(short)
			mustProgress(t, h.store, "KR_1", "a", 1)
			mustFinish(t, h.store, "KR_1", "a", Emitted)
		}},
		{"release hands the match over at once with its progress", false, func(t *testing.T, h *harness) {
			wantClaim(t, h.store, "KR_1", "a", long, 0, true)
			mustProgress(t, h.store, "KR_1", "a", 3)
			mustRelease(t, h.store, "KR_1", "a")
			st := status(t, h.store, "KR_1")
			if st.Phase != Claimed || st.Owner != "a" || st.FramesDone != 3 || !st.LeaseExpires.IsZero() {
				t.Fatalf("status = %+v, want claimed by a, 3 frames, no lease", st)
			}
			if got := unfinished(t, h.store); !slices.Equal(got, []string{"KR_1"}) {
				t.Fatalf("unfinished after release = %v, want [KR_1]", got)
			}
			wantClaim(t, h.store, "KR_1", "b", long, 3, true)
			if err := h.store.Release(ctx(t), "KR_1", "a"); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("release by the old owner: %v, want ErrLeaseLost", err)
			}
			if err := h.store.Progress(ctx(t), "KR_1", "a", 4); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("progress by the old owner: %v, want ErrLeaseLost", err)
			}
			mustProgress(t, h.store, "KR_1", "b", 4)
			mustFinish(t, h.store, "KR_1", "b", Emitted)
		}},
		{"the releaser may claim again at once", false, func(t *testing.T, h *harness) {
			wantClaim(t, h.store, "KR_1", "a", long, 0, true)
			mustProgress(t, h.store, "KR_1", "a", 2)
			mustRelease(t, h.store, "KR_1", "a")
			mustRelease(t, h.store, "KR_1", "a") // a repeat is a no-op
			wantClaim(t, h.store, "KR_1", "a", long, 2, true)
			wantClaim(t, h.store, "KR_1", "b", long, 0, false) // the new lease holds
			mustProgress(t, h.store, "KR_1", "a", 3)
			if st := status(t, h.store, "KR_1"); st.Owner != "a" || st.FramesDone != 3 || st.LeaseExpires.IsZero() {
				t.Fatalf("status = %+v, want a's with a lease, 3 frames", st)
			}
		}},
		{"an untaken holder may release after its lease expired", false, func(t *testing.T, h *harness) {
			wantClaim(t, h.store, "KR_1", "a", short, 0, true)
			mustProgress(t, h.store, "KR_1", "a", 1)
			h.elapse(short)
			mustRelease(t, h.store, "KR_1", "a")
			wantClaim(t, h.store, "KR_1", "b", long, 1, true)
		}},
		{"release needs the match's recorded owner", false, func(t *testing.T, h *harness) {
			if err := h.store.Release(ctx(t), "KR_unknown", "a"); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("release of an unknown match: %v, want ErrLeaseLost", err)
			}
			if st := status(t, h.store, "KR_unknown"); st.Phase != Unseen {
				t.Fatalf("unknown match after release: %+v, want unseen", st)
			}

			wantClaim(t, h.store, "KR_1", "a", long, 0, true)
			if err := h.store.Release(ctx(t), "KR_1", "b"); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("release by a non-owner: %v, want ErrLeaseLost", err)
			}
			wantClaim(t, h.store, "KR_1", "b", long, 0, false) // a's lease stays
			if st := status(t, h.store, "KR_1"); st.Owner != "a" || st.LeaseExpires.IsZero() {
				t.Fatalf("status = %+v, want still a's with a lease", st)
			}

			wantClaim(t, h.store, "KR_2", "a", long, 0, true)
			mustProgress(t, h.store, "KR_2", "a", 5)
			mustFinish(t, h.store, "KR_2", "a", Emitted)
			for _, owner := range []string{"a", "b"} {
				if err := h.store.Release(ctx(t), "KR_2", owner); !errors.Is(err, ErrLeaseLost) {
					t.Fatalf("release of a finished match as %s: %v, want ErrLeaseLost", owner, err)
				}
			}
			wantClaim(t, h.store, "KR_2", "a", long, 0, false)
			if st := status(t, h.store, "KR_2"); st.Phase != Finished || st.Outcome != Emitted || st.FramesDone != 5 {
				t.Fatalf("status = %+v, want finished, emitted, 5 frames", st)
			}
			if got := unfinished(t, h.store); !slices.Equal(got, []string{"KR_1"}) {
				t.Fatalf("unfinished = %v, want [KR_1]", got)
			}
		}},
		{"progress never moves back", false, func(t *testing.T, h *harness) {
			wantClaim(t, h.store, "KR_1", "a", long, 0, true)
			mustProgress(t, h.store, "KR_1", "a", 5)
			mustProgress(t, h.store, "KR_1", "a", 3)
			if st := status(t, h.store, "KR_1"); st.FramesDone != 5 {
				t.Fatalf("frames done = %d, want 5", st.FramesDone)
			}
		}},
		{"progress and finish need a claim", false, func(t *testing.T, h *harness) {
			if err := h.store.Progress(ctx(t), "KR_1", "a", 1); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("progress: %v, want ErrLeaseLost", err)
			}
			if err := h.store.Finish(ctx(t), "KR_1", "a", Emitted); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("finish: %v, want ErrLeaseLost", err)
			}
			if st := status(t, h.store, "KR_1"); st.Phase != Unseen {
				t.Fatalf("status = %+v, want unseen", st)
			}
		}},
		{"a restart resumes from the recorded frame", false, func(t *testing.T, h *harness) {
			wantClaim(t, h.store, "KR_1", "a", short, 0, true)
			mustProgress(t, h.store, "KR_1", "a", 3)
			wantClaim(t, h.store, "KR_2", "a", short, 0, true)
			mustFinish(t, h.store, "KR_2", "a", Emitted)
			s := h.reopen(t)
			if got := unfinished(t, s); !slices.Equal(got, []string{"KR_1"}) {
				t.Fatalf("unfinished after restart = %v, want [KR_1]", got)
			}
			h.elapse(short)
			wantClaim(t, s, "KR_1", "a2", long, 3, true)
			wantClaim(t, s, "KR_2", "a2", long, 0, false)
		}},
		{"unfinished lists claimed matches until finished", false, func(t *testing.T, h *harness) {
			for _, id := range []string{"KR_3", "KR_1", "KR_2"} {
				wantClaim(t, h.store, id, "a", long, 0, true)
			}
			mustFinish(t, h.store, "KR_2", "a", Skipped)
			if got := unfinished(t, h.store); !slices.Equal(got, []string{"KR_1", "KR_3"}) {
				t.Fatalf("unfinished = %v, want [KR_1 KR_3]", got)
			}
		}},
		{"puuids keep their resolution time", false, func(t *testing.T, h *harness) {
			if _, _, ok, err := h.store.PUUID(ctx(t), "kr", "Faker#KR1"); err != nil || ok {
				t.Fatalf("puuid before set: ok=%v err=%v, want none", ok, err)
			}
			at := time.Date(2026, 4, 1, 10, 30, 0, 123e6, time.UTC)
			for i, puuid := range []string{"puuid-old", "puuid-new"} {
				at := at.Add(time.Duration(i) * 24 * time.Hour)
				if err := h.store.SetPUUID(ctx(t), "kr", "Faker#KR1", puuid, at); err != nil {
					t.Fatalf("set puuid: %v", err)
				}
				got, gotAt, ok, err := h.store.PUUID(ctx(t), "kr", "Faker#KR1")
				if err != nil || !ok || got != puuid || !gotAt.Equal(at) {
					t.Fatalf("puuid = %q at %v (ok=%v, err=%v), want %q at %v", got, gotAt, ok, err, puuid, at)
				}
			}
			if _, _, ok, err := h.store.PUUID(ctx(t), "euw1", "Faker#KR1"); err != nil || ok {
				t.Fatalf("puuid on another platform: ok=%v err=%v, want none", ok, err)
			}
		}},
		{"live-game markers", false, func(t *testing.T, h *harness) {
			wantLive := func(wantID int64, wantOK bool) {
				t.Helper()
				id, ok, err := h.store.LiveGame(ctx(t), "p1")
				if err != nil || ok != wantOK || id != wantID {
					t.Fatalf("live game = %d, %v, %v; want %d, %v", id, ok, err, wantID, wantOK)
				}
			}
			wantLive(0, false)
			for _, id := range []int64{7014499581, 7014499999} {
				if err := h.store.SetLiveGame(ctx(t), "p1", id); err != nil {
					t.Fatalf("set live game: %v", err)
				}
				wantLive(id, true)
			}
			for range 2 {
				if err := h.store.ClearLiveGame(ctx(t), "p1"); err != nil {
					t.Fatalf("clear live game: %v", err)
				}
				wantLive(0, false)
			}
		}},
		{"live cursors: missing, set, overwritten higher and lower", false, func(t *testing.T, h *harness) {
			const key = "CLASSIC|Hide on bush#KR1:Ahri|Señor Kai'Sa#EUW:Kai'Sa|玩家#CN1:Lee Sin"
			wantNoLiveCursor(t, h.store, key)
			for _, c := range []struct {
				next     int
				gameTime float64
			}{
				{0, 0},
				{3, 61.5},
				{17, 754.3210987654321}, // higher: kept exactly
				{17, 760.25},            // the same next, later
				{1, 12.125},             // lower: a new game under the same key
				{MaxLiveCursorNext, 1e9},
			} {
				mustSetLiveCursor(t, h.store, key, c.next, c.gameTime)
				wantLiveCursor(t, h.store, key, c.next, c.gameTime)
			}
			wantNoLiveCursor(t, h.store, key+"|other")
			// The bounds of a key: the longest, multi-byte runes included.
			long := strings.Repeat("é", MaxLiveCursorKeyLen/2)
			mustSetLiveCursor(t, h.store, long, 2, 30)
			wantLiveCursor(t, h.store, long, 2, 30)
			wantLiveCursor(t, h.store, key, MaxLiveCursorNext, 1e9)
		}},
		{"a live cursor's game time -0 reads back as 0", false, func(t *testing.T, h *harness) {
			mustSetLiveCursor(t, h.store, "g", 4, math.Copysign(0, -1))
			if _, gameTime, _, err := h.store.LiveCursor(ctx(t), "g"); err != nil || gameTime != 0 || math.Signbit(gameTime) {
				t.Fatalf("game time = %v, %v; want 0", gameTime, err)
			}
		}},
		{"live cursors survive a restart", false, func(t *testing.T, h *harness) {
			mustSetLiveCursor(t, h.store, "g1", 42, 1234.5)
			mustSetLiveCursor(t, h.store, "g2", 7, 300)
			s := h.reopen(t)
			wantLiveCursor(t, s, "g1", 42, 1234.5)
			wantLiveCursor(t, s, "g2", 7, 300)
			mustSetLiveCursor(t, s, "g1", 43, 1240)
			wantLiveCursor(t, s, "g1", 43, 1240)
		}},
		{"live cursor arguments are refused, and nothing is written", false, func(t *testing.T, h *harness) {
			s := h.store
			mustSetLiveCursor(t, s, "g", 5, 100)
			var maxNext int64 = MaxLiveCursorNext // where int is 32 bits, one more wraps negative
			for _, tc := range []struct {
				name     string
				key      string
				next     int
				gameTime float64
			}{
				{"an empty key", "", 1, 1},
				{"a key too long", strings.Repeat("k", MaxLiveCursorKeyLen+1), 1, 1},
				{"a key too long by a rune", strings.Repeat("é", MaxLiveCursorKeyLen/2) + "k", 1, 1},
				{"a key with NUL", "g\x00", 1, 1},
				{"a key with a newline", "g\nforged log line", 1, 1},
				{"a key with a tab", "g\t", 1, 1},
				{"a key with DEL", "g\x7f", 1, 1},
				{"a key with a C1 control", "g\u0085", 1, 1},
				{"a key not UTF-8", "g\xff", 1, 1},
				{"a negative next", "g", -1, 1},
				{"a next too high", "g", int(maxNext + 1), 1},
				{"a negative game time", "g", 1, -0.001},
				{"a NaN game time", "g", 1, math.NaN()},
				{"an infinite game time", "g", 1, math.Inf(1)},
				{"a negative infinite game time", "g", 1, math.Inf(-1)},
			} {
				err := s.SetLiveCursor(ctx(t), tc.key, tc.next, tc.gameTime)
				if err == nil || errors.Is(err, ErrClosed) || errors.Is(err, redisconn.ErrUnavailable) || errors.Is(err, ErrCorruptRecord) {
					t.Errorf("set with %s: %v, want an argument error", tc.name, err)
				} else if len(err.Error()) > 200 {
					t.Errorf("set with %s: an error of %d bytes, want it bounded: %q", tc.name, len(err.Error()), err)
				}
				if tc.key == "g" {
					continue
				}
				if _, _, ok, err := s.LiveCursor(ctx(t), tc.key); err == nil || ok || errors.Is(err, redisconn.ErrUnavailable) {
					t.Errorf("get with %s: ok=%v, %v; want an argument error", tc.name, ok, err)
				}
			}
			wantLiveCursor(t, s, "g", 5, 100)
		}},
		{"records are pruned after the retention", true, func(t *testing.T, h *harness) {
			wantClaim(t, h.store, "KR_done", "a", long, 0, true)
			mustFinish(t, h.store, "KR_done", "a", Emitted)
			wantClaim(t, h.store, "KR_open", "a", long, 0, true)
			mustProgress(t, h.store, "KR_open", "a", 2)
			if err := h.store.SetPUUID(ctx(t), "kr", "Faker#KR1", "p1", time.Now()); err != nil {
				t.Fatal(err)
			}
			if err := h.store.SetLiveGame(ctx(t), "p1", 1); err != nil {
				t.Fatal(err)
			}
			mustSetLiveCursor(t, h.store, "g1", 9, 420.5)
			h.elapse(h.retention)
			// Bolt prunes inside a Finish.
			wantClaim(t, h.store, "KR_trigger", "a", long, 0, true)
			mustFinish(t, h.store, "KR_trigger", "a", Emitted)

			for _, id := range []string{"KR_done", "KR_open"} {
				if st := status(t, h.store, id); st.Phase != Unseen {
					t.Errorf("%s: status = %+v, want unseen", id, st)
				}
			}
			if got := unfinished(t, h.store); len(got) != 0 {
				t.Errorf("unfinished = %v, want none", got)
			}
			if _, _, ok, err := h.store.PUUID(ctx(t), "kr", "Faker#KR1"); ok || err != nil {
				t.Errorf("puuid: ok=%v err=%v, want pruned", ok, err)
			}
			if _, ok, err := h.store.LiveGame(ctx(t), "p1"); ok || err != nil {
				t.Errorf("live game: ok=%v err=%v, want pruned", ok, err)
			}
			if _, _, ok, err := h.store.LiveCursor(ctx(t), "g1"); ok || err != nil {
				t.Errorf("live cursor: ok=%v err=%v, want pruned", ok, err)
			}
		}},
		{"invalid arguments are refused", false, func(t *testing.T, h *harness) {
			s := h.store
			for _, err := range []error{
				func() error { _, _, err := s.Claim(ctx(t), "", "a", long); return err }(),
				func() error { _, _, err := s.Claim(ctx(t), "KR_1", "", long); return err }(),
				func() error { _, _, err := s.Claim(ctx(t), "KR_1", "a", 0); return err }(),
				s.Progress(ctx(t), "KR_1", "a", -1),
				s.Release(ctx(t), "", "a"),
				s.Release(ctx(t), "KR_1", ""),
				s.Finish(ctx(t), "KR_1", "a", Outcome(0)),
				s.Finish(ctx(t), "KR_1", "a", Abandoned+1),
				s.SetPUUID(ctx(t), "kr", "", "p", time.Now()),
				s.SetLiveGame(ctx(t), "", 1),
			} {
				if err == nil || errors.Is(err, ErrLeaseLost) || errors.Is(err, redisconn.ErrUnavailable) {
					t.Errorf("got %v, want an argument error", err)
				}
			}
		}},
		{"a closed store refuses calls; close is idempotent", false, func(t *testing.T, h *harness) {
			for range 2 {
				if err := h.store.Close(); err != nil {
					t.Fatalf("close: %v", err)
				}
			}
			_, _, err := h.store.Claim(ctx(t), "KR_1", "a", long)
			if !errors.Is(err, ErrClosed) {
				t.Fatalf("claim after close: %v, want ErrClosed", err)
			}
			if _, err := h.store.Status(ctx(t), "KR_1"); !errors.Is(err, ErrClosed) {
				t.Fatalf("status after close: %v, want ErrClosed", err)
			}
			if _, _, _, err := h.store.LiveCursor(ctx(t), "g"); !errors.Is(err, ErrClosed) {
				t.Fatalf("live cursor after close: %v, want ErrClosed", err)
			}
			if err := h.store.SetLiveCursor(ctx(t), "g", 1, 1); !errors.Is(err, ErrClosed) {
				t.Fatalf("set live cursor after close: %v, want ErrClosed", err)
			}
		}},
		{"a cancelled context stops the call", false, func(t *testing.T, h *harness) {
			c, cancel := context.WithCancel(context.Background())
			cancel()
			if _, _, err := h.store.Claim(c, "KR_1", "a", long); !errors.Is(err, context.Canceled) {
				t.Fatalf("claim: %v, want context.Canceled", err)
			}
			if st := status(t, h.store, "KR_1"); st.Phase != Unseen {
				t.Fatalf("status = %+v, want unseen", st)
			}
			if err := h.store.SetLiveCursor(c, "g", 1, 1); !errors.Is(err, context.Canceled) {
				t.Fatalf("set live cursor: %v, want context.Canceled", err)
			}
			if _, _, _, err := h.store.LiveCursor(c, "g"); !errors.Is(err, context.Canceled) {
				t.Fatalf("live cursor: %v, want context.Canceled", err)
			}
			wantNoLiveCursor(t, h.store, "g")
		}},
	}
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					retention := time.Duration(0) // the default
					if tc.retention {
						retention = be.shortRetention
					}
					tc.run(t, be.open(t, retention))
				})
			}
		})
	}
}

// The outcomes all close a match for good.
func TestStoreFinishOutcomes(t *testing.T) {
	for _, be := range backends() {
		for _, o := range []Outcome{Emitted, Skipped, Abandoned} {
			t.Run(be.name+"/"+o.String(), func(t *testing.T) {
				h := be.open(t, 0)
				s := h.store
				wantClaim(t, s, "KR_1", "a", short, 0, true)
				mustProgress(t, s, "KR_1", "a", 2)
				mustFinish(t, s, "KR_1", "a", o)
				mustFinish(t, s, "KR_1", "a", Abandoned) // a repeat keeps the first outcome
				if err := s.Finish(ctx(t), "KR_1", "b", o); !errors.Is(err, ErrLeaseLost) {
					t.Fatalf("finish by another owner: %v, want ErrLeaseLost", err)
				}
				if err := s.Progress(ctx(t), "KR_1", "a", 3); !errors.Is(err, ErrLeaseLost) {
					t.Fatalf("progress after finish: %v, want ErrLeaseLost", err)
				}
				h.elapse(short)
				for _, owner := range []string{"a", "b"} {
					wantClaim(t, s, "KR_1", owner, long, 0, false)
				}
				st := status(t, s, "KR_1")
				if st.Phase != Finished || st.Outcome != o || st.FramesDone != 2 || !st.LeaseExpires.IsZero() {
					t.Fatalf("status = %+v, want finished %v, 2 frames, no lease", st, o)
				}
				if got := unfinished(t, s); len(got) != 0 {
					t.Fatalf("unfinished = %v, want none", got)
				}
			})
		}
	}
}

func TestEnumStrings(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{Emitted.String(), "emitted"},
		{Skipped.String(), "skipped"},
		{Abandoned.String(), "abandoned"},
		{Outcome(9).String(), "outcome(9)"},
		{Unseen.String(), "unseen"},
		{Claimed.String(), "claimed"},
		{Finished.String(), "finished"},
		{Phase(7).String(), "phase(7)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

func wantClaim(t *testing.T, s Store, id, owner string, ttl time.Duration, wantNext int, wantClaimed bool) {
	t.Helper()
	next, claimed, err := s.Claim(ctx(t), id, owner, ttl)
	if err != nil {
		t.Fatalf("claim %s as %s: %v", id, owner, err)
	}
	if claimed != wantClaimed || next != wantNext {
		t.Fatalf("claim %s as %s = (%d, %v), want (%d, %v)", id, owner, next, claimed, wantNext, wantClaimed)
	}
}

func mustProgress(t *testing.T, s Store, id, owner string, frames int) {
	t.Helper()
	if err := s.Progress(ctx(t), id, owner, frames); err != nil {
		t.Fatalf("progress %s as %s to %d: %v", id, owner, frames, err)
	}
}

func mustRelease(t *testing.T, s Store, id, owner string) {
	t.Helper()
	if err := s.Release(ctx(t), id, owner); err != nil {
		t.Fatalf("release %s as %s: %v", id, owner, err)
	}
}

func mustFinish(t *testing.T, s Store, id, owner string, o Outcome) {
	t.Helper()
	if err := s.Finish(ctx(t), id, owner, o); err != nil {
		t.Fatalf("finish %s as %s: %v", id, owner, err)
	}
}

func status(t *testing.T, s Store, id string) MatchStatus {
	t.Helper()
	st, err := s.Status(ctx(t), id)
	if err != nil {
		t.Fatalf("status of %s: %v", id, err)
	}
	return st
}

func unfinished(t *testing.T, s Store) []string {
	t.Helper()
	ids, err := s.Unfinished(ctx(t))
	if err != nil {
		t.Fatalf("unfinished: %v", err)
	}
	return ids
}

func mustSetLiveCursor(t *testing.T, s Store, key string, next int, gameTime float64) {
	t.Helper()
	if err := s.SetLiveCursor(ctx(t), key, next, gameTime); err != nil {
		t.Fatalf("set live cursor %q to %d at %v: %v", key, next, gameTime, err)
	}
}

func wantLiveCursor(t *testing.T, s Store, key string, wantNext int, wantGameTime float64) {
	t.Helper()
	next, gameTime, ok, err := s.LiveCursor(ctx(t), key)
	if err != nil || !ok || next != wantNext || gameTime != wantGameTime {
		t.Fatalf("live cursor %q = %d at %v (ok=%v, err=%v), want %d at %v", key, next, gameTime, ok, err, wantNext, wantGameTime)
	}
}

func wantNoLiveCursor(t *testing.T, s Store, key string) {
	t.Helper()
	next, gameTime, ok, err := s.LiveCursor(ctx(t), key)
	if err != nil || ok || next != 0 || gameTime != 0 {
		t.Fatalf("live cursor %q = %d at %v (ok=%v, err=%v), want none", key, next, gameTime, ok, err)
	}
}

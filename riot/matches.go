package riot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/sourcegraph/conc/pool"

	"github.com/riftbridge/riftbridge/state"
)

// Ledger records how far each match was emitted, so that a restart, or
// another replica, resumes a match where it stopped instead of emitting it
// again. state.Store implements it; see the state package for the bound on
// duplicates.
type Ledger interface {
	Claim(ctx context.Context, matchID, owner string, ttl time.Duration) (next int, claimed bool, err error)
	Progress(ctx context.Context, matchID, owner string, framesDone int) error
	Release(ctx context.Context, matchID, owner string) error
	Finish(ctx context.Context, matchID, owner string, outcome state.Outcome) error
	Status(ctx context.Context, matchID string) (state.MatchStatus, error)
	Unfinished(ctx context.Context) ([]string, error)
}

var _ Ledger = state.Store(nil)

// DefaultLeaseTTL is how long a claim on a match lasts without progress.
const DefaultLeaseTTL = time.Minute

// Matches fetches finished matches (match + timeline) and emits their frames,
// once per match even when several tracked players played in it. Match ids
// come from the spectator (a game just ended) or from a player's match list
// (the safety sweep); Riot answers 404 until it has processed a match, so ids
// wait in a queue that Fetch retries until they arrive or GiveUpAfter passes.
//
// With a Ledger, each match is claimed before it is fetched, every frame is
// recorded once emit returns, and matches left unfinished are adopted, so a
// match is emitted once across restarts and replicas.
type Matches struct {
	Client *Client
	// Since bounds each player's match list: only games started after it.
	Since time.Time
	// MaxAge, when set, also keeps the match list within that age of now,
	// so a process running for weeks does not reach back past what the
	// Ledger remembers and emit a pruned match again.
	MaxAge time.Duration
	// GiveUpAfter abandons a match Riot still has not processed.
	GiveUpAfter time.Duration
	// Concurrency bounds the matches fetched at once.
	Concurrency int
	// Ledger, when set, makes emission resumable; Owner names this process
	// in it and must be unique to it; LeaseTTL (default DefaultLeaseTTL)
	// bounds how long a claim outlives a process that died holding it.
	Ledger   Ledger
	Owner    string
	LeaseTTL time.Duration
	// AdoptAfter is how long an unfinished match must sit untouched before
	// this process takes it over; 0 takes every one at once, as a single
	// process should. Replicas set it above the fetch retry interval plus
	// LeaseTTL, so only abandoned matches change hands.
	AdoptAfter time.Duration
	Clock      clockwork.Clock
	Logger     *slog.Logger

	mu      sync.Mutex
	pending map[string]time.Time // match id → when first queued
	settled map[string]bool      // emitted, skipped or abandoned: never fetched again
	active  map[string]bool      // being fetched right now
	// matches holds match documents already fetched for queued ids whose
	// timeline Riot had not processed yet, so a retry asks for the timeline
	// alone.
	matches map[string]*Match
	// held keeps, up to maxHeld, the recordings whose emission stopped
	// part-way (the Agent away, the poll timed out), so a retry resumes
	// them without asking Riot again.
	held map[string]*Recording
}

// maxHeld bounds the recordings kept for a retry (a few MB each); beyond
// it, a retry fetches its match again.
const maxHeld = 4

// Queue adds match ids to fetch; ids already queued, settled or in flight
// are ignored. It reports whether anything new was queued.
func (m *Matches) Queue(ids ...string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	added := false
	for _, id := range ids {
		if _, queued := m.pending[id]; queued || m.settled[id] || m.active[id] {
			continue
		}
		m.pending[id] = m.now()
		added = true
	}
	return added
}

// Sweep lists the player's recent matches and queues the new ones.
func (m *Matches) Sweep(ctx context.Context, p Player) (queued bool, err error) {
	since := m.Since
	if m.MaxAge > 0 {
		since = later(since, m.now().Add(-m.MaxAge))
	}
	ids, err := m.Client.MatchIDs(ctx, p.Platform, p.PUUID, since, 20)
	if err != nil {
		return false, fmt.Errorf("player %s: %w", p.RiotID, err)
	}
	return m.Queue(ids...), nil
}

// Fetch tries every queued match once and emits the frames of those Riot
// has processed, oldest first. Matches still 404 stay queued. With a Ledger
// it first queues the matches left unfinished, by an earlier run or by a
// replica that died.
func (m *Matches) Fetch(ctx context.Context, emit func(context.Context, Update) error) error {
	var unfinishedErr error
	if m.Ledger != nil {
		unfinishedErr = m.adopt(ctx)
	}
	m.mu.Lock()
	m.init()
	ids := make([]string, 0, len(m.pending))
	for id := range m.pending {
		ids = append(ids, id)
	}
	m.mu.Unlock()
	// Oldest first: on a platform a higher game id is newer, and a longer
	// id is higher.
	slices.SortFunc(ids, func(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b)) })

	workers := pool.New().WithErrors().WithContext(ctx).WithMaxGoroutines(max(m.Concurrency, 1))
	for _, id := range ids {
		workers.Go(func(ctx context.Context) error { return m.fetchOne(ctx, id, emit) })
	}
	return errors.Join(unfinishedErr, workers.Wait())
}

// adopt queues the matches the Ledger holds unfinished that this process
// does not know of: left by an earlier run, or by a replica that died or
// no longer polls their players. With AdoptAfter, only those nobody has
// touched for that long: the replica working on a match, or waiting for
// Riot to process it, keeps it to itself.
func (m *Matches) adopt(ctx context.Context) error {
	ids, err := m.Ledger.Unfinished(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		m.mu.Lock()
		_, queued := m.pending[id]
		known := queued || m.active[id] || m.settled[id]
		m.mu.Unlock()
		if known {
			continue
		}
		if m.AdoptAfter > 0 {
			st, err := m.Ledger.Status(ctx, id)
			if err != nil {
				return err
			}
			if st.Phase != state.Claimed || m.now().Sub(st.UpdatedAt) < m.AdoptAfter {
				continue
			}
		}
		m.Queue(id)
	}
	return nil
}

// fetchOne fetches and emits one match, unless another caller holds it.
func (m *Matches) fetchOne(ctx context.Context, id string, emit func(context.Context, Update) error) error {
	m.mu.Lock()
	queuedAt, queued := m.pending[id]
	if !queued || m.active[id] {
		m.mu.Unlock()
		return nil
	}
	delete(m.pending, id)
	m.active[id] = true
	m.mu.Unlock()

	outcome, err := m.attempt(ctx, id, queuedAt, emit)
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.active, id)
	if outcome != 0 {
		m.settled[id] = true
		delete(m.matches, id)
		delete(m.held, id)
	} else {
		m.pending[id] = queuedAt // try again next time
	}
	return err
}

// attempt claims, fetches and emits one match. It returns the outcome once
// the match needs no further attempt, from here or anywhere else, and 0
// when it must be tried again.
func (m *Matches) attempt(ctx context.Context, id string, queuedAt time.Time, emit func(context.Context, Update) error) (state.Outcome, error) {
	next := 0
	if m.Ledger != nil {
		n, claimed, err := m.Ledger.Claim(ctx, id, m.Owner, cmp.Or(m.LeaseTTL, DefaultLeaseTTL))
		if err != nil {
			return 0, err
		}
		if !claimed {
			// Finished already, or another replica holds it: ask again
			// next time, so a replica that dies holding it is replaced.
			st, err := m.Ledger.Status(ctx, id)
			return st.Outcome, err
		}
		next = n
	}
	outcome, err := m.emitFrames(ctx, id, next, emit)
	var waited time.Duration
	if errors.Is(err, ErrNotFound) && m.GiveUpAfter > 0 {
		waited = m.waited(ctx, id, queuedAt)
	}
	var bad *InputError
	switch {
	case errors.Is(err, ErrWrongMatch):
		m.log().Warn("abandoning a match: riot serves another game under its id", "match_id", id, "error", err)
		outcome, err = state.Abandoned, nil
	case errors.As(err, &bad) || errors.Is(err, ErrUntrusted):
		// Riot served a document that cannot be read, or will not be;
		// asking again returns the same one.
		m.log().Warn("abandoning a match riot serves unreadable", "match_id", id, "error", err)
		outcome, err = state.Abandoned, nil
	case waited > m.GiveUpAfter:
		m.log().Warn("giving up on a match riot has not processed", "match_id", id, "waited", waited.Round(time.Second))
		outcome, err = state.Abandoned, nil
	case errors.Is(err, state.ErrLeaseLost):
		m.log().Warn("lost the claim on a match while emitting it; its new holder resumes it", "match_id", id, "error", err)
		return 0, nil
	case errors.Is(err, ErrNotFound):
		err = nil // not processed yet: the normal state for a few minutes
	}
	if m.Ledger == nil {
		return outcome, err
	}
	// What was sent must be recorded even when the poll is ending.
	rctx, cancel := recordContext(ctx)
	defer cancel()
	if outcome != 0 {
		ferr := m.Ledger.Finish(rctx, id, m.Owner, outcome)
		if ferr == nil {
			return outcome, err
		}
		err = errors.Join(err, ferr)
	}
	// Let the next attempt, here or on a replica, claim it at once.
	if rerr := m.Ledger.Release(rctx, id, m.Owner); rerr != nil && !errors.Is(rerr, state.ErrLeaseLost) {
		err = errors.Join(err, rerr)
	}
	return 0, err
}

// waited is how long the match has waited for Riot: since it was queued
// here, or since the Ledger's first claim of it, by an earlier run or
// another replica, if that is earlier.
func (m *Matches) waited(ctx context.Context, id string, queuedAt time.Time) time.Duration {
	since := queuedAt
	if m.Ledger != nil {
		if st, err := m.Ledger.Status(ctx, id); err == nil && !st.FirstClaimed.IsZero() && st.FirstClaimed.Before(since) {
			since = st.FirstClaimed
		}
	}
	return m.now().Sub(since)
}

// recordTimeout bounds a ledger write made after the poll's context ended.
const recordTimeout = 2 * time.Second

// recordContext outlives ctx's cancellation: a frame already sent is
// recorded, and a claim released, even during shutdown, or the frame would
// be sent again and the match wait out its lease.
func recordContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
}

// emitFrames fetches the match and emits its frames from next on, mapping
// those before next without sending them. It returns the outcome once the
// match is done with: emitted in full, or skipped as aborted.
func (m *Matches) emitFrames(ctx context.Context, id string, next int, emit func(context.Context, Update) error) (state.Outcome, error) {
	m.mu.Lock()
	match, rec := m.matches[id], m.held[id]
	m.mu.Unlock()
	if rec != nil {
		return m.emitRecording(ctx, rec, next, emit)
	}
	var err error
	if match == nil {
		match, err = m.Client.Match(ctx, id)
		if errors.Is(err, ErrAborted) {
			m.log().Debug("skipping aborted match", "match_id", id, "error", err)
			return state.Skipped, nil
		}
		if err != nil {
			return 0, err
		}
	}
	tl, err := m.Client.Timeline(ctx, id)
	if errors.Is(err, ErrNotFound) {
		m.mu.Lock()
		m.matches[id] = match
		m.mu.Unlock()
	}
	if errors.Is(err, ErrAborted) || errors.Is(err, ErrNoFrames) {
		m.log().Debug("skipping match without a usable timeline", "match_id", id, "error", err)
		return state.Skipped, nil
	}
	if err != nil {
		return 0, err
	}
	return m.emitRecording(ctx, &Recording{Timeline: tl, Match: match, Files: []string{id}}, next, emit)
}

// emitRecording emits the frames of a fetched match from next on. When it
// stops part-way, it keeps the recording, room permitting, for the retry.
func (m *Matches) emitRecording(ctx context.Context, rec *Recording, next int, emit func(context.Context, Update) error) (state.Outcome, error) {
	outcome, err := m.emitFrom(ctx, rec, next, emit)
	m.mu.Lock()
	defer m.mu.Unlock()
	id := rec.Files[0]
	if err != nil && (m.held[id] != nil || len(m.held) < maxHeld) {
		m.held[id] = rec
	}
	return outcome, err
}

func (m *Matches) emitFrom(ctx context.Context, rec *Recording, next int, emit func(context.Context, Update) error) (state.Outcome, error) {
	id := rec.Files[0]
	for i := range rec.Timeline.Info.Frames {
		sent := i < next
		if !sent {
			if err := ctx.Err(); err != nil {
				return 0, fmt.Errorf("match %s frame %d: %w", id, i, err)
			}
		}
		if err := emit(ctx, Update{Recording: rec, Frame: i, Sent: sent}); err != nil {
			return 0, fmt.Errorf("match %s frame %d: %w", id, i, err)
		}
		if sent || m.Ledger == nil {
			continue
		}
		// Recorded only once delivered: a crash before this line sends
		// the frame again, never skips it.
		rctx, cancel := recordContext(ctx)
		err := m.Ledger.Progress(rctx, id, m.Owner, i+1)
		cancel()
		if err != nil {
			return 0, fmt.Errorf("frame %d: %w", i, err)
		}
	}
	return state.Emitted, nil
}

// Pending reports how many matches wait for Riot to process them.
func (m *Matches) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending)
}

func (m *Matches) init() {
	if m.pending == nil {
		m.pending, m.settled, m.active = map[string]time.Time{}, map[string]bool{}, map[string]bool{}
		m.matches, m.held = map[string]*Match{}, map[string]*Recording{}
	}
}

func (m *Matches) now() time.Time {
	if m.Clock == nil {
		return time.Now()
	}
	return m.Clock.Now()
}

func (m *Matches) log() *slog.Logger {
	if m.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Logger
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

package live

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/api"
	"github.com/riftbridge/riftbridge/riot/source"
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

// DefaultLeaseTTL is how long a claim on a match lasts without progress.
const DefaultLeaseTTL = time.Minute

// Matches fetches finished matches (match + timeline) and emits their frames,
// once per match even when several tracked players played in it. Match ids
// come from the spectator (a game just ended) or from a player's match list
// (the safety sweep); Riot answers 404 until it has processed a match, so ids
// wait in a queue that Fetch retries until they arrive or the give-up delay
// passes.
//
// With a Ledger, each match is claimed before it is fetched, every frame is
// recorded once delivered, and matches left unfinished are adopted, so a
// match is emitted once across restarts and replicas.
type Matches struct {
	client      *api.Client
	since       time.Time
	maxAge      time.Duration
	giveUpAfter time.Duration
	concurrency int
	ledger      Ledger
	owner       string
	leaseTTL    time.Duration
	adoptAfter  time.Duration
	set         telemetry.Settings

	mu      sync.Mutex
	pending map[string]time.Time // match id → when first queued
	settled map[string]bool      // emitted, skipped or abandoned: never fetched again
	active  map[string]bool      // being fetched right now
	// matches holds match documents already fetched for queued ids whose
	// timeline Riot had not processed yet, so a retry asks for the timeline
	// alone.
	matches map[string]*riot.Match
	// held keeps, up to maxHeld, the recordings whose emission stopped
	// part-way (the Agent away, the poll timed out), so a retry resumes
	// them without asking Riot again.
	held map[string]*riot.Recording
}

// MatchesOption configures Matches.
type MatchesOption func(*Matches)

// WithSince bounds each player's match list to games started after t.
// Default: no bound.
func WithSince(t time.Time) MatchesOption { return func(m *Matches) { m.since = t } }

// WithMaxAge also keeps the match list within d of now, so a process running
// for weeks does not reach back past what the Ledger remembers and emit a
// pruned match again. Default: none.
func WithMaxAge(d time.Duration) MatchesOption { return func(m *Matches) { m.maxAge = d } }

// WithGiveUpAfter abandons a match Riot still has not processed d after it
// was first queued or claimed. Default: never.
func WithGiveUpAfter(d time.Duration) MatchesOption { return func(m *Matches) { m.giveUpAfter = d } }

// WithConcurrency bounds the matches fetched at once. Default: 1.
func WithConcurrency(n int) MatchesOption { return func(m *Matches) { m.concurrency = n } }

// WithLedger makes emission resumable: owner names this process in l and
// must be unique to it, and a claim lasts leaseTTL without progress
// (DefaultLeaseTTL when 0), which bounds how long it outlives a process that
// died holding it. Default: no ledger.
func WithLedger(l Ledger, owner string, leaseTTL time.Duration) MatchesOption {
	return func(m *Matches) { m.ledger, m.owner, m.leaseTTL = l, owner, cmp.Or(leaseTTL, DefaultLeaseTTL) }
}

// WithAdoptAfter makes an unfinished match wait d untouched before this
// process takes it over; 0 takes every one at once, as a single process
// should. Replicas set it above the fetch retry interval plus the lease, so
// only abandoned matches change hands. Default: 0.
func WithAdoptAfter(d time.Duration) MatchesOption { return func(m *Matches) { m.adoptAfter = d } }

// NewMatches returns an empty queue of matches fetched through client.
func NewMatches(client *api.Client, set telemetry.Settings, opts ...MatchesOption) *Matches {
	m := &Matches{client: client, concurrency: 1, set: set.Defaults(),
		pending: map[string]time.Time{}, settled: map[string]bool{}, active: map[string]bool{},
		matches: map[string]*riot.Match{}, held: map[string]*riot.Recording{}}
	for _, o := range opts {
		o(m)
	}
	return m
}

// maxHeld bounds the recordings kept for a retry (a few MB each); beyond
// it, a retry fetches its match again.
const maxHeld = 4

// Queue adds match ids to fetch; ids already queued, settled or in flight
// are ignored. It reports whether anything new was queued.
func (m *Matches) Queue(ids ...string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
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
func (m *Matches) Sweep(ctx context.Context, p riot.Player) (queued bool, err error) {
	since := m.since
	if m.maxAge > 0 {
		since = later(since, m.now().Add(-m.maxAge))
	}
	ids, err := m.client.MatchIDs(ctx, p.Platform, p.PUUID, since, 20)
	if err != nil {
		return false, fmt.Errorf("player %s: %w", p.RiotID, err)
	}
	return m.Queue(ids...), nil
}

// Fetch tries every queued match once and emits the frames of those Riot
// has processed, oldest first. Matches still 404 stay queued. With a Ledger
// it first queues the matches left unfinished, by an earlier run or by a
// replica that died.
func (m *Matches) Fetch(ctx context.Context, emit source.Emitter) error {
	var unfinishedErr error
	if m.ledger != nil {
		unfinishedErr = m.adopt(ctx)
	}
	m.mu.Lock()
	ids := make([]string, 0, len(m.pending))
	for id := range m.pending {
		ids = append(ids, id)
	}
	m.mu.Unlock()
	// Oldest first: on a platform a higher game id is newer, and a longer
	// id is higher.
	slices.SortFunc(ids, func(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b)) })

	workers := pool.New().WithErrors().WithContext(ctx).WithMaxGoroutines(max(m.concurrency, 1))
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
	ids, err := m.ledger.Unfinished(ctx)
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
		if m.adoptAfter > 0 {
			st, err := m.ledger.Status(ctx, id)
			if err != nil {
				return err
			}
			if st.Phase != state.Claimed || m.now().Sub(st.UpdatedAt) < m.adoptAfter {
				continue
			}
		}
		m.Queue(id)
	}
	return nil
}

// fetchOne fetches and emits one match, unless another caller holds it.
func (m *Matches) fetchOne(ctx context.Context, id string, emit source.Emitter) error {
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
func (m *Matches) attempt(ctx context.Context, id string, queuedAt time.Time, emit source.Emitter) (state.Outcome, error) {
	next := 0
	if m.ledger != nil {
		n, claimed, err := m.ledger.Claim(ctx, id, m.owner, m.leaseTTL)
		if err != nil {
			return 0, err
		}
		if !claimed {
			// Finished already, or another replica holds it: ask again
			// next time, so a replica that dies holding it is replaced.
			st, err := m.ledger.Status(ctx, id)
			return st.Outcome, err
		}
		next = n
	}
	outcome, err := m.emitFrames(ctx, id, next, emit)
	var waited time.Duration
	if errors.Is(err, api.ErrNotFound) && m.giveUpAfter > 0 {
		waited = m.waited(ctx, id, queuedAt)
	}
	var bad *riot.InputError
	switch {
	case errors.Is(err, riot.ErrWrongMatch):
		m.set.Logger.Warn("abandoning a match: riot serves another game under its id", "match_id", id, "error", err)
		outcome, err = state.Abandoned, nil
	case errors.As(err, &bad) || errors.Is(err, api.ErrUntrusted):
		// Riot served a document that cannot be read, or will not be;
		// asking again returns the same one.
		m.set.Logger.Warn("abandoning a match riot serves unreadable", "match_id", id, "error", err)
		outcome, err = state.Abandoned, nil
	case waited > m.giveUpAfter:
		m.set.Logger.Warn("giving up on a match riot has not processed", "match_id", id, "waited", waited.Round(time.Second))
		outcome, err = state.Abandoned, nil
	case errors.Is(err, state.ErrLeaseLost):
		m.set.Logger.Warn("lost the claim on a match while emitting it; its new holder resumes it", "match_id", id, "error", err)
		return 0, nil
	case errors.Is(err, api.ErrNotFound):
		err = nil // not processed yet: the normal state for a few minutes
	}
	if m.ledger == nil {
		return outcome, err
	}
	// What was sent must be recorded even when the poll is ending.
	rctx, cancel := recordContext(ctx)
	defer cancel()
	if outcome != 0 {
		ferr := m.ledger.Finish(rctx, id, m.owner, outcome)
		if ferr == nil {
			return outcome, err
		}
		err = errors.Join(err, ferr)
	}
	// Let the next attempt, here or on a replica, claim it at once.
	if rerr := m.ledger.Release(rctx, id, m.owner); rerr != nil && !errors.Is(rerr, state.ErrLeaseLost) {
		err = errors.Join(err, rerr)
	}
	return 0, err
}

// waited is how long the match has waited for Riot: since it was queued
// here, or since the Ledger's first claim of it, by an earlier run or
// another replica, if that is earlier.
func (m *Matches) waited(ctx context.Context, id string, queuedAt time.Time) time.Duration {
	since := queuedAt
	if m.ledger != nil {
		if st, err := m.ledger.Status(ctx, id); err == nil && !st.FirstClaimed.IsZero() && st.FirstClaimed.Before(since) {
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
func (m *Matches) emitFrames(ctx context.Context, id string, next int, emit source.Emitter) (state.Outcome, error) {
	m.mu.Lock()
	match, rec := m.matches[id], m.held[id]
	m.mu.Unlock()
	if rec != nil {
		return m.emitRecording(ctx, rec, next, emit)
	}
	var err error
	if match == nil {
		match, err = m.client.Match(ctx, id)
		if errors.Is(err, riot.ErrAborted) {
			m.set.Logger.Debug("skipping aborted match", "match_id", id, "error", err)
			return state.Skipped, nil
		}
		if err != nil {
			return 0, err
		}
	}
	tl, err := m.client.Timeline(ctx, id)
	if errors.Is(err, api.ErrNotFound) {
		m.mu.Lock()
		m.matches[id] = match
		m.mu.Unlock()
	}
	if errors.Is(err, riot.ErrAborted) || errors.Is(err, riot.ErrNoFrames) {
		m.set.Logger.Debug("skipping match without a usable timeline", "match_id", id, "error", err)
		return state.Skipped, nil
	}
	if err != nil {
		return 0, err
	}
	return m.emitRecording(ctx, &riot.Recording{Timeline: tl, Match: match, Files: []string{id}}, next, emit)
}

// emitRecording emits the frames of a fetched match from next on. When it
// stops part-way, it keeps the recording, room permitting, for the retry.
func (m *Matches) emitRecording(ctx context.Context, rec *riot.Recording, next int, emit source.Emitter) (state.Outcome, error) {
	outcome, err := m.emitFrom(ctx, rec, next, emit)
	m.mu.Lock()
	defer m.mu.Unlock()
	id := rec.Files[0]
	if err != nil && (m.held[id] != nil || len(m.held) < maxHeld) {
		m.held[id] = rec
	}
	return outcome, err
}

func (m *Matches) emitFrom(ctx context.Context, rec *riot.Recording, next int, emit source.Emitter) (state.Outcome, error) {
	id := rec.Files[0]
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("match %s frame %d: %w", id, next, err)
	}
	em, err := emit.BeginMatch(ctx, rec, next)
	if err != nil {
		return 0, fmt.Errorf("match %s: %w", id, err)
	}
	defer em.End()
	for i := next; i < len(rec.Timeline.Info.Frames); i++ {
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("match %s frame %d: %w", id, i, err)
		}
		if err := em.Frame(ctx, i); err != nil {
			return 0, fmt.Errorf("match %s frame %d: %w", id, i, err)
		}
		if m.ledger == nil {
			continue
		}
		// Recorded only once delivered: a crash before this line sends
		// the frame again, never skips it.
		rctx, cancel := recordContext(ctx)
		err := m.ledger.Progress(rctx, id, m.owner, i+1)
		cancel()
		if err != nil {
			return 0, fmt.Errorf("frame %d: %w", i, err)
		}
	}
	return state.Emitted, nil
}

func (m *Matches) now() time.Time { return m.set.Clock.Now() }

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

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
)

// Matches fetches finished matches (match + timeline) and emits their frames,
// once per match even when several tracked players played in it. Match ids
// come from the spectator (a game just ended) or from a player's match list
// (the safety sweep); Riot answers 404 until it has processed a match, so ids
// wait in a queue that Fetch retries until they arrive or GiveUpAfter passes.
type Matches struct {
	Client *Client
	// Since bounds each player's match list: only games started after it.
	Since time.Time
	// GiveUpAfter abandons a match Riot still has not processed.
	GiveUpAfter time.Duration
	// Concurrency bounds the matches fetched at once.
	Concurrency int
	Clock       clockwork.Clock
	Logger      *slog.Logger

	mu      sync.Mutex
	pending map[string]time.Time // match id → when first queued
	settled map[string]bool      // emitted, aborted or abandoned: never fetched again
	active  map[string]bool      // being fetched right now
	// matches holds match documents already fetched for queued ids whose
	// timeline Riot had not processed yet, so a retry asks for the timeline
	// alone.
	matches map[string]*Match
}

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
	ids, err := m.Client.MatchIDs(ctx, p.Platform, p.PUUID, m.Since, 20)
	if err != nil {
		return false, fmt.Errorf("player %s: %w", p.RiotID, err)
	}
	return m.Queue(ids...), nil
}

// Fetch tries every queued match once and emits the frames of those Riot
// has processed, oldest first. Matches still 404 stay queued.
func (m *Matches) Fetch(ctx context.Context, emit func(context.Context, Update) error) error {
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
	return workers.Wait()
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

	settled, err := m.fetch(ctx, id, emit)
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.active, id)
	switch {
	case settled:
		m.settled[id] = true
		delete(m.matches, id)
	case m.GiveUpAfter > 0 && m.now().Sub(queuedAt) > m.GiveUpAfter && errors.Is(err, ErrNotFound):
		m.settled[id] = true
		delete(m.matches, id)
		m.log().Warn("giving up on a match riot has not processed", "match_id", id, "waited", m.now().Sub(queuedAt).Round(time.Second))
		return nil
	default:
		m.pending[id] = queuedAt // try again next time
	}
	if errors.Is(err, ErrNotFound) {
		return nil // not processed yet: the normal state for a few minutes
	}
	return err
}

// fetch reports settled when the match needs no further attempt: emitted in
// full, or aborted and skipped.
func (m *Matches) fetch(ctx context.Context, id string, emit func(context.Context, Update) error) (settled bool, err error) {
	m.mu.Lock()
	match := m.matches[id]
	m.mu.Unlock()
	if match == nil {
		match, err = m.Client.Match(ctx, id)
		if errors.Is(err, ErrAborted) {
			m.log().Debug("skipping aborted match", "match_id", id, "error", err)
			return true, nil
		}
		if err != nil {
			return false, err
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
		return true, nil
	}
	if err != nil {
		return false, err
	}
	rec := &Recording{Timeline: tl, Match: match, Files: []string{id}}
	for i := range tl.Info.Frames {
		if err := emit(ctx, Update{Recording: rec, Frame: i}); err != nil {
			return false, fmt.Errorf("match %s frame %d: %w", id, i, err)
		}
	}
	return true, nil
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
		m.matches = map[string]*Match{}
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

package riot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/sourcegraph/conc"

	"github.com/riftbridge/riftbridge/state"
)

// PlayerSpec is a player as configured: a Riot ID and its platform.
type PlayerSpec struct {
	RiotID   string
	Platform string
}

// Intervals are the poll intervals; each is "at most once per interval".
type Intervals struct {
	// Spectator bounds how long a game start goes unnoticed.
	Spectator time.Duration
	// Matches is the safety sweep of each player's match list, for games
	// the spectator missed (custom games, restarts).
	Matches time.Duration
	// Fetch spaces retries of matches Riot has not processed yet.
	Fetch time.Duration
}

// Pollers is the live Source. Each player gets a spectator loop and a
// match-list loop; one more loop fetches finished matches. Players and
// intervals can change while it runs. The first thing a player's loops do is
// resolve its Riot ID to a PUUID.
type Pollers struct {
	Client    *Client
	Spectator *Spectator
	Matches   *Matches
	// Intervals is read before every wait, so reloads apply at once.
	Intervals func() Intervals
	// PUUIDs, when set, keeps resolved PUUIDs across restarts. One older
	// than PUUIDRefresh is resolved again, since a player can change Riot
	// ID, and is still used while Riot cannot answer.
	PUUIDs       PUUIDCache
	PUUIDRefresh time.Duration
	Jitter       float64
	Timeout      time.Duration
	Clock        clockwork.Clock
	Observer     PollObserver
	Logger       *slog.Logger

	mu      sync.Mutex
	run     *liveRun // set while Run runs
	wanted  []PlayerSpec
	players map[PlayerSpec]context.CancelFunc // running players' loops
}

var _ Source = (*Pollers)(nil)

// PUUIDCache stores resolved PUUIDs. state.Store implements it.
type PUUIDCache interface {
	PUUID(ctx context.Context, platform, riotID string) (puuid string, resolvedAt time.Time, ok bool, err error)
	SetPUUID(ctx context.Context, platform, riotID, puuid string, at time.Time) error
}

var _ PUUIDCache = state.Store(nil)

type liveRun struct {
	ctx     context.Context
	emit    func(context.Context, Update) error
	fatal   func(error)
	fetch   chan struct{} // wakes the fetch loop
	loops   conc.WaitGroup
	resolve sync.Map // PlayerSpec → PUUID, kept across reloads
}

// Run polls until ctx ends or the key is rejected (ErrKeyRejected), which
// no retry can fix.
func (p *Pollers) Run(ctx context.Context, emit func(context.Context, Update) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r := &liveRun{ctx: ctx, emit: emit, fatal: cancel, fetch: make(chan struct{}, 1)}

	p.mu.Lock()
	p.run = r
	p.apply()
	p.mu.Unlock()

	r.loops.Go(func() {
		p.loop("matches.fetch", func(iv Intervals) time.Duration { return iv.Fetch }, r.fetch, func(ctx context.Context) error {
			return p.check(r, p.Matches.Fetch(ctx, emit))
		}).Run(ctx)
	})
	<-ctx.Done()

	p.mu.Lock()
	for spec, stop := range p.players {
		stop()
		delete(p.players, spec)
	}
	p.run = nil
	p.mu.Unlock()
	r.loops.Wait()

	if cause := context.Cause(ctx); errors.Is(cause, ErrKeyRejected) {
		return cause
	}
	return nil
}

// SetPlayers changes the tracked players: loops start for new ones and stop
// for removed ones. It may be called before or during Run.
func (p *Pollers) SetPlayers(players []PlayerSpec) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wanted = slices.Clone(players)
	p.apply()
}

// Resolved reports how many tracked players have a PUUID, out of how many.
func (p *Pollers) Resolved() (resolved, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil {
		return 0, len(p.wanted)
	}
	for _, spec := range p.wanted {
		if _, ok := p.run.resolve.Load(spec); ok {
			resolved++
		}
	}
	return resolved, len(p.wanted)
}

// apply starts and stops player loops to match p.wanted while Run runs. The
// caller holds p.mu, so concurrent SetPlayers calls and Run's start apply
// in the order they stored p.wanted and the last one always wins.
func (p *Pollers) apply() {
	r := p.run
	if r == nil {
		return
	}
	if p.players == nil {
		p.players = map[PlayerSpec]context.CancelFunc{}
	}
	keep := map[PlayerSpec]bool{}
	for _, spec := range p.wanted {
		keep[spec] = true
		if _, running := p.players[spec]; running {
			continue
		}
		ctx, cancel := context.WithCancel(r.ctx)
		p.players[spec] = cancel
		r.loops.Go(func() { p.playerLoops(ctx, r, spec) })
	}
	for spec, stop := range p.players {
		if !keep[spec] {
			stop()
			delete(p.players, spec)
		}
	}
}

// playerLoops resolves the player, then runs its spectator and sweep loops.
func (p *Pollers) playerLoops(ctx context.Context, r *liveRun, spec PlayerSpec) {
	puuid, err := p.resolve(ctx, r, spec)
	if err != nil {
		return
	}
	player := Player{RiotID: spec.RiotID, Platform: spec.Platform, PUUID: puuid}
	// Once its last poll has returned, so no poll writes the state back.
	defer p.Spectator.Forget(puuid)
	// The sweep gets a goroutine; the spectator loop runs on this one, so a
	// player costs two loop goroutines, not three (1,000 players: ~8 MB of
	// stacks saved).
	var sweep conc.WaitGroup
	defer sweep.Wait()
	sweep.Go(func() {
		p.loop("matches", func(iv Intervals) time.Duration { return iv.Matches }, nil, func(ctx context.Context) error {
			queued, err := p.Matches.Sweep(ctx, player)
			if queued {
				p.wakeFetch(r)
			}
			return p.check(r, err)
		}).Run(ctx)
	})
	p.loop("spectator", func(iv Intervals) time.Duration { return iv.Spectator }, nil, func(ctx context.Context) error {
		return p.check(r, p.Spectator.Poll(ctx, player, func(ctx context.Context, l Live) error {
			if l.Ended && p.Matches.Queue(l.Game.MatchID()) {
				p.wakeFetch(r)
			}
			return r.emit(ctx, Update{Live: &l})
		}))
	}).Run(ctx)
}

// wakeFetch asks the fetch loop for a poll now, unless one is already asked.
func (p *Pollers) wakeFetch(r *liveRun) {
	select {
	case r.fetch <- struct{}{}:
	default:
	}
}

// resolve turns the Riot ID into a PUUID, from PUUIDs while fresh, else
// from Riot, retrying with the spectator interval until it succeeds, the
// player is removed or the key is rejected.
func (p *Pollers) resolve(ctx context.Context, r *liveRun, spec PlayerSpec) (string, error) {
	if puuid, ok := r.resolve.Load(spec); ok {
		return puuid.(string), nil
	}
	clock := p.clock()
	stale, resolvedAt := p.storedPUUID(ctx, spec)
	if stale != "" && (p.PUUIDRefresh <= 0 || clock.Since(resolvedAt) < p.PUUIDRefresh) {
		r.resolve.Store(spec, stale)
		return stale, nil
	}
	for {
		puuid, err := p.Client.PUUID(ctx, spec.Platform, spec.RiotID)
		if err == nil {
			r.resolve.Store(spec, puuid)
			if p.PUUIDs != nil {
				if err := p.PUUIDs.SetPUUID(ctx, spec.Platform, spec.RiotID, puuid, clock.Now()); err != nil {
					p.log().Warn("cannot store resolved puuid", "riot_id", spec.RiotID, "platform", spec.Platform, "error", err)
				}
			}
			return puuid, nil
		}
		if stale != "" && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrKeyRejected) && ctx.Err() == nil {
			// Riot cannot answer now: an old PUUID beats none, and the
			// next start resolves it again.
			p.log().Debug("using the stored puuid; riot cannot resolve it now", "riot_id", spec.RiotID, "platform", spec.Platform, "error", err)
			r.resolve.Store(spec, stale)
			return stale, nil
		}
		if p.check(r, err) != nil && ctx.Err() == nil {
			level := slog.LevelWarn
			if errors.Is(err, ErrNotFound) {
				err = fmt.Errorf("no riot account %q on %s: %w", spec.RiotID, spec.Platform, err)
			}
			p.log().Log(ctx, level, "cannot resolve player; retrying", "riot_id", spec.RiotID, "platform", spec.Platform, "error", err)
		}
		t := clock.NewTimer(p.Intervals().Spectator)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		case <-t.Chan():
		}
	}
}

// storedPUUID returns the PUUID PUUIDs holds for spec, or "" when there is
// none or it cannot be read (then Riot is asked, as without a store).
func (p *Pollers) storedPUUID(ctx context.Context, spec PlayerSpec) (string, time.Time) {
	if p.PUUIDs == nil {
		return "", time.Time{}
	}
	puuid, at, ok, err := p.PUUIDs.PUUID(ctx, spec.Platform, spec.RiotID)
	if err != nil {
		p.log().Warn("cannot read the stored puuid; asking riot", "riot_id", spec.RiotID, "platform", spec.Platform, "error", err)
	}
	if !ok || err != nil {
		return "", time.Time{}
	}
	return puuid, at
}

// check passes err through and ends the whole run when the key is rejected.
func (p *Pollers) check(r *liveRun, err error) error {
	if errors.Is(err, ErrKeyRejected) {
		r.fatal(err)
	}
	return err
}

func (p *Pollers) loop(source string, interval func(Intervals) time.Duration, trigger <-chan struct{}, poll func(context.Context) error) *PollLoop {
	return &PollLoop{
		Source:   source,
		Interval: func() time.Duration { return interval(p.Intervals()) },
		Jitter:   p.Jitter,
		Timeout:  p.Timeout,
		Poll:     poll,
		Trigger:  trigger,
		Clock:    p.Clock,
		Observer: p.Observer,
		Logger:   p.Logger,
	}
}

func (p *Pollers) clock() clockwork.Clock {
	if p.Clock == nil {
		return clockwork.NewRealClock()
	}
	return p.Clock
}

func (p *Pollers) log() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

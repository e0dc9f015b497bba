package riot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
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

	mu       sync.Mutex
	run      *liveRun // set while Run runs
	wanted   []PlayerSpec
	players  map[PlayerSpec]context.CancelFunc // running players' loops
	failures *FailureLog                       // shared by every loop of a run
}

// failureWarnEvery spaces the warnings of failing polls of one poller.
const failureWarnEvery = 5 * time.Minute

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
	sched   *Schedule     // every player's polls
	loops   conc.WaitGroup
	resolve sync.Map // PlayerSpec → PUUID, kept across reloads
	unknown sync.Map // PlayerSpec → true while Riot says no such account
}

// Run polls until ctx ends or the key is rejected (ErrKeyRejected), which
// no retry can fix.
func (p *Pollers) Run(ctx context.Context, emit func(context.Context, Update) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r := &liveRun{ctx: ctx, emit: emit, fatal: cancel, fetch: make(chan struct{}, 1), sched: &Schedule{Clock: p.Clock}}

	p.mu.Lock()
	p.run = r
	p.failures = &FailureLog{Every: failureWarnEvery}
	p.apply()
	p.mu.Unlock()

	r.loops.Go(func() {
		p.loop("matches.fetch", func(iv Intervals) time.Duration { return iv.Fetch }, r.fetch, func(ctx context.Context) error {
			return p.check(r, p.Matches.Fetch(ctx, emit))
		}).Run(ctx)
	})
	r.loops.Go(func() { r.sched.Run(ctx) })
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

// settled reports, for tests on a fake clock, whether Run runs with no
// player poll running and its schedule waiting for the next one.
func (p *Pollers) settled() bool {
	p.mu.Lock()
	r := p.run
	p.mu.Unlock()
	return r != nil && r.sched.settled()
}

// Unknown lists the tracked players whose Riot ID Riot says has no
// account ("Name#TAG on platform"), sorted; they are tried again every
// spectator interval.
func (p *Pollers) Unknown() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil {
		return nil
	}
	var out []string
	for _, spec := range p.wanted {
		if _, ok := p.run.unknown.Load(spec); ok {
			out = append(out, spec.RiotID+" on "+spec.Platform)
		}
	}
	slices.Sort(out)
	return out
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
		p.startPlayer(ctx, r, spec)
	}
	for spec, stop := range p.players {
		if !keep[spec] {
			stop()
			delete(p.players, spec)
		}
	}
}

// startPlayer puts the player's polls on the run's schedule: resolving its
// Riot ID every spectator interval until it succeeds, then the spectator
// and the match-list sweep. They stop when ctx ends.
func (p *Pollers) startPlayer(ctx context.Context, r *liveRun, spec PlayerSpec) {
	pr := &playerRun{spec: spec}
	resolving, resolved := context.WithCancel(ctx)
	r.sched.Add(resolving, &PollLoop{
		Source:   "resolve",
		Interval: func() time.Duration { return p.Intervals().Spectator },
		Jitter:   p.Jitter,
		Timeout:  p.Timeout,
		Clock:    p.Clock,
		Observer: p.Observer,
		// resolveOnce logs its failures, once per player.
		Poll: func(pctx context.Context) error {
			puuid, err := p.resolveOnce(pctx, r, pr)
			if err != nil {
				return err
			}
			resolved()
			p.startLoops(ctx, r, Player{RiotID: spec.RiotID, Platform: spec.Platform, PUUID: puuid})
			return nil
		},
	}, nil)
}

// playerRun is what resolving one player remembers between attempts.
type playerRun struct {
	spec     PlayerSpec
	failures int
	// The stored PUUID, read at the first attempt: used while Riot cannot
	// answer.
	storedRead bool
	stored     string
	storedAt   time.Time
}

// startLoops schedules the spectator and sweep polls of a resolved player.
func (p *Pollers) startLoops(ctx context.Context, r *liveRun, player Player) {
	// Once both loops' last polls have returned, so no poll writes the
	// state back.
	var left atomic.Int32
	left.Store(2)
	stopped := func() {
		if left.Add(-1) == 0 {
			p.Spectator.Forget(player.PUUID)
		}
	}
	r.sched.Add(ctx, p.loop("matches", func(iv Intervals) time.Duration { return iv.Matches }, nil, func(ctx context.Context) error {
		queued, err := p.Matches.Sweep(ctx, player)
		if queued {
			p.wakeFetch(r)
		}
		return p.check(r, err)
	}), stopped)
	r.sched.Add(ctx, p.loop("spectator", func(iv Intervals) time.Duration { return iv.Spectator }, nil, func(ctx context.Context) error {
		return p.check(r, p.Spectator.Poll(ctx, player, func(ctx context.Context, l Live) error {
			if l.Ended && p.Matches.Queue(l.Game.MatchID()) {
				p.wakeFetch(r)
			}
			return r.emit(ctx, Update{Live: &l})
		}))
	}), stopped)
}

// wakeFetch asks the fetch loop for a poll now, unless one is already asked.
func (p *Pollers) wakeFetch(r *liveRun) {
	select {
	case r.fetch <- struct{}{}:
	default:
	}
}

// resolveOnce turns the Riot ID into a PUUID: from PUUIDs while fresh,
// else from Riot, and from PUUIDs still while Riot cannot answer. The
// schedule calls it again every spectator interval until it succeeds, the
// player is removed or the key is rejected.
func (p *Pollers) resolveOnce(ctx context.Context, r *liveRun, pr *playerRun) (string, error) {
	spec := pr.spec
	if puuid, ok := r.resolve.Load(spec); ok {
		return puuid.(string), nil
	}
	clock := p.clock()
	if !pr.storedRead {
		pr.storedRead = true
		pr.stored, pr.storedAt = p.storedPUUID(ctx, spec)
		if pr.stored != "" && (p.PUUIDRefresh <= 0 || clock.Since(pr.storedAt) < p.PUUIDRefresh) {
			r.resolve.Store(spec, pr.stored)
			return pr.stored, nil
		}
	}
	puuid, err := p.Client.PUUID(ctx, spec.Platform, spec.RiotID)
	if err == nil {
		if pr.failures > 0 {
			p.log().Info("player resolved", "riot_id", spec.RiotID, "platform", spec.Platform, "after_failures", pr.failures)
		}
		r.unknown.Delete(spec)
		r.resolve.Store(spec, puuid)
		if p.PUUIDs != nil {
			if err := p.PUUIDs.SetPUUID(ctx, spec.Platform, spec.RiotID, puuid, clock.Now()); err != nil {
				p.log().Warn("cannot store resolved puuid", "riot_id", spec.RiotID, "platform", spec.Platform, "error", err)
			}
		}
		return puuid, nil
	}
	if pr.stored != "" && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrKeyRejected) && ctx.Err() == nil {
		// Riot cannot answer now: an old PUUID beats none, and the next
		// start resolves it again.
		p.log().Debug("using the stored puuid; riot cannot resolve it now", "riot_id", spec.RiotID, "platform", spec.Platform, "error", err)
		r.resolve.Store(spec, pr.stored)
		return pr.stored, nil
	}
	if p.check(r, err) != nil && ctx.Err() == nil {
		if errors.Is(err, ErrNotFound) {
			r.unknown.Store(spec, true)
			err = fmt.Errorf("no riot account %q on %s: %w", spec.RiotID, spec.Platform, err)
		}
		// Once per player, not once per retry.
		level := slog.LevelDebug
		if pr.failures == 0 {
			level = slog.LevelWarn
		}
		p.log().Log(ctx, level, "cannot resolve player; retrying every spectator interval", "riot_id", spec.RiotID, "platform", spec.Platform, "error", err)
	}
	pr.failures++
	return "", err
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
		Failures: p.failures,
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

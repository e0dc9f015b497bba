// Package live is the Riot API source: pollers that watch tracked players
// on spectator-v5 and emit their finished matches from match-v5, once each.
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sourcegraph/conc"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/api"
	"github.com/riftbridge/riftbridge/riot/source"
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

// Pollers is the live Source. Each player's Riot ID is resolved to a PUUID,
// then its spectator and its match list are polled; one more loop fetches
// finished matches. Players and intervals can change while it runs.
type Pollers struct {
	client    *api.Client
	spectator *Spectator
	matches   *Matches
	intervals func() Intervals
	puuids    PUUIDCache
	refresh   time.Duration
	jitter    float64
	timeout   time.Duration
	set       telemetry.Settings

	mu       sync.Mutex
	run      *liveRun // set while Run runs
	wanted   []PlayerSpec
	players  map[PlayerSpec]context.CancelFunc // running players' loops
	failures *source.FailureLog                // shared by every loop of a run
}

// Option configures Pollers.
type Option func(*Pollers)

// WithJitter adds up to this fraction of an interval to each wait, so
// players' polls spread out. Default: 0.
func WithJitter(f float64) Option { return func(p *Pollers) { p.jitter = f } }

// WithPollTimeout bounds one poll, retries and rate-limit waits included.
// Default: none.
func WithPollTimeout(d time.Duration) Option { return func(p *Pollers) { p.timeout = d } }

// WithPUUIDCache keeps resolved PUUIDs in c across restarts. One older
// than refresh (if positive) is resolved again, since a player can change
// Riot ID, and is still used while Riot cannot answer. Default: none.
func WithPUUIDCache(c PUUIDCache, refresh time.Duration) Option {
	return func(p *Pollers) { p.puuids, p.refresh = c, refresh }
}

// NewPollers returns the live source over client, spectator and matches;
// intervals is read before every wait, so reloads apply at once.
func NewPollers(client *api.Client, spectator *Spectator, matches *Matches, intervals func() Intervals, set telemetry.Settings, opts ...Option) *Pollers {
	p := &Pollers{client: client, spectator: spectator, matches: matches, intervals: intervals, set: set.Defaults()}
	for _, o := range opts {
		o(p)
	}
	return p
}

// failureWarnEvery spaces the warnings of failing polls of one poller.
const failureWarnEvery = 5 * time.Minute

var _ source.Source = (*Pollers)(nil)

// PUUIDCache stores resolved PUUIDs; state.Store is one.
type PUUIDCache interface {
	PUUID(ctx context.Context, platform, riotID string) (puuid string, resolvedAt time.Time, ok bool, err error)
	SetPUUID(ctx context.Context, platform, riotID, puuid string, at time.Time) error
}

type liveRun struct {
	ctx     context.Context
	emit    source.Emitter
	fatal   func(error)
	fetch   chan struct{}    // wakes the fetch loop
	sched   *source.Schedule // every player's polls
	loops   conc.WaitGroup
	resolve sync.Map // PlayerSpec → PUUID, kept across reloads
	unknown sync.Map // PlayerSpec → true while Riot says no such account
}

// Run polls until ctx ends or the key is rejected (ErrKeyRejected), which
// no retry can fix.
func (p *Pollers) Run(ctx context.Context, emit source.Emitter) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r := &liveRun{ctx: ctx, emit: emit, fatal: cancel, fetch: make(chan struct{}, 1), sched: source.NewSchedule(p.set)}

	p.mu.Lock()
	p.run = r
	p.failures = &source.FailureLog{Every: failureWarnEvery}
	p.apply()
	p.mu.Unlock()

	r.loops.Go(func() {
		p.loop("matches.fetch", func(iv Intervals) time.Duration { return iv.Fetch }, func(ctx context.Context) error {
			return p.check(r, p.matches.Fetch(ctx, emit))
		}, source.WithTrigger(r.fetch)).Run(ctx)
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

	if cause := context.Cause(ctx); errors.Is(cause, api.ErrKeyRejected) {
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
	return r != nil && r.sched.Settled()
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
	// resolveOnce logs its failures, once per player.
	quiet := p.set
	quiet.Logger = nil
	r.sched.Add(resolving, source.NewPollLoop("resolve", func() time.Duration { return p.intervals().Spectator }, func(pctx context.Context) error {
		puuid, err := p.resolveOnce(pctx, r, pr)
		if err != nil {
			return err
		}
		resolved()
		p.startLoops(ctx, r, riot.Player{RiotID: spec.RiotID, Platform: spec.Platform, PUUID: puuid})
		return nil
	}, quiet, source.WithJitter(p.jitter), source.WithTimeout(p.timeout)), nil)
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
func (p *Pollers) startLoops(ctx context.Context, r *liveRun, player riot.Player) {
	// Once both loops' last polls have returned, so no poll writes the
	// state back.
	var left atomic.Int32
	left.Store(2)
	stopped := func() {
		if left.Add(-1) == 0 {
			p.spectator.Forget(player.PUUID)
		}
	}
	r.sched.Add(ctx, p.loop("matches", func(iv Intervals) time.Duration { return iv.Matches }, func(ctx context.Context) error {
		queued, err := p.matches.Sweep(ctx, player)
		if queued {
			p.wakeFetch(r)
		}
		return p.check(r, err)
	}), stopped)
	r.sched.Add(ctx, p.loop("spectator", func(iv Intervals) time.Duration { return iv.Spectator }, func(ctx context.Context) error {
		return p.check(r, p.spectator.Poll(ctx, player, func(ctx context.Context, l riot.Live) error {
			if l.Ended && p.matches.Queue(l.Game.MatchID()) {
				p.wakeFetch(r)
			}
			return r.emit.Live(ctx, l)
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
	clock := p.set.Clock
	if !pr.storedRead {
		pr.storedRead = true
		pr.stored, pr.storedAt = p.storedPUUID(ctx, spec)
		if pr.stored != "" && (p.refresh <= 0 || clock.Since(pr.storedAt) < p.refresh) {
			r.resolve.Store(spec, pr.stored)
			return pr.stored, nil
		}
	}
	puuid, err := p.client.PUUID(ctx, spec.Platform, spec.RiotID)
	if err == nil {
		if pr.failures > 0 {
			p.set.Logger.Info("player resolved", "riot_id", spec.RiotID, "platform", spec.Platform, "after_failures", pr.failures)
		}
		r.unknown.Delete(spec)
		r.resolve.Store(spec, puuid)
		if p.puuids != nil {
			if err := p.puuids.SetPUUID(ctx, spec.Platform, spec.RiotID, puuid, clock.Now()); err != nil {
				p.set.Logger.Warn("cannot store resolved puuid", "riot_id", spec.RiotID, "platform", spec.Platform, "error", err)
			}
		}
		return puuid, nil
	}
	if pr.stored != "" && !errors.Is(err, api.ErrNotFound) && !errors.Is(err, api.ErrKeyRejected) && ctx.Err() == nil {
		// Riot cannot answer now: an old PUUID beats none, and the next
		// start resolves it again.
		p.set.Logger.Debug("using the stored puuid; riot cannot resolve it now", "riot_id", spec.RiotID, "platform", spec.Platform, "error", err)
		r.resolve.Store(spec, pr.stored)
		return pr.stored, nil
	}
	if p.check(r, err) != nil && ctx.Err() == nil {
		if errors.Is(err, api.ErrNotFound) {
			r.unknown.Store(spec, true)
			err = fmt.Errorf("no riot account %q on %s: %w", spec.RiotID, spec.Platform, err)
		}
		// Once per player, not once per retry.
		level := slog.LevelDebug
		if pr.failures == 0 {
			level = slog.LevelWarn
		}
		p.set.Logger.Log(ctx, level, "cannot resolve player; retrying every spectator interval", "riot_id", spec.RiotID, "platform", spec.Platform, "error", err)
	}
	pr.failures++
	return "", err
}

// storedPUUID returns the PUUID PUUIDs holds for spec, or "" when there is
// none or it cannot be read (then Riot is asked, as without a store).
func (p *Pollers) storedPUUID(ctx context.Context, spec PlayerSpec) (string, time.Time) {
	if p.puuids == nil {
		return "", time.Time{}
	}
	puuid, at, ok, err := p.puuids.PUUID(ctx, spec.Platform, spec.RiotID)
	if err != nil {
		p.set.Logger.Warn("cannot read the stored puuid; asking riot", "riot_id", spec.RiotID, "platform", spec.Platform, "error", err)
	}
	if !ok || err != nil {
		return "", time.Time{}
	}
	return puuid, at
}

// check passes err through and ends the whole run when the key is rejected.
func (p *Pollers) check(r *liveRun, err error) error {
	if errors.Is(err, api.ErrKeyRejected) {
		r.fatal(err)
	}
	return err
}

func (p *Pollers) loop(poller string, interval func(Intervals) time.Duration, poll func(context.Context) error, opts ...source.PollOption) *source.PollLoop {
	opts = append([]source.PollOption{source.WithJitter(p.jitter), source.WithTimeout(p.timeout), source.WithFailureLog(p.failures)}, opts...)
	return source.NewPollLoop(poller, func() time.Duration { return interval(p.intervals()) }, poll, p.set, opts...)
}

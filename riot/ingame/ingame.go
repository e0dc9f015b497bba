// Package ingame is the source that follows a game as it is played, second
// by second, through the game client's Live Client Data API.
package ingame

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot/liveclient"
	"github.com/riftbridge/riftbridge/riot/source"
	"github.com/riftbridge/riftbridge/state"
)

// Poller is the follower's telemetry tag.
const Poller = "liveclient"

// Cursors keeps, per followed game, the next event still to deliver, so
// that a restart mid-game counts no event twice. state.Store implements it.
type Cursors interface {
	LiveCursor(ctx context.Context, key string) (next int, gameTime float64, ok bool, err error)
	SetLiveCursor(ctx context.Context, key string, next int, gameTime float64) error
}

// Follower is the Source that follows every game the client at one address
// serves: idle while there is none, a poll every interval while one runs.
// Each poll reads the snapshot and the events new since the last one
// (eventdata?eventID=N), so every event is fetched and delivered once; with
// Cursors, across restarts too.
type Follower struct {
	client   *Client
	cursors  Cursors
	interval time.Duration
	idle     time.Duration
	timeout  time.Duration
	ticks    <-chan time.Time
	set      telemetry.Settings
	failures *source.FailureLog

	// active is whether a game is followed, for the loop's next wait;
	// rearm tells the loop it changed.
	active atomic.Bool
	rearm  chan struct{}
	// The rest is touched by the poll alone, and the loop runs one at a
	// time.
	game *followed
	// delivered is where each recent game stands in this run, so that a
	// game begun again after a failed delivery resumes without state.
	delivered map[string]cursor
	// ended lists games followed to their GameEnd: the client serves an
	// ended game for a few seconds more.
	ended []string
}

type cursor struct {
	next     int
	gameTime float64
}

// recentGames bounds delivered and ended: a few games an hour.
const recentGames = 16

// followed is the game being followed.
type followed struct {
	key      string
	emission source.GameEmission
	next     int     // the first event id not yet delivered
	gameTime float64 // at the last poll delivered
	resumed  bool    // the first poll of this run is delivered
}

var _ source.Source = (*Follower)(nil)

// Option configures a Follower.
type Option func(*Follower)

// WithCursors records delivered events in c. Default: none, so a restart
// delivers a running game's events again.
func WithCursors(c Cursors) Option { return func(f *Follower) { f.cursors = c } }

// WithInterval sets the time between polls while a game runs. Default: 1 s.
func WithInterval(d time.Duration) Option { return func(f *Follower) { f.interval = d } }

// WithIdleInterval sets the time between polls while no game runs.
// Default: 5 s, or the interval if longer.
func WithIdleInterval(d time.Duration) Option { return func(f *Follower) { f.idle = d } }

// WithPollTimeout bounds one poll. Default: the interval, at least 2 s.
func WithPollTimeout(d time.Duration) Option { return func(f *Follower) { f.timeout = d } }

// WithTicks replaces the poll timer with ch, so that tests fire polls by
// hand.
func WithTicks(ch <-chan time.Time) Option { return func(f *Follower) { f.ticks = ch } }

// NewFollower returns a Follower reading through client.
func NewFollower(client *Client, set telemetry.Settings, opts ...Option) *Follower {
	f := &Follower{client: client, interval: time.Second, set: set.Defaults(), delivered: map[string]cursor{}, rearm: make(chan struct{}, 1),
		failures: &source.FailureLog{Every: 5 * time.Minute}}
	for _, o := range opts {
		o(f)
	}
	if f.idle == 0 {
		f.idle = max(5*time.Second, f.interval)
	}
	if f.timeout == 0 {
		f.timeout = max(2*time.Second, f.interval)
	}
	return f
}

// Run follows games until ctx ends.
func (f *Follower) Run(ctx context.Context, emit source.Emitter) error {
	opts := []source.PollOption{source.WithTimeout(f.timeout), source.WithFailureLog(f.failures), source.WithRearm(f.rearm)}
	if f.ticks != nil {
		opts = append(opts, source.WithTicks(f.ticks))
	}
	source.NewPollLoop(Poller, f.next, func(ctx context.Context) error { return f.poll(ctx, emit) }, f.set, opts...).Run(ctx)
	if f.game != nil {
		f.stop("riftbridge stopped")
	}
	f.client.CloseIdleConnections()
	return nil
}

func (f *Follower) next() time.Duration {
	if f.active.Load() {
		return f.interval
	}
	return f.idle
}

// poll reads one snapshot and the new events, and delivers them.
func (f *Follower) poll(ctx context.Context, emit source.Emitter) error {
	g := f.game
	// The first poll of a game reads its whole history (to resume, or to
	// tell it is new); later ones only what is new.
	from := 0
	if g != nil && g.resumed {
		from = g.next
	}
	doc, raw, err := f.client.AllGameData(ctx, from)
	if errors.Is(err, ErrNoGame) {
		if g != nil {
			f.stop("the game client no longer serves it")
		}
		f.set.Logger.Debug("no game running", "poller", Poller, "error", err)
		return nil
	}
	if err != nil {
		return err
	}
	key := liveclient.GameKey(doc)
	if g != nil && (g.key != key || doc.GameData.GameTime+1 < g.gameTime) {
		// Another game, without the API going away in between.
		f.stop("another game started")
		g = nil
	}
	if g == nil {
		if slices.Contains(f.ended, key) {
			return nil // the post-game seconds of a game followed to its end
		}
		if g, err = f.begin(ctx, emit, key, doc); err != nil {
			return err
		}
	}
	events, rawEvents, err := f.client.Events(ctx, g.next)
	if errors.Is(err, ErrNoGame) {
		f.stop("the game client no longer serves it")
		return nil
	}
	if err != nil {
		return err
	}
	events = newEvents(events, g.next)
	if err := g.emission.Poll(ctx, source.GamePoll{Game: doc, Events: events, At: f.set.Clock.Now(), RawGame: raw, RawEvents: rawEvents}); err != nil {
		// The emission takes no more polls: begin again from what is
		// recorded, on the next poll.
		f.stop("")
		return fmt.Errorf("game %s: %w", key, err)
	}
	g.resumed = true
	ended := false
	for _, e := range events {
		g.next = e.EventID + 1
		ended = ended || e.EventName == liveclient.EventGameEnd
	}
	g.gameTime = max(0, doc.GameData.GameTime)
	f.remember(key, cursor{g.next, g.gameTime})
	if f.cursors != nil && len(events) > 0 {
		// After delivery, so that a crash between the two sends the poll's
		// events again rather than losing them.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		err := f.cursors.SetLiveCursor(rctx, key, g.next, g.gameTime)
		cancel()
		if err != nil {
			return fmt.Errorf("game %s: record events before %d: %w", key, g.next, err)
		}
	}
	if ended {
		f.ended = append(f.ended[max(0, len(f.ended)+1-recentGames):], key)
		f.stop("")
		f.set.Logger.Info("followed game ended", "poller", Poller, "game", key, "game_time", time.Duration(g.gameTime*float64(time.Second)).Round(time.Second))
	}
	return nil
}

// begin starts following the game doc is a snapshot of, from the first
// event an earlier run did not deliver.
func (f *Follower) begin(ctx context.Context, emit source.Emitter, key string, doc *liveclient.AllGameData) (*followed, error) {
	c, ok := f.delivered[key]
	if !ok && f.cursors != nil {
		var err error
		c.next, c.gameTime, ok, err = f.cursors.LiveCursor(ctx, key)
		switch {
		case errors.Is(err, state.ErrCorruptRecord):
			// Progress unknown: start over, which the next record repairs,
			// rather than never follow this game.
			f.set.Logger.Warn("the followed game's record is unreadable; its events so far are sent again", "poller", Poller, "game", key, "error", err)
			ok = false
		case err != nil:
			return nil, fmt.Errorf("game %s: read its cursor: %w", key, err)
		}
	}
	from := 0
	// A cursor recorded later in the game than now is another game's with
	// the same players and champions (a remake): start over.
	if ok && c.gameTime <= doc.GameData.GameTime+1 {
		from = c.next
	}
	if last := lastEventID(doc.Events.Events); from > last+1 {
		// The client's list holds fewer events than were delivered: it
		// started over (a spectator who joined again), numbered anew.
		from = 0
	}
	e, err := emit.BeginGame(ctx, key, from)
	if err != nil {
		return nil, fmt.Errorf("game %s: %w", key, err)
	}
	g := &followed{key: key, emission: e, next: from}
	f.game = g
	f.setActive(true)
	attrs := []any{"poller", Poller, "game", key, "mode", doc.GameData.GameMode, "game_time", time.Duration(doc.GameData.GameTime * float64(time.Second)).Round(time.Second)}
	if doc.ActivePlayer.Err != "" {
		attrs = append(attrs, "spectating", true)
	}
	if from > 0 {
		attrs = append(attrs, "resumed_at_event", from)
	}
	f.set.Logger.Info("following a game", attrs...)
	return g, nil
}

// stop ends the followed game's emission; why, if not empty, is logged.
func (f *Follower) stop(why string) {
	g := f.game
	f.game = nil
	f.setActive(false)
	g.emission.End()
	if why != "" {
		f.set.Logger.Info("stopped following a game", "poller", Poller, "game", g.key, "reason", why)
	}
}

// setActive switches between following and idle, and has the loop wait the
// new interval from now rather than sit out the old one.
func (f *Follower) setActive(active bool) {
	f.active.Store(active)
	select {
	case f.rearm <- struct{}{}:
	default: // one is pending already
	}
}

// remember keeps where key stands, forgetting another game past
// recentGames.
func (f *Follower) remember(key string, c cursor) {
	if _, ok := f.delivered[key]; !ok && len(f.delivered) >= recentGames {
		for k := range f.delivered {
			if f.game == nil || k != f.game.key {
				delete(f.delivered, k)
				break
			}
		}
	}
	f.delivered[key] = c
}

func lastEventID(events []liveclient.Event) int {
	last := -1
	for _, e := range events {
		last = max(last, e.EventID)
	}
	return last
}

// newEvents keeps the events from id next on, in order, once each: a
// client that ignores eventID, or repeats itself, counts nothing twice, and
// an id past what a cursor holds is not an event.
func newEvents(events []liveclient.Event, next int) []liveclient.Event {
	out := events[:0]
	for _, e := range events {
		if e.EventID >= next && e.EventID < state.MaxLiveCursorNext {
			out = append(out, e)
			next = e.EventID + 1
		}
	}
	return out
}

package source

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot/liveclient"
)

// GameReplay is a Source that plays a followed game back poll by poll, as
// `riftbridge record` saved it or from a single allgamedata snapshot.
type GameReplay struct {
	rec   *liveclient.Recording
	speed float64
	set   telemetry.Settings
}

var _ Source = (*GameReplay)(nil)

// NewGameReplay returns a replay of rec, paced on set's clock at the
// recorded polls' spacing divided by WithSpeed's N (0, the default: every
// poll at once).
func NewGameReplay(rec *liveclient.Recording, set telemetry.Settings, opts ...ReplayOption) *GameReplay {
	r := &Replay{}
	for _, o := range opts {
		o(r)
	}
	return &GameReplay{rec: rec, speed: r.speed, set: set.Defaults()}
}

// Run emits every poll of the recording in order. The schedule is fixed at
// the start, so time spent emitting does not add up into drift.
func (r *GameReplay) Run(ctx context.Context, emit Emitter) error {
	if r.rec == nil || len(r.rec.Polls) == 0 {
		return errors.New("replay: no recorded poll")
	}
	if r.speed < 0 || math.IsNaN(r.speed) {
		return fmt.Errorf("replay %s: invalid speed %v", r.rec.File, r.speed)
	}
	polls := r.rec.Polls
	key := liveclient.GameKey(polls[0].Game)
	g, err := emit.BeginGame(ctx, key, 0)
	if err != nil {
		return fmt.Errorf("replay %s: %w", r.rec.File, err)
	}
	defer g.End()
	start := r.set.Clock.Now()
	for i, p := range polls {
		if err := waitPaced(ctx, r.set.Clock, start, p.At.Sub(polls[0].At), r.speed); err != nil {
			return err
		}
		if err := g.Poll(ctx, GamePoll{Game: p.Game, Events: p.Events, At: p.At}); err != nil {
			return fmt.Errorf("replay %s: poll %d of %d: %w", r.rec.File, i+1, len(polls), err)
		}
	}
	return nil
}

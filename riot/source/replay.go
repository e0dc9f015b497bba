package source

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot"
)

// Replay is a Source that plays a recording back frame by frame.
type Replay struct {
	rec   *riot.Recording
	speed float64
	set   telemetry.Settings
}

var _ Source = (*Replay)(nil)

// ReplayOption configures a Replay.
type ReplayOption func(*Replay)

// WithSpeed plays at N× real time: frame i is emitted at the start of Run
// plus (frame i's timestamp − frame 0's timestamp) / N. Default: 0, every
// frame at once.
func WithSpeed(n float64) ReplayOption { return func(r *Replay) { r.speed = n } }

// NewReplay returns a replay of rec, paced on set's clock.
func NewReplay(rec *riot.Recording, set telemetry.Settings, opts ...ReplayOption) *Replay {
	r := &Replay{rec: rec, set: set.Defaults()}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Run emits every frame of the recording in order. The schedule is fixed at
// the start, so time spent emitting does not add up into drift.
func (r *Replay) Run(ctx context.Context, emit Emitter) error {
	if r.rec == nil || r.rec.Timeline == nil {
		return errors.New("replay: no recording")
	}
	if r.speed < 0 || math.IsNaN(r.speed) {
		return fmt.Errorf("replay %s: invalid speed %v", r.rec.Name(), r.speed)
	}
	frames := r.rec.Timeline.Info.Frames
	m, err := emit.BeginMatch(ctx, r.rec, 0)
	if err != nil {
		return fmt.Errorf("replay %s: %w", r.rec.Name(), err)
	}
	defer m.End()
	start := r.set.Clock.Now()
	for i := range frames {
		if err := r.waitFor(ctx, start, frames[i].Timestamp-frames[0].Timestamp); err != nil {
			return err
		}
		if err := m.Frame(ctx, i); err != nil {
			return fmt.Errorf("replay %s: frame %d of %d: %w", r.rec.Name(), i, len(frames), err)
		}
	}
	return nil
}

// waitFor blocks until the moment that lies gameMS of game time after start
// at the replay's speed, or ctx is done.
func (r *Replay) waitFor(ctx context.Context, start time.Time, gameMS int64) error {
	return waitPaced(ctx, r.set.Clock, start, time.Duration(gameMS)*time.Millisecond, r.speed)
}

// waitPaced blocks until offset, divided by speed, after start, or ctx is
// done; speed 0 does not wait.
func waitPaced(ctx context.Context, clock clockwork.Clock, start time.Time, offset time.Duration, speed float64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if speed == 0 || offset <= 0 {
		return nil
	}
	d := start.Add(time.Duration(float64(offset) / speed)).Sub(clock.Now())
	if d <= 0 {
		return nil
	}
	t := clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.Chan():
		return nil
	}
}

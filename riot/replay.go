package riot

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jonboulle/clockwork"
)

// Clock tells the time and waits. Replay takes one so that tests can run
// recordings on simulated time; every clockwork.Clock is one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// Replay is a Source that plays a recording back frame by frame. The number
// of updates it emits is len(Recording.Timeline.Info.Frames).
type Replay struct {
	Recording *Recording
	// Speed N plays at N× real time: frame i is emitted at the start of Run
	// plus (frame i's timestamp − frame 0's timestamp) / N. 0 emits every
	// frame at once.
	Speed float64
	// Clock paces the replay; nil means the system clock.
	Clock Clock
}

var _ Source = (*Replay)(nil)

// Run emits every frame of the recording in order. The schedule is fixed at
// the start, so time spent in emit does not add up into drift.
func (r *Replay) Run(ctx context.Context, emit func(context.Context, Update) error) error {
	if r.Recording == nil || r.Recording.Timeline == nil {
		return errors.New("replay: no recording")
	}
	if r.Speed < 0 || math.IsNaN(r.Speed) {
		return fmt.Errorf("replay %s: invalid speed %v", r.Recording.name(), r.Speed)
	}
	clock := r.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	frames := r.Recording.Timeline.Info.Frames
	start := clock.Now()
	for i := range frames {
		if err := r.waitFor(ctx, clock, start, frames[i].Timestamp-frames[0].Timestamp); err != nil {
			return err
		}
		if err := emit(ctx, Update{Recording: r.Recording, Frame: i}); err != nil {
			return fmt.Errorf("replay %s: frame %d of %d: %w", r.Recording.name(), i, len(frames), err)
		}
	}
	return nil
}

// waitFor blocks until the moment that lies gameMS of game time after start
// at r.Speed, or ctx is done.
func (r *Replay) waitFor(ctx context.Context, clock Clock, start time.Time, gameMS int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.Speed == 0 {
		return nil
	}
	offset := time.Duration(float64(gameMS) * float64(time.Millisecond) / r.Speed)
	d := start.Add(offset).Sub(clock.Now())
	if d <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-clock.After(d):
		return nil
	}
}

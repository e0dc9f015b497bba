// Package source is the contract between riftbridge's sources and the
// bridge, the poll loop that runs them, and the replay of recorded matches.
package source

import (
	"context"

	"github.com/riftbridge/riftbridge/riot"
)

// Source produces until it is done or ctx is cancelled. A replay stops at
// the first error of its Emitter; the live pollers count it as a failed
// poll and try again on the next one.
type Source interface {
	Run(ctx context.Context, emit Emitter) error
}

// Emitter is what a source emits into: the bridge's pipeline, or a test's
// recorder.
type Emitter interface {
	// Live hands over a spectator observation of a tracked player.
	Live(ctx context.Context, l riot.Live) error
	// BeginMatch starts emitting a finished match. The frames before from
	// were delivered by an earlier run: they are mapped, so that running
	// totals carry on, but not sent again.
	BeginMatch(ctx context.Context, rec *riot.Recording, from int) (Emission, error)
}

// Emission is one match being emitted, frame by frame, in order, from one
// goroutine.
type Emission interface {
	// Frame maps and delivers frame i, the next one. It returns nil only
	// once the frame has reached its destination, so that a source that
	// records progress may record it as sent; after an error the emission
	// takes no more frames, and a retry begins the match again.
	Frame(ctx context.Context, i int) error
	// End finishes the emission, whole or cut short. Calling it again does
	// nothing.
	End()
}

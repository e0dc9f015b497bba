// Package source is the contract between riftbridge's sources and the
// bridge, the poll loop that runs them, and the replay of recordings.
package source

import (
	"context"
	"time"

	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/liveclient"
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
	// BeginGame starts emitting a game followed as it is played, through
	// the game client's Live Client Data API. The events before from were
	// delivered by an earlier run: the first Poll folds them into the
	// running totals, from its snapshot, without sending them again.
	BeginGame(ctx context.Context, key string, from int) (GameEmission, error)
}

// GamePoll is one poll of a followed game.
type GamePoll struct {
	// Game is the allgamedata snapshot. Its event list is the game's whole
	// history as the client knows it (since the join, for a spectator).
	Game *liveclient.AllGameData
	// Events are the events new since the previous poll, in EventID order.
	Events []liveclient.Event
	// At is when the answers arrived.
	At time.Time
	// RawGame and RawEvents are the two answers as served, for a recording.
	RawGame, RawEvents []byte
}

// GameEmission is one followed game being emitted, poll by poll, in order,
// from one goroutine.
type GameEmission interface {
	// Poll maps and delivers one poll. It returns nil only once the poll has
	// reached its destination, so that the source may record its events as
	// delivered; after an error the emission takes no more polls, and the
	// source begins the game again from what it recorded.
	Poll(ctx context.Context, p GamePoll) error
	// End finishes the emission: the game ended, or is no longer served.
	// Calling it again does nothing.
	End()
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

package riot

import "context"

// Update is one frame of a recording, ready for the mapper, or (from the
// live pollers) a spectator observation. Frames of one recording arrive in
// order, from one goroutine.
//
// A source that records progress (Matches with a Ledger) treats a nil error
// from emit as "delivered": emit must not return before the frame's points
// have left the process.
type Update struct {
	Recording *Recording
	Frame     int // index into Recording.Timeline.Info.Frames
	// Sent marks a frame an earlier run already delivered: map it, so that
	// running totals carry on, but do not send it again.
	Sent bool
	// Live is set, and Recording nil, for spectator observations.
	Live *Live
}

// Source produces updates until it is done or ctx is cancelled. A replay
// stops at the first emit error; the live pollers count it as a failed poll
// and try again on the next one.
type Source interface {
	Run(ctx context.Context, emit func(context.Context, Update) error) error
}

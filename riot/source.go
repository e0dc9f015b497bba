package riot

import "context"

// Update is one frame of a recording, ready for the mapper, or (from the
// live pollers) a spectator observation. Frames of one recording arrive in
// order, from one goroutine.
type Update struct {
	Recording *Recording
	Frame     int // index into Recording.Timeline.Info.Frames
	// Live is set, and Recording nil, for spectator observations.
	Live *Live
}

// Source produces updates until it is done or ctx is cancelled. A replay
// stops at the first emit error; the live pollers count it as a failed poll
// and try again on the next one.
type Source interface {
	Run(ctx context.Context, emit func(context.Context, Update) error) error
}

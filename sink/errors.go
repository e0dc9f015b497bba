package sink

import (
	"errors"
	"log/slog"
	"sync/atomic"
)

// ErrClosed is returned by Write on a closed sink.
var ErrClosed = errors.New("sink closed")

// ErrUndelivered is wrapped by Flush and Close when something written
// since the previous Flush did not reach its destination.
var ErrUndelivered = errors.New("not delivered")

// faults counts failures of one kind and logs only the first, so a dead
// Agent or a stream of bad points never floods the log.
type faults struct {
	n   atomic.Uint64
	log *slog.Logger
	msg string
	// report, when set, tells the observer of each one.
	report func()
}

func (f *faults) add(err error) {
	if f.n.Add(1) == 1 {
		f.log.Warn(f.msg, "err", err)
	}
	if f.report != nil {
		f.report()
	}
}

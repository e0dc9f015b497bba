package source

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
)

// Schedule runs many poll loops on one timer. Each loop keeps PollLoop's
// rules (a poll at once, then at most once per interval plus jitter, a tick
// skipped while the previous poll runs, the loop's timeout and telemetry),
// but waits as an entry in a heap rather than on a goroutine of its own: a
// poll's goroutine lives only while the poll runs, so a thousand idle
// players cost a thousand entries, not two thousand goroutines.
type Schedule struct {
	clock clockwork.Clock

	mu      sync.Mutex
	due     dueHeap
	changed chan struct{} // wakes Run when an entry is added
	polls   sync.WaitGroup
	running int       // polls that run
	parked  bool      // Run waits for the next due poll, its timer set
	wakeAt  time.Time // when that timer fires
}

// scheduled is one loop on the Schedule.
type scheduled struct {
	loop   *PollLoop
	ctx    context.Context // ends the loop; its polls run under it
	next   time.Time
	index  int  // in the heap; -1 once out of it
	busy   bool // a poll runs
	gone   bool // ctx ended
	onStop func()
}

// NewSchedule returns an empty schedule on set's clock; the loops added
// keep their own settings.
func NewSchedule(set telemetry.Settings) *Schedule {
	return &Schedule{clock: set.Defaults().Clock, changed: make(chan struct{}, 1)}
}

// Add schedules loop until ctx ends; its ticks and trigger are not used.
// Its first poll is due at once. onStop, if set, is called once ctx has
// ended and no poll of the loop runs any more.
func (s *Schedule) Add(ctx context.Context, loop *PollLoop, onStop func()) {
	e := &scheduled{loop: loop, ctx: ctx, next: s.clock.Now(), onStop: onStop}
	s.mu.Lock()
	heap.Push(&s.due, e)
	s.mu.Unlock()
	s.poke()
	context.AfterFunc(ctx, func() { s.remove(e) })
}

func (s *Schedule) remove(e *scheduled) {
	s.mu.Lock()
	e.gone = true
	if e.index >= 0 {
		heap.Remove(&s.due, e.index)
	}
	stopped := !e.busy
	s.mu.Unlock()
	if stopped && e.onStop != nil {
		e.onStop()
	}
}

// Run starts the polls as they fall due until ctx ends, then waits for the
// polls that run.
func (s *Schedule) Run(ctx context.Context) {
	clock := s.clock
	timer := clock.NewTimer(time.Hour)
	defer timer.Stop()
	defer s.polls.Wait()
	for {
		s.mu.Lock()
		// Set under the lock with the time it was computed from, so that
		// a test that sees Run parked may move a fake clock safely.
		d := s.startDue(clock)
		timer.Reset(d)
		s.parked, s.wakeAt = true, clock.Now().Add(d)
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-timer.Chan():
		case <-s.changed:
		}
		s.mu.Lock()
		s.parked = false
		s.mu.Unlock()
	}
}

// Settled reports whether no poll runs and Run waits for the next one, its
// timer not yet due: then a test may move a fake clock without losing a
// tick.
func (s *Schedule) Settled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parked && s.running == 0 && len(s.changed) == 0 && s.clock.Now().Before(s.wakeAt)
}

// startDue starts every loop that is due, schedules its next poll, and
// returns how long until the next one is due. The caller holds s.mu.
func (s *Schedule) startDue(clock clockwork.Clock) time.Duration {
	now := clock.Now()
	for len(s.due) > 0 && !s.due[0].next.After(now) {
		e := s.due[0]
		e.next = now.Add(e.loop.next())
		heap.Fix(&s.due, 0)
		if e.busy {
			e.loop.set.Observer.Skipped(e.loop.poller)
			continue
		}
		e.busy = true
		s.running++
		s.polls.Go(func() { e.loop.pollOnce(e.ctx, func() { s.idle(e) }) })
	}
	if len(s.due) == 0 {
		return time.Hour
	}
	return s.due[0].next.Sub(now)
}

// idle marks e's poll finished, and stops e if its ctx ended meanwhile.
func (s *Schedule) idle(e *scheduled) {
	s.mu.Lock()
	e.busy = false
	s.running--
	stopped := e.gone
	s.mu.Unlock()
	if stopped && e.onStop != nil {
		e.onStop()
	}
}

func (s *Schedule) poke() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// dueHeap orders scheduled loops by their next poll.
type dueHeap []*scheduled

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *dueHeap) Push(x any) {
	e := x.(*scheduled)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *dueHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	e.index = -1
	*h = old[:len(old)-1]
	return e
}

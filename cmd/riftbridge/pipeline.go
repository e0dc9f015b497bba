package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/sink"
)

// pipeline maps live updates and writes them to the sink. Spectator
// observations go out at once; a finished match's frames carry their true
// timestamps, and the points Datadog's intake would drop (older than an
// hour, or more than ten minutes ahead after clock skew) are counted
// instead of sent. Each match frame is delivered before emit returns nil:
// written and flushed, with the sink reporting nothing lost since, so the
// source may record it as sent. Frames an earlier run sent are mapped but
// not written.
type pipeline struct {
	sink sink.Sink
	opts mapper.Options
	tel  *telemetry
	now  func() time.Time

	// deliver serialises the write and flush of match frames, so that a
	// flush's report covers its own frame.
	deliver sync.Mutex

	mu      sync.Mutex
	matches map[string]*emission // matches being emitted, by id
	inGame  map[string]bool      // tracked players in a game, by PUUID
}

func newPipeline(s sink.Sink, opts mapper.Options, tel *telemetry) *pipeline {
	return &pipeline{sink: s, opts: opts, tel: tel, now: time.Now, matches: map[string]*emission{}, inGame: map[string]bool{}}
}

func (p *pipeline) emit(ctx context.Context, u riot.Update) error {
	if u.Live != nil {
		p.mu.Lock()
		if u.Live.Game != nil && !u.Live.Ended {
			p.inGame[u.Live.Player.PUUID] = true
		} else {
			delete(p.inGame, u.Live.Player.PUUID)
		}
		p.mu.Unlock()
		return p.write(ctx, mapper.Live(*u.Live, p.opts, p.now()))
	}

	rec := u.Recording
	id := rec.Timeline.Metadata.MatchID
	frames := rec.Timeline.Info.Frames
	p.mu.Lock()
	e, ok := p.matches[id]
	if !ok || u.Frame == 0 {
		p.dropAbandoned()
		e = &emission{m: mapper.New(mapper.Describe(rec.Timeline, rec.Match), p.opts)}
		p.matches[id] = e
	}
	e.used = p.now()
	m := e.m
	last := u.Frame == len(frames)-1
	if last {
		delete(p.matches, id)
	}
	p.mu.Unlock()

	start := m.Info().Start
	if start.IsZero() {
		// No start time known: assume the game just ended.
		start = p.now().Add(-time.Duration(frames[len(frames)-1].Timestamp) * time.Millisecond)
	}
	b := m.Frame(&frames[u.Frame], mapper.Timebase{Origin: start, Speed: 1})
	if u.Sent {
		return nil // mapped for its running totals; an earlier run sent it
	}
	now := p.now()
	oldest, newest := now.Add(-intakeMaxAge), now.Add(intakeMaxFuture)
	kept := b.Points[:0]
	for _, pt := range b.Points {
		if pt.Time.After(oldest) && pt.Time.Before(newest) {
			kept = append(kept, pt)
		}
	}
	outside := len(b.Points) - len(kept)
	b.Points = kept
	p.deliver.Lock()
	defer p.deliver.Unlock()
	// First what other writers (live gauges, self-telemetry) left in the
	// sink, its report set aside: the frame's own Flush then reports on
	// the frame, and on what others write meanwhile, which costs a resend.
	if err := p.sink.Flush(ctx); err != nil && !errors.Is(err, sink.ErrUndelivered) {
		return err
	}
	if err := p.sink.Write(ctx, b); err != nil {
		return err
	}
	// The source records the frame as sent once this returns nil, so the
	// Agent must have it: a crash then cannot lose it, and a frame the
	// sink could not deliver is sent again later.
	if err := p.sink.Flush(ctx); err != nil {
		p.tel.undelivered()
		return err
	}
	matches := 0
	if last {
		matches = 1
	}
	p.tel.emitted(len(b.Points), outside, matches)
	return nil
}

// emission is the mapper of a match being emitted.
type emission struct {
	m    *mapper.Mapper
	used time.Time // its last frame
}

// abandonedAfter is how long an emission may sit without a frame before it
// is dropped: an attempt sends its frames within seconds, so one this idle
// stopped (a failed write, a lost claim) and is restarted from frame 0 if
// at all.
const abandonedAfter = 10 * time.Minute

// dropAbandoned forgets the emissions that stopped before their last frame.
// The caller holds p.mu.
func (p *pipeline) dropAbandoned() {
	for id, e := range p.matches {
		if p.now().Sub(e.used) > abandonedAfter {
			delete(p.matches, id)
		}
	}
}

func (p *pipeline) write(ctx context.Context, b mapper.Batch) error {
	if err := p.sink.Write(ctx, b); err != nil {
		return err
	}
	p.tel.emitted(len(b.Points), 0, 0)
	return nil
}

// playersInGame counts tracked players seen in a live game.
func (p *pipeline) playersInGame() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inGame)
}

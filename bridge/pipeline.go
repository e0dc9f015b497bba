package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/liveclient"
	"github.com/riftbridge/riftbridge/riot/source"
	"github.com/riftbridge/riftbridge/sink"
)

// Datadog's metric intake accepts points at most this far in the past or
// the future; older backfilled points are dropped unless historical metrics
// ingestion is enabled for the metric.
const (
	intakeMaxAge    = time.Hour
	intakeMaxFuture = 10 * time.Minute
)

// outsideIntake tells whether Datadog's intake would drop a point stamped t
// when it arrives at now.
func outsideIntake(t, now time.Time) bool {
	return !t.After(now.Add(-intakeMaxAge)) || !t.Before(now.Add(intakeMaxFuture))
}

// pipeline is the source.Emitter of a run and of a replay: it maps what the
// sources emit and delivers it to the sink. Spectator observations go out
// at once. A match's frames are each delivered before Frame returns nil:
// written and flushed under one lock, with the sink reporting nothing lost
// since, so that the source may record them as sent.
type pipeline struct {
	sink  sink.Sink
	opts  mapper.Options
	tel   *recorder
	clock clockwork.Clock
	// timebase puts a match's frames on the wall clock.
	timebase func(info mapper.MatchInfo, tl *riot.Timeline) mapper.Timebase
	// dropOutside, for finished matches in a run, counts the points
	// Datadog's intake would drop (older than an hour, or more than ten
	// minutes ahead after clock skew) instead of sending them; a backfilled
	// replay sends them and counts them.
	dropOutside bool
	// delivered, if set, is told of each frame once it is delivered.
	delivered func(f *riot.Frame, b mapper.Batch, outside int)

	// deliver serialises the write and flush of match frames, so that a
	// flush's report covers its own frame.
	deliver sync.Mutex

	// gameTime stamps a followed game's polls; zero lets the Agent stamp
	// them on arrival.
	gameTime func(p source.GamePoll) time.Time
	// polled, if set, is told of each poll once it is delivered.
	polled func(b mapper.Batch)

	mu     sync.Mutex
	inGame map[string]*riot.ActiveGame // tracked players' live games, by PUUID
}

var _ source.Emitter = (*pipeline)(nil)

func newPipeline(s sink.Sink, opts mapper.Options, tel *recorder, clock clockwork.Clock) *pipeline {
	p := &pipeline{sink: s, opts: opts, tel: tel, clock: clock, dropOutside: true, inGame: map[string]*riot.ActiveGame{}}
	p.timebase = p.runTimebase
	p.gameTime = func(source.GamePoll) time.Time { return time.Time{} }
	return p
}

// runTimebase stamps a finished match's frames at their true time: its
// start plus each frame's offset; without a start, as if it just ended.
func (p *pipeline) runTimebase(info mapper.MatchInfo, tl *riot.Timeline) mapper.Timebase {
	start := info.Start
	if start.IsZero() {
		frames := tl.Info.Frames
		start = p.clock.Now().Add(-time.Duration(frames[len(frames)-1].Timestamp) * time.Millisecond)
	}
	return mapper.Timebase{Origin: start, Speed: 1}
}

// Live implements source.Emitter.
func (p *pipeline) Live(ctx context.Context, l riot.Live) error {
	p.mu.Lock()
	if l.Game != nil && !l.Ended {
		p.inGame[l.Player.PUUID] = l.Game
	} else {
		delete(p.inGame, l.Player.PUUID)
	}
	p.mu.Unlock()
	b := mapper.Live(l, p.opts, p.clock.Now())
	if err := p.sink.Write(ctx, b); err != nil {
		return err
	}
	p.tel.emitted(len(b.Points), 0, 0)
	return nil
}

// BeginMatch implements source.Emitter: the frames before from are mapped
// now, for their running totals, and never sent.
func (p *pipeline) BeginMatch(_ context.Context, rec *riot.Recording, from int) (source.Emission, error) {
	frames := rec.Timeline.Info.Frames
	if from < 0 || from > len(frames) {
		return nil, fmt.Errorf("match %s: resume at frame %d of %d", rec.Name(), from, len(frames))
	}
	info := mapper.Describe(rec.Timeline, rec.Match)
	e := &emission{p: p, rec: rec, m: mapper.New(info, p.opts), tb: p.timebase(info, rec.Timeline), next: from}
	for i := range from {
		e.m.Frame(&frames[i], e.tb)
	}
	return e, nil
}

// emission is one match on its way through the pipeline.
type emission struct {
	p    *pipeline
	rec  *riot.Recording
	m    *mapper.Mapper
	tb   mapper.Timebase
	next int  // the frame Frame takes next
	done bool // ended, or failed
}

var errEnded = errors.New("emission ended")

// Frame implements source.Emission.
func (e *emission) Frame(ctx context.Context, i int) error {
	frames := e.rec.Timeline.Info.Frames
	switch {
	case e.done:
		return errEnded
	case i != e.next || i >= len(frames):
		return fmt.Errorf("frame %d out of order: %d comes next of %d", i, e.next, len(frames))
	}
	p := e.p
	b := e.m.Frame(&frames[i], e.tb)
	now := p.clock.Now()
	outside := 0
	kept := b.Points[:0]
	for _, pt := range b.Points {
		if !pt.Time.IsZero() && outsideIntake(pt.Time, now) {
			outside++
			if p.dropOutside {
				continue
			}
		}
		kept = append(kept, pt)
	}
	b.Points = kept
	if err := p.send(ctx, b); err != nil {
		e.done = true
		return err
	}
	e.next++
	matches := 0
	if e.next == len(frames) {
		matches = 1
	}
	dropped := 0
	if p.dropOutside {
		dropped = outside
	}
	p.tel.emitted(len(b.Points), dropped, matches)
	if p.delivered != nil {
		p.delivered(&frames[i], b, outside)
	}
	return nil
}

// End implements source.Emission.
func (e *emission) End() { e.done = true }

// send delivers b: it returns nil only once the sink has it out of the
// process with nothing lost since.
func (p *pipeline) send(ctx context.Context, b mapper.Batch) error {
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
	// Agent must have it: a crash then cannot lose it, and a frame the sink
	// could not deliver is sent again later.
	if err := p.sink.Flush(ctx); err != nil {
		p.tel.undelivered()
		return err
	}
	return nil
}

// playersInGame counts tracked players seen in a live game.
func (p *pipeline) playersInGame() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inGame)
}

// BeginGame implements source.Emitter.
func (p *pipeline) BeginGame(_ context.Context, key string, from int) (source.GameEmission, error) {
	if from < 0 {
		return nil, fmt.Errorf("game %s: resume at event %d", key, from)
	}
	return &gameEmission{p: p, key: key, m: mapper.NewLiveGame(p.opts), from: from}, nil
}

// gameEmission is one followed game on its way through the pipeline.
type gameEmission struct {
	p       *pipeline
	key     string
	m       *mapper.LiveGame
	from    int  // events before it were delivered by an earlier run
	resumed bool // the first poll folded them in
	done    bool
}

// Poll implements source.GameEmission.
func (e *gameEmission) Poll(ctx context.Context, gp source.GamePoll) error {
	if e.done {
		return errEnded
	}
	if !e.resumed {
		var old []liveclient.Event
		for _, ev := range gp.Game.Events.Events {
			if ev.EventID < e.from {
				old = append(old, ev)
			}
		}
		e.m.Resume(old)
		e.resumed = true
	}
	p := e.p
	b := e.m.Poll(mapper.LivePoll{Game: gp.Game, Events: gp.Events, MatchID: p.matchOf(gp.Game), At: p.gameTime(gp)})
	if err := p.send(ctx, b); err != nil {
		e.done = true
		return err
	}
	p.tel.emitted(len(b.Points), 0, 0)
	if p.polled != nil {
		p.polled(b)
	}
	return nil
}

// End implements source.GameEmission.
func (e *gameEmission) End() { e.done = true }

// matchOf is the match id of the followed game g when a tracked player is
// in it: the spectator's game holding one of g's players. Without one,
// none: the Live Client serves no id, and one is never made up.
func (p *pipeline) matchOf(g *liveclient.AllGameData) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.inGame) == 0 {
		return ""
	}
	ids := map[string]bool{}
	for i := range g.AllPlayers {
		if id := liveRiotID(&g.AllPlayers[i]); id != "" {
			ids[strings.ToLower(id)] = true
		}
	}
	for _, game := range p.inGame {
		for _, part := range game.Participants {
			if part.RiotID != "" && ids[strings.ToLower(part.RiotID)] {
				return game.MatchID()
			}
		}
	}
	return ""
}

// liveRiotID is pl's Riot ID, "Name#TAG", if its client sends one.
func liveRiotID(pl *liveclient.Player) string {
	switch {
	case pl.RiotID != "":
		return pl.RiotID
	case pl.RiotIDGameName != "" && pl.RiotIDTagLine != "":
		return pl.RiotIDGameName + "#" + pl.RiotIDTagLine
	}
	return ""
}

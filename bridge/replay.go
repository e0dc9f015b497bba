package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/config"
	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/liveclient"
	"github.com/riftbridge/riftbridge/riot/source"
	"github.com/riftbridge/riftbridge/sink"
)

// ReplaySummary is what a replay delivered.
type ReplaySummary struct {
	Match string // the match id, or the file without one
	// Frames of a timeline, or Polls of a followed game, delivered.
	Frames, Polls  int
	Points, Events int
	Elapsed        time.Duration
	Sink           string // the sink, and where it sent
}

// Replay is riftbridge replay: it plays the recording the config load
// returns names back through the same pipeline as a run, each frame (or
// poll) delivered before the next: a match-v5 timeline (replay.timeline,
// replay.match), or a game followed through the Live Client Data API
// (replay.liveclient). With replay.backfill every point carries its true
// historical time; otherwise the game is re-lived now at replay.speed.
func Replay(ctx context.Context, load func() (*config.Config, error), opts ...Option) (ReplaySummary, error) {
	o := newOptions(opts)
	cfg, err := load()
	if err != nil {
		return ReplaySummary{}, err
	}
	r := &replay{cfg: cfg, o: o, log: NewLogger(cfg, o.stderr), clock: clockwork.NewRealClock()}
	r.start = r.clock.Now()
	switch {
	case cfg.Replay.LiveClient != "":
		return r.game(ctx)
	case len(cfg.Replay.Timeline) > 0:
		return r.match(ctx)
	}
	return ReplaySummary{}, &InputError{errors.New(`"replay.timeline": required: pass --timeline FILE, or --liveclient FILE for a followed game`)}
}

// replay is one riftbridge replay.
type replay struct {
	cfg   *config.Config
	o     options
	log   *slog.Logger
	clock clockwork.Clock
	start time.Time
	sum   ReplaySummary
	total int // frames or polls to deliver
	// outside counts backfilled points Datadog's intake will drop.
	outside int
}

// match replays a timeline.
func (r *replay) match(ctx context.Context) (ReplaySummary, error) {
	cfg := r.cfg
	rec, err := riot.LoadRecording(cfg.Replay.Timeline, cfg.Replay.Match)
	if err != nil {
		return ReplaySummary{}, &InputError{err}
	}
	info := mapper.Describe(rec.Timeline, rec.Match)
	r.sum.Match = rec.Name()
	if info.MatchID != "" {
		r.sum.Match = info.MatchID
	}
	tb := mapper.Timebase{Origin: r.start, Speed: cfg.Replay.Speed}
	if cfg.Replay.Backfill {
		if info.Start.IsZero() {
			return ReplaySummary{}, &InputError{fmt.Errorf("%s: --backfill needs the game start time, which this timeline lacks: pass --match with the match file", rec.Files[0])}
		}
		tb = mapper.Timebase{Origin: info.Start, Speed: 1}
	}
	frames := rec.Timeline.Info.Frames
	var curve goldCurve
	return r.run(ctx, len(frames), func(p *pipeline, set telemetry.Settings) source.Source {
		p.timebase = func(mapper.MatchInfo, *riot.Timeline) mapper.Timebase { return tb }
		p.delivered = func(f *riot.Frame, b mapper.Batch, outside int) {
			r.sum.Frames++
			r.delivered(b, outside)
			curve.add(f.Timestamp, b.Points)
		}
		return source.NewReplay(rec, set, source.WithSpeed(cfg.Replay.Speed))
	}, func() error {
		if cfg.Replay.Plot == "" {
			return nil
		}
		return curve.plot(cfg.Replay.Plot, r.sum.Match)
	})
}

// game replays a followed game.
func (r *replay) game(ctx context.Context) (ReplaySummary, error) {
	cfg := r.cfg
	rec, err := liveclient.LoadRecording(cfg.Replay.LiveClient)
	if err != nil {
		return ReplaySummary{}, &InputError{err}
	}
	if cfg.Replay.Backfill && rec.Polls[0].At.IsZero() {
		return ReplaySummary{}, &InputError{fmt.Errorf("%s: --backfill needs the time of each poll, which a snapshot lacks: record the game with riftbridge record", rec.File)}
	}
	r.sum.Match = rec.File
	return r.run(ctx, len(rec.Polls), func(p *pipeline, set telemetry.Settings) source.Source {
		if cfg.Replay.Backfill {
			p.gameTime = func(gp source.GamePoll) time.Time { return gp.At }
		}
		p.polled = func(b mapper.Batch) {
			r.sum.Polls++
			outside := 0
			for _, pt := range b.Points {
				if !pt.Time.IsZero() && outsideIntake(pt.Time, r.clock.Now()) {
					outside++
				}
			}
			r.delivered(b, outside)
		}
		return source.NewGameReplay(rec, set, source.WithSpeed(cfg.Replay.Speed))
	}, func() error { return nil })
}

// delivered adds a delivered frame or poll to the summary.
func (r *replay) delivered(b mapper.Batch, outside int) {
	r.sum.Points += len(b.Points)
	r.sum.Events += len(b.Events)
	if r.cfg.Replay.Backfill {
		r.outside += outside
	}
	if r.o.progress != nil {
		r.o.progress(r.sum.Frames+r.sum.Polls, r.total)
	}
}

// run sends what newSource builds through a pipeline into the configured
// sink: total frames or polls, then finish once all are delivered.
func (r *replay) run(ctx context.Context, total int, newSource func(*pipeline, telemetry.Settings) source.Source, finish func() error) (ReplaySummary, error) {
	cfg := r.cfg
	r.total = total
	tel := newRecorder(r.clock)
	set := telemetry.Settings{Clock: r.clock, Logger: r.log, Observer: tel}
	out, err := newSink(cfg, r.o.stdout, cfg.Replay.Backfill, set)
	if err != nil {
		return ReplaySummary{}, err
	}
	defer func() {
		// Closed below on success; this bounds the flush of a failed or
		// stopped replay.
		closing, cancel := context.WithTimeout(context.Background(), shutdownBudget)
		defer cancel()
		_ = out.Close(closing)
	}()
	r.sum.Sink = sinkName(out)
	p := newPipeline(out, mapper.Options{DropTags: cfg.Metrics.DropTags}, tel, r.clock)
	// A replay sends what it is asked to; with --backfill it counts what
	// the intake will drop, to say so once at the end.
	p.dropOutside = false

	err = newSource(p, set).Run(ctx, p)
	if ctx.Err() != nil {
		// Stopped by a signal: what was sent is delivered; say how far it got.
		return r.sum, fmt.Errorf("replay %s: stopped after %d of %d %s, each delivered: %w",
			r.sum.Match, r.sum.Frames+r.sum.Polls, total, r.unit(), context.Cause(ctx))
	}
	// The source's errors name the replay and the frame already.
	if err == nil {
		if err = out.Close(ctx); err != nil {
			err = fmt.Errorf("replay %s: %w", r.sum.Match, err)
		}
	}
	if errors.Is(err, sink.ErrUndelivered) {
		return r.sum, fmt.Errorf("%w; is the Datadog Agent listening there?", err)
	}
	if err != nil {
		return r.sum, err
	}
	if r.outside > 0 {
		r.log.Warn("backfilled points fall outside Datadog's intake window (1 h past, 10 min future); the intake drops them unless historical metrics ingestion is enabled for these metrics",
			"outside", r.outside, "points", r.sum.Points)
	}
	if err := finish(); err != nil {
		return r.sum, err
	}
	r.sum.Elapsed = r.clock.Since(r.start)
	return r.sum, nil
}

func (r *replay) unit() string {
	if r.cfg.Replay.LiveClient != "" {
		return "polls"
	}
	return "frames"
}

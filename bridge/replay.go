package bridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/config"
	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/source"
	"github.com/riftbridge/riftbridge/sink"
)

// ReplaySummary is what a replay delivered.
type ReplaySummary struct {
	Match                  string // the match id, or the timeline file without one
	Frames, Points, Events int
	Elapsed                time.Duration
	Sink                   string // the sink, and where it sent
}

// Replay is riftbridge replay: it plays the recording the config load
// returns names (replay.timeline, replay.match) back through the same
// pipeline as a run, frame by frame, each frame delivered before the next.
// With replay.backfill every point carries its true historical time;
// otherwise the match is re-lived now at replay.speed.
func Replay(ctx context.Context, load func() (*config.Config, error), opts ...Option) (ReplaySummary, error) {
	o := newOptions(opts)
	cfg, err := load()
	if err != nil {
		return ReplaySummary{}, err
	}
	if len(cfg.Replay.Timeline) == 0 {
		return ReplaySummary{}, &InputError{errors.New(`"replay.timeline": required: pass --timeline FILE`)}
	}
	rec, err := riot.LoadRecording(cfg.Replay.Timeline, cfg.Replay.Match)
	if err != nil {
		return ReplaySummary{}, &InputError{err}
	}
	info := mapper.Describe(rec.Timeline, rec.Match)
	sum := ReplaySummary{Match: rec.Name()}
	if info.MatchID != "" {
		sum.Match = info.MatchID
	}
	log := NewLogger(cfg, o.stderr)
	clock := clockwork.NewRealClock()
	start := clock.Now()
	tb := mapper.Timebase{Origin: start, Speed: cfg.Replay.Speed}
	if cfg.Replay.Backfill {
		if info.Start.IsZero() {
			return ReplaySummary{}, &InputError{fmt.Errorf("%s: --backfill needs the game start time, which this timeline lacks: pass --match with the match file", rec.Files[0])}
		}
		tb = mapper.Timebase{Origin: info.Start, Speed: 1}
	}

	tel := newRecorder(clock)
	set := telemetry.Settings{Clock: clock, Logger: log, Observer: tel}
	out, err := newSink(cfg, o.stdout, cfg.Replay.Backfill, set)
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
	sum.Sink = sinkName(out)

	frames := rec.Timeline.Info.Frames
	var curve goldCurve
	outside := 0
	p := newPipeline(out, mapper.Options{DropTags: cfg.Metrics.DropTags}, tel, clock)
	p.timebase = func(mapper.MatchInfo, *riot.Timeline) mapper.Timebase { return tb }
	// A replay sends what it is asked to; with --backfill it counts what
	// the intake will drop, to say so once at the end.
	p.dropOutside = false
	p.delivered = func(f *riot.Frame, b mapper.Batch, n int) {
		sum.Frames++
		sum.Points += len(b.Points)
		sum.Events += len(b.Events)
		curve.add(f.Timestamp, b.Points)
		if cfg.Replay.Backfill {
			outside += n
		}
		if o.progress != nil {
			o.progress(sum.Frames, len(frames))
		}
	}

	err = source.NewReplay(rec, set, source.WithSpeed(cfg.Replay.Speed)).Run(ctx, p)
	if ctx.Err() != nil {
		// Stopped by a signal: what was sent is delivered; say how far it got.
		return sum, fmt.Errorf("replay %s: stopped after %d of %d frames, each delivered: %w",
			sum.Match, sum.Frames, len(frames), context.Cause(ctx))
	}
	// The source's errors name the replay and the frame already.
	if err == nil {
		if err = out.Close(ctx); err != nil {
			err = fmt.Errorf("replay %s: %w", sum.Match, err)
		}
	}
	if errors.Is(err, sink.ErrUndelivered) {
		return sum, fmt.Errorf("%w; is the Datadog Agent listening there?", err)
	}
	if err != nil {
		return sum, err
	}
	if outside > 0 {
		log.Warn("backfilled points fall outside Datadog's intake window (1 h past, 10 min future); the intake drops them unless historical metrics ingestion is enabled for these metrics",
			"outside", outside, "points", sum.Points)
	}
	if cfg.Replay.Plot != "" {
		if err := curve.plot(cfg.Replay.Plot, sum.Match); err != nil {
			return sum, err
		}
	}
	sum.Elapsed = clock.Since(start)
	return sum, nil
}

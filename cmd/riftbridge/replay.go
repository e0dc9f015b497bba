package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/riftbridge/riftbridge/config"
	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/sink"
)

// Datadog's metric intake accepts points at most this far in the past or the
// future; older backfilled points are dropped unless historical metrics
// ingestion is enabled for the metric.
const (
	intakeMaxAge    = time.Hour
	intakeMaxFuture = 10 * time.Minute
)

var replayFlagKeys = map[string]string{
	"timeline": "replay.timeline",
	"match":    "replay.match",
	"speed":    "replay.speed",
	"backfill": "replay.backfill",
	"plot":     "replay.plot",
}

func newReplayCmd(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "replay --timeline FILE [--match FILE]",
		Short: "Replay a recorded match into Datadog (or stdout)",
		Long: `Replay a recorded match-v5 timeline, optionally with its match file, through the
mapper into the configured sink. --speed N re-lives the match at N× real time
with current timestamps (0 = as fast as possible); --backfill sends every
point with its true historical timestamp instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, g, replayFlagKeys, (*config.Config).Validate)
			if err != nil {
				return err
			}
			if len(cfg.Replay.Timeline) == 0 {
				return badInput{errors.New(`"replay.timeline": required: pass --timeline FILE`)}
			}
			return replay(cmd.Context(), cfg, stdout, stderr, newLogger(cfg, stderr))
		},
	}
	f := cmd.Flags()
	f.StringSlice("timeline", nil, "match-v5 timeline JSON, or one-frame fragments to combine (repeatable)")
	f.String("match", "", "match-v5 match JSON of the same game, for champion/position/queue/patch tags")
	f.Float64("speed", 0, "replay at N× real time; 0 = as fast as possible")
	f.Bool("backfill", false, "send each point with its true historical timestamp (DogStatsD |T)")
	f.String("plot", "", "write a PNG of the team gold curves and gold diff to this file")
	return cmd
}

// replaySummary is what a replay did, for the closing line.
type replaySummary struct {
	frames, points, events int
	outsideIntake          int
	curve                  goldCurve
}

func replay(ctx context.Context, cfg *config.Config, stdout, stderr io.Writer, log *slog.Logger) error {
	rec, err := riot.LoadRecording(cfg.Replay.Timeline, cfg.Replay.Match)
	if err != nil {
		return badInput{err}
	}
	info := mapper.Describe(rec.Timeline, rec.Match)
	start := time.Now()
	tb := mapper.Timebase{Origin: start, Speed: cfg.Replay.Speed}
	if cfg.Replay.Backfill {
		if info.Start.IsZero() {
			return badInput{fmt.Errorf("%s: --backfill needs the game start time, which this timeline lacks: pass --match with the match file", rec.Files[0])}
		}
		tb = mapper.Timebase{Origin: info.Start, Speed: 1}
	}

	out, err := newSink(cfg, stdout, cfg.Replay.Backfill, log)
	if err != nil {
		return err
	}
	defer out.Close()

	frames := rec.Timeline.Info.Frames
	bar := newProgressBar(stderr, len(frames))
	m := mapper.New(info, mapper.Options{DropTags: cfg.Metrics.DropTags})
	var sum replaySummary
	src := &riot.Replay{Recording: rec, Speed: cfg.Replay.Speed}
	err = src.Run(ctx, func(ctx context.Context, u riot.Update) error {
		b := m.Frame(&frames[u.Frame], tb)
		sum.points += len(b.Points)
		sum.events += len(b.Events)
		sum.curve.add(frames[u.Frame].Timestamp, b.Points)
		if cfg.Replay.Backfill {
			sum.outsideIntake += countOutsideIntake(b.Points, start)
		}
		if bar != nil {
			_ = bar.Add(1)
		}
		if err := out.Write(ctx, b); err != nil {
			return err
		}
		// Frame by frame, so a replay into an Agent that is gone stops at
		// the first frame it lost instead of sending the rest into the void.
		if err := out.Flush(ctx); err != nil {
			return err
		}
		sum.frames++
		return nil
	})
	if bar != nil {
		_ = bar.Finish()
	}
	if ctx.Err() != nil {
		// Stopped by a signal: what was sent is delivered; say how far it got.
		return fmt.Errorf("replay %s: stopped after %d of %d frames, each delivered: %w",
			describeMatch(info, rec), sum.frames, len(frames), context.Cause(ctx))
	}
	// The source's errors name the replay and the frame already.
	if err == nil {
		if err = out.Close(); err != nil {
			err = fmt.Errorf("replay %s: %w", describeMatch(info, rec), err)
		}
	}
	if errors.Is(err, sink.ErrUndelivered) {
		return fmt.Errorf("%w; is the Datadog Agent listening there?", err)
	}
	if err != nil {
		return err
	}
	if sum.outsideIntake > 0 {
		log.Warn("backfilled points fall outside Datadog's intake window (1 h past, 10 min future); the intake drops them unless historical metrics ingestion is enabled for these metrics",
			"outside", sum.outsideIntake, "points", sum.points)
	}
	if cfg.Replay.Plot != "" {
		if err := sum.curve.plot(cfg.Replay.Plot, describeMatch(info, rec)); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "replayed %s: %d frames, %d points, %d events in %.2fs to %s\n",
		describeMatch(info, rec), sum.frames, sum.points, sum.events, time.Since(start).Seconds(), sinkName(out))
	return nil
}

func describeMatch(info mapper.MatchInfo, rec *riot.Recording) string {
	if info.MatchID != "" {
		return info.MatchID
	}
	return rec.Files[0]
}

func countOutsideIntake(points []mapper.Point, now time.Time) int {
	n := 0
	for _, p := range points {
		if p.Time.Before(now.Add(-intakeMaxAge)) || p.Time.After(now.Add(intakeMaxFuture)) {
			n++
		}
	}
	return n
}

// newProgressBar draws on a terminal only, so pipes and CI logs stay clean.
func newProgressBar(stderr io.Writer, total int) *progressbar.ProgressBar {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("replaying"),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
	)
}

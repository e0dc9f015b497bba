package main

import (
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/riftbridge/riftbridge/bridge"
	"github.com/riftbridge/riftbridge/config"
)

var replayFlagKeys = map[string]string{
	"timeline":   "replay.timeline",
	"match":      "replay.match",
	"speed":      "replay.speed",
	"backfill":   "replay.backfill",
	"plot":       "replay.plot",
	"liveclient": "replay.liveclient",
}

func newReplayCmd(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "replay --timeline FILE [--match FILE] | --liveclient FILE",
		Short: "Replay a recorded match or followed game into Datadog (or stdout)",
		Long: `Replay a recorded match-v5 timeline, optionally with its match file, or a game
followed through the Live Client Data API (a riftbridge record file, or one
allgamedata snapshot), through the mapper into the configured sink. --speed N
re-lives it at N× real time with current timestamps (0 = as fast as possible);
--backfill sends every point with its true historical timestamp instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			load := func() (*config.Config, error) {
				return loadConfig(cmd, g, replayFlagKeys, (*config.Config).Validate)
			}
			opts := []bridge.Option{bridge.WithOutput(stdout, stderr)}
			bar := newProgressBar(stderr)
			if bar != nil {
				opts = append(opts, bridge.WithProgress(bar.update))
				defer bar.finish()
			}
			sum, err := bridge.Replay(cmd.Context(), load, opts...)
			if err != nil {
				return err
			}
			bar.finish()
			delivered := fmt.Sprintf("%d frames", sum.Frames)
			if sum.Polls > 0 {
				delivered = fmt.Sprintf("%d polls", sum.Polls)
			}
			fmt.Fprintf(stderr, "replayed %s: %s, %d points, %d events in %.2fs to %s\n",
				sum.Match, delivered, sum.Points, sum.Events, sum.Elapsed.Seconds(), sum.Sink)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSlice("timeline", nil, "match-v5 timeline JSON, or one-frame fragments to combine (repeatable)")
	f.String("match", "", "match-v5 match JSON of the same game, for champion/position/queue/patch tags")
	f.Float64("speed", 0, "replay at N× real time; 0 = as fast as possible")
	f.Bool("backfill", false, "send each point with its true historical timestamp (DogStatsD |T)")
	f.String("plot", "", "write a PNG of the team gold curves and gold diff to this file")
	f.String("liveclient", "", "a game followed through the Live Client Data API: a riftbridge record file, or an allgamedata snapshot")
	return cmd
}

// progressBar draws the replay's progress on a terminal only, so pipes and
// CI logs stay clean.
type progressBar struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func newProgressBar(stderr io.Writer) *progressBar {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progressBar{w: stderr}
}

func (p *progressBar) update(done, total int) {
	if p.bar == nil {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription("replaying"),
			progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish(),
		)
	}
	_ = p.bar.Set(done)
}

// finish clears the bar; it is safe to call on no bar, and twice.
func (p *progressBar) finish() {
	if p == nil || p.bar == nil {
		return
	}
	_ = p.bar.Finish()
	p.bar = nil
}

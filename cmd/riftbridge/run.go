package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/riftbridge/riftbridge/bridge"
	"github.com/riftbridge/riftbridge/config"
)

func newRunCmd(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "run --config FILE",
		Short: "Watch players live and send their games to Datadog",
		Long: `Watch the players of the config file: spectator-v5 for live games, then
match-v5 match + timeline once each game is processed, mapped and sent to the
Datadog Agent. Editing the config file (or SIGHUP) applies new players and
intervals without a restart. SIGTERM or SIGINT stop polling, flush and exit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Called again on every reload, with the same flags.
			load := func() (*config.Config, error) {
				return loadConfig(cmd, g, nil, (*config.Config).ValidateRun)
			}
			return bridge.Run(cmd.Context(), load, bridge.WithOutput(stdout, stderr), bridge.WithConfigFile(g.configFile))
		},
	}
}

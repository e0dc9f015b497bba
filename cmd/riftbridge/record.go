package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/riftbridge/riftbridge/bridge"
	"github.com/riftbridge/riftbridge/config"
)

var recordFlagKeys = map[string]string{
	"liveclient-addr": "liveclient.address",
	"ca-file":         "liveclient.ca_file",
	"interval":        "liveclient.interval",
}

func newRecordCmd(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "record --out FILE",
		Short: "Save a game followed through the Live Client Data API, to replay it later",
		Long: `Wait for the game client (liveclient.address) to serve a game, follow it as
riftbridge run does, and save every answer to FILE (gzipped if it ends in .gz)
until the game ends or the client goes away; Ctrl-C stops early and keeps what
was saved. riftbridge replay --liveclient FILE plays it back.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return &bridge.InputError{Err: errors.New("record: --out FILE is required")}
			}
			load := func() (*config.Config, error) {
				return loadConfig(cmd, g, recordFlagKeys, (*config.Config).Validate)
			}
			sum, err := bridge.Record(cmd.Context(), load, out, bridge.WithOutput(stdout, stderr))
			if err != nil {
				return err
			}
			if sum.Polls == 0 {
				fmt.Fprintln(stderr, "recorded nothing: no game was served")
				return nil
			}
			fmt.Fprintf(stderr, "recorded game %s: %d polls, %d events to %s\n", sum.Game, sum.Polls, sum.Events, sum.File)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "file to save the game to; .gz compresses it")
	f.String("liveclient-addr", config.DefaultLiveClientAddress, "the game client's Live Client Data API")
	f.String("ca-file", "", "PEM root the API's certificate must chain to (default: Riot's, bundled)")
	f.Duration("interval", time.Second, "time between polls")
	return cmd
}

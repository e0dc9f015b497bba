package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/riftbridge/riftbridge/bridge"
	"github.com/riftbridge/riftbridge/config"
	"github.com/riftbridge/riftbridge/dashboards"
)

// globalFlags are shared by every subcommand.
type globalFlags struct {
	configFile string
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	var g globalFlags
	root := &cobra.Command{
		Use:           "riftbridge",
		Short:         "Bridge League of Legends match telemetry into Datadog",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&g.configFile, "config", os.Getenv(config.EnvPrefix+"_CONFIG"), "config file (YAML); env "+config.EnvPrefix+"_CONFIG")
	root.PersistentFlags().String("log-level", "info", "log level: debug, info, warn, error")
	root.PersistentFlags().String("sink", config.SinkDogStatsD, "where points go: dogstatsd or stdout")
	root.PersistentFlags().String("statsd-addr", "127.0.0.1:8125", "DogStatsD address: host:port, udp://host:port or unix:///path; empty reads DD_DOGSTATSD_URL/DD_AGENT_HOST; empty or the default prefers the Agent's socket when it exists")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &bridge.InputError{Err: err} })

	loadDashboards := func(cmd *cobra.Command) (dashboards.Config, string, *slog.Logger, error) {
		// Validate, not ValidateRun: export and push need no Riot key.
		cfg, err := loadConfig(cmd, &g, nil, (*config.Config).Validate)
		if err != nil {
			return dashboards.Config{}, "", nil, err
		}
		return cfg.Dashboards, cfg.Metrics.Prefix(), bridge.NewLogger(cfg, stderr), nil
	}
	root.AddCommand(
		newReplayCmd(&g, stdout, stderr),
		newRecordCmd(&g, stdout, stderr),
		newRunCmd(&g, stdout, stderr),
		newDashboardsCmd(loadDashboards, stdout),
		newVersionCmd(stdout),
	)
	return root
}

// persistentFlagKeys maps the root's flags to their config keys.
var persistentFlagKeys = map[string]string{
	"log-level":   "log.level",
	"sink":        "sink",
	"statsd-addr": "statsd.address",
}

// loadConfig loads the configuration for a subcommand whose own flags map to
// config keys through flagKeys, and checks it with validate (such as
// (*config.Config).Validate).
func loadConfig(cmd *cobra.Command, g *globalFlags, flagKeys map[string]string, validate func(*config.Config) error) (*config.Config, error) {
	keys := map[string]string{}
	for name, key := range persistentFlagKeys {
		keys[name] = key
	}
	for name, key := range flagKeys {
		keys[name] = key
	}
	flags := pflag.NewFlagSet("all", pflag.ContinueOnError)
	flags.AddFlagSet(cmd.Flags())
	flags.AddFlagSet(cmd.InheritedFlags())
	cfg, err := config.Load(g.configFile, flags, keys)
	if err != nil {
		return nil, &bridge.InputError{Err: err}
	}
	if err := validate(cfg); err != nil {
		// Validate reports every problem; one line names them all.
		return nil, &bridge.InputError{Err: fmt.Errorf("invalid configuration: %s", strings.ReplaceAll(err.Error(), "\n", "; "))}
	}
	return cfg, nil
}

package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/riftbridge/riftbridge/bridge"
	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/dashboards"
)

// dashboardsLoader returns the validated `dashboards:` config section, the
// metric namespace and the process logger.
type dashboardsLoader func(cmd *cobra.Command) (dashboards.Config, string, *slog.Logger, error)

// newDashboardsCmd returns `riftbridge dashboards` with its export and push
// subcommands.
func newDashboardsCmd(load dashboardsLoader, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dashboards",
		Short: "Export or push the Datadog dashboards, monitors and downtimes generated from the metric catalog",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newDashboardsExportCmd(load, stdout), newDashboardsPushCmd(load, stdout))
	return cmd
}

func newDashboardsExportCmd(load dashboardsLoader, stdout io.Writer) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export --out DIR",
		Short: "Write the definitions as Datadog API request bodies (JSON) under DIR",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return &bridge.InputError{Err: errors.New("dashboards export: --out DIR is required")}
			}
			cfg, ns, _, err := load(cmd)
			if err != nil {
				return err
			}
			set, err := dashboards.Build(ns, cfg, time.Now())
			if err != nil {
				return err
			}
			paths, err := dashboards.Export(out, set)
			if err != nil {
				return err
			}
			for _, p := range paths {
				if _, err := fmt.Fprintln(stdout, p); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write dashboards/, monitors/ and downtimes/ into")
	return cmd
}

func newDashboardsPushCmd(load dashboardsLoader, stdout io.Writer) *cobra.Command {
	var apiURL string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "push [--api-url URL] [--dry-run]",
		Short: "Create or update the dashboards, monitors and downtimes in Datadog",
		Long: `Create riftbridge's dashboards, monitors and downtimes in Datadog, or update
them in place when they exist (found by title or name and the managed_by:riftbridge
marker). Keys come from DD_API_KEY and DD_APP_KEY, the site from DD_SITE
(datadoghq.com, datadoghq.eu, us3, us5, ap1, ap2, ddog-gov); --api-url overrides
the site for proxies and tests. --dry-run reads what exists and prints the plan
without writing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, ns, log, err := load(cmd)
			if err != nil {
				return err
			}
			set, err := dashboards.Build(ns, cfg, time.Now())
			if err != nil {
				return err
			}
			apiKey, appKey := os.Getenv("DD_API_KEY"), os.Getenv("DD_APP_KEY")
			client, err := dashboards.NewClient(apiKey, appKey, telemetry.Settings{Logger: log},
				dashboards.WithSite(os.Getenv("DD_SITE")), dashboards.WithAPIURL(apiURL))
			if err != nil {
				return &bridge.InputError{Err: fmt.Errorf("dashboards push: %w", err)}
			}
			err = push(cmd, client, set, dryRun, stdout)
			if err != nil {
				// Defence in depth: no error path should carry a key, and none may print one.
				return errors.New(redact(err.Error(), apiKey, appKey))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&apiURL, "api-url", "", "Datadog API base URL, overriding DD_SITE (proxies, tests)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would change and write nothing")
	return cmd
}

// pastTense words the closing lines of a push.
var pastTense = map[dashboards.Verb]string{
	dashboards.Create: "created", dashboards.Update: "updated",
	dashboards.Unchanged: "unchanged", dashboards.Cancel: "canceled",
}

func push(cmd *cobra.Command, client *dashboards.Client, set dashboards.Set, dryRun bool, stdout io.Writer) error {
	plan, err := client.Plan(cmd.Context(), set)
	if err != nil {
		return fmt.Errorf("dashboards push: %w", err)
	}
	counts := map[dashboards.Verb]int{}
	if dryRun {
		var lines []string
		for _, a := range plan.Actions() {
			counts[a.Verb]++
			lines = append(lines, a.String())
		}
		lines = append(lines, fmt.Sprintf("dry run: %d to create, %d to update, %d unchanged, %d to cancel; nothing written",
			counts[dashboards.Create], counts[dashboards.Update], counts[dashboards.Unchanged], counts[dashboards.Cancel]))
		_, err := fmt.Fprintln(stdout, strings.Join(lines, "\n"))
		return err
	}
	var werr error
	err = client.Apply(cmd.Context(), plan, func(a dashboards.Action) {
		counts[a.Verb]++
		if werr == nil {
			_, werr = fmt.Fprintln(stdout, pastTense[a.Verb]+strings.TrimPrefix(a.String(), string(a.Verb)))
		}
	})
	if err != nil {
		return fmt.Errorf("dashboards push: %w", err)
	}
	if werr != nil {
		return werr
	}
	_, err = fmt.Fprintf(stdout, "pushed: %d created, %d updated, %d unchanged, %d canceled\n",
		counts[dashboards.Create], counts[dashboards.Update], counts[dashboards.Unchanged], counts[dashboards.Cancel])
	return err
}

// redact replaces every secret in s.
func redact(s string, secrets ...string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "REDACTED")
		}
	}
	return s
}

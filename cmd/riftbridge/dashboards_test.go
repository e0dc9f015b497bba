package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/riftbridge/riftbridge/bridge"
	"github.com/riftbridge/riftbridge/dashboards"
	"github.com/riftbridge/riftbridge/dashboards/ddtest"
)

const (
	ddAPIKey = "0123456789abcdef0123456789abcdef"
	ddAppKey = "fedcba9876543210fedcba9876543210fedcba98"
)

// runDashboards runs `dashboards ARGS` with the default config section.
func runDashboards(t *testing.T, args ...string) (string, error) {
	t.Helper()
	load := func(*cobra.Command) (dashboards.Config, string, *slog.Logger, error) {
		return dashboards.DefaultConfig(), "lol.", nil, nil
	}
	var out bytes.Buffer
	cmd := newDashboardsCmd(load, &out)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

func setKeys(t *testing.T, apiKey, appKey string) {
	t.Setenv("DD_API_KEY", apiKey)
	t.Setenv("DD_APP_KEY", appKey)
	t.Setenv("DD_SITE", "")
}

func TestDashboardsExport(t *testing.T) {
	dir := t.TempDir()
	out, err := runDashboards(t, "export", "--out", dir)
	if err != nil {
		t.Fatal(err)
	}
	paths := strings.Fields(out)
	if len(paths) != 7 {
		t.Fatalf("export listed %d files, want 7:\n%s", len(paths), out)
	}
	for _, want := range []string{"dashboards/match.json", "monitors/gold-diff.json", "downtimes/weekends.json"} {
		if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
			t.Errorf("export did not write %s: %v", want, err)
		}
	}

	_, err = runDashboards(t, "export")
	var bad *bridge.InputError
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), "--out DIR is required") {
		t.Errorf("export without --out: %v, want bad input", err)
	}
}

func TestDashboardsPushTwice(t *testing.T) {
	srv := ddtest.New(t, ddAPIKey, ddAppKey)
	setKeys(t, ddAPIKey, ddAppKey)

	out, err := runDashboards(t, "push", "--api-url", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(out, "created ") != 7 || !strings.HasSuffix(out, "pushed: 7 created, 0 updated, 0 unchanged, 0 canceled\n") {
		t.Errorf("first push printed:\n%s", out)
	}
	if !strings.Contains(out, `created monitor "riftbridge: gold difference" (id `) {
		t.Errorf("first push does not name the monitor and its id:\n%s", out)
	}
	writes := len(srv.Writes())

	out, err = runDashboards(t, "push", "--api-url", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out, "pushed: 0 created, 0 updated, 7 unchanged, 0 canceled\n") {
		t.Errorf("second push printed:\n%s", out)
	}
	if n := len(srv.Writes()); n != writes {
		t.Errorf("second push wrote %d requests, want none", n-writes)
	}
	if len(srv.Dashboards()) != 2 || len(srv.Monitors()) != 3 || len(srv.Downtimes()) != 2 {
		t.Errorf("duplicates: %d dashboards, %d monitors, %d downtimes", len(srv.Dashboards()), len(srv.Monitors()), len(srv.Downtimes()))
	}
}

func TestDashboardsPushDryRun(t *testing.T) {
	srv := ddtest.New(t, ddAPIKey, ddAppKey)
	setKeys(t, ddAPIKey, ddAppKey)
	out, err := runDashboards(t, "push", "--dry-run", "--api-url", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`create dashboard "riftbridge: League of Legends match"`,
		`create monitor "riftbridge: Riot API rate limited"`,
		`create downtime "riftbridge: weeknights"`,
		"dry run: 7 to create, 0 to update, 0 unchanged, 0 to cancel; nothing written",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if w := srv.Writes(); len(w) != 0 {
		t.Errorf("dry run made %d write requests", len(w))
	}
	if len(srv.Requests()) == 0 {
		t.Error("dry run did not read the live state")
	}
}

func TestDashboardsPushRefused(t *testing.T) {
	srv := ddtest.New(t, ddAPIKey, ddAppKey)
	cases := []struct {
		name           string
		apiKey, appKey string
		args           []string
		wantBad        bool
		want           string
	}{
		{"wrong api key", "bad0bad0bad0bad0bad0bad0bad0bad0", ddAppKey, nil, false,
			"dashboards push: list dashboards: GET /api/v1/dashboard: 403 Forbidden: check DD_API_KEY, DD_APP_KEY and DD_SITE"},
		{"wrong app key", ddAPIKey, "bad1bad1bad1bad1bad1bad1bad1bad1bad1bad1", nil, false,
			"dashboards push: list dashboards: GET /api/v1/dashboard: 403 Forbidden: check DD_API_KEY, DD_APP_KEY and DD_SITE"},
		{"missing keys", "", "", nil, true, "dashboards push: DD_API_KEY and DD_APP_KEY must both be set"},
		{"unknown site", ddAPIKey, ddAppKey, []string{"--api-url", ""}, true, `dashboards push: DD_SITE "moon" is not a Datadog site`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			setKeys(t, tc.apiKey, tc.appKey)
			args := []string{"push", "--api-url", srv.URL}
			if tc.args != nil {
				t.Setenv("DD_SITE", "moon")
				args = append([]string{"push"}, tc.args...)
			}
			out, err := runDashboards(t, args...)
			if err == nil {
				t.Fatalf("push succeeded:\n%s", out)
			}
			var bad *bridge.InputError
			if msg := err.Error(); !strings.HasPrefix(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error = %q\nwant one line starting %q", msg, tc.want)
			}
			if errors.As(err, &bad) != tc.wantBad {
				t.Errorf("bad input = %v, want %v", !tc.wantBad, tc.wantBad)
			}
			for _, key := range []string{tc.apiKey, tc.appKey} {
				if key != "" && (strings.Contains(err.Error(), key) || strings.Contains(out, key)) {
					t.Error("a key appears in the output")
				}
			}
		})
	}
	if w := srv.Writes(); len(w) != 0 {
		t.Errorf("refused pushes wrote %d requests", len(w))
	}
}

func TestRedact(t *testing.T) {
	got := redact("GET https://x/?k=secretvalue failed; secretvalue again", "secretvalue", "")
	if want := "GET https://x/?k=REDACTED failed; REDACTED again"; got != want {
		t.Errorf("redact = %q, want %q", got, want)
	}
}

package dashboards

import (
	"bytes"
	"flag"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/dashboards/ddtest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// exportNow is a Wednesday evening: weeknights start the next day, weekends
// on Saturday.
var exportNow = time.Date(2026, 1, 7, 20, 0, 0, 0, time.UTC)

func customConfig() Config {
	cfg := DefaultConfig()
	cfg.Notify = "@slack-lol-alerts"
	cfg.Scope = "env:prod,region:kr"
	cfg.GoldDiffWarning, cfg.GoldDiffCritical = 4000, 9000.5
	cfg.RateLimitedThreshold = 3
	cfg.Downtimes = Downtimes{Timezone: "Asia/Seoul", Weeknights: true, Weekends: false, WeeknightStart: "22:30", WeeknightEnd: "07:15"}
	return cfg
}

var exportCases = []struct {
	name      string
	namespace string
	cfg       Config
}{
	{"default", "lol.", DefaultConfig()},
	{"custom", "esports", customConfig()},
}

func TestExportGolden(t *testing.T) {
	for _, tc := range exportCases {
		t.Run(tc.name, func(t *testing.T) {
			set, err := Build(tc.namespace, tc.cfg, exportNow)
			if err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			if _, err := Export(out, set); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "export", tc.name)
			if *update {
				if err := os.RemoveAll(golden); err != nil {
					t.Fatal(err)
				}
				if err := os.CopyFS(golden, os.DirFS(out)); err != nil {
					t.Fatal(err)
				}
			}
			got, want := readTree(t, out), readTree(t, golden)
			for path, w := range want {
				if g, ok := got[path]; !ok {
					t.Errorf("%s: not exported", path)
				} else if !bytes.Equal(g, w) {
					t.Errorf("%s differs from the golden file; run go test ./dashboards -update and review the diff", path)
				}
			}
			for path := range got {
				if _, ok := want[path]; !ok {
					t.Errorf("%s: exported but has no golden file", path)
				}
			}
		})
	}
}

// TestExportedBodiesAreAccepted posts every exported file to the endpoint
// that creates it, where the test server decodes it strictly into the API
// client's model types.
func TestExportedBodiesAreAccepted(t *testing.T) {
	endpoints := map[string]string{"dashboards": "/api/v1/dashboard", "monitors": "/api/v1/monitor", "downtimes": "/api/v2/downtime"}
	for _, tc := range exportCases {
		t.Run(tc.name, func(t *testing.T) {
			srv := ddtest.New(t, "api-key-0123456789abcdef0123456789ab", "app-key-0123456789abcdef0123456789abcdef01")
			set, err := Build(tc.namespace, tc.cfg, exportNow)
			if err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			paths, err := Export(out, set)
			if err != nil {
				t.Fatal(err)
			}
			if want := len(set.Dashboards) + len(set.Monitors) + len(set.Downtimes); len(paths) != want {
				t.Fatalf("exported %d files, want %d", len(paths), want)
			}
			for _, p := range paths {
				rel, _ := filepath.Rel(out, p)
				kind, _, _ := strings.Cut(rel, string(filepath.Separator))
				body, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				req, _ := http.NewRequest(http.MethodPost, srv.URL+endpoints[kind], bytes.NewReader(body))
				req.Header.Set("DD-API-KEY", "api-key-0123456789abcdef0123456789ab")
				req.Header.Set("DD-APPLICATION-KEY", "app-key-0123456789abcdef0123456789abcdef01")
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				answer, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s: POST %s answered %d %s", rel, endpoints[kind], resp.StatusCode, answer)
				}
			}
		})
	}
}

func readTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

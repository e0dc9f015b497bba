package dashboards

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoDatadogV2 keeps the API client's datadogV2 package out of the build:
// it alone takes minutes and gigabytes to compile cold.
func TestNoDatadogV2(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command(gobin, "list", "-deps", "github.com/riftbridge/riftbridge/dashboards/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasSuffix(pkg, "/api/datadogV2") {
			t.Errorf("%s is in the dependency graph of dashboards", pkg)
		}
	}
}

package statsdtest

import (
	"path/filepath"
	"testing"
)

// ClearEnv empties, for the duration of t, every environment variable through
// which datadog-go changes datagrams or picks their destination, turns
// origin detection off, and points DD_DOGSTATSD_SOCKET at a path where no
// socket is, so that an Agent's socket on the machine is never picked and
// datagrams are the same on every machine. Like t.Setenv, it cannot be used
// in parallel tests. Client telemetry can only be turned off in code:
// statsd.WithoutTelemetry().
func ClearEnv(t testing.TB) {
	t.Helper()
	for _, name := range []string{
		"DD_AGENT_HOST", "DD_DOGSTATSD_PORT", "DD_DOGSTATSD_URL",
		"DD_ENV", "DD_SERVICE", "DD_VERSION", "DD_ENTITY_ID", "DD_EXTERNAL_ENV",
		"DD_CARDINALITY", "DATADOG_CARDINALITY",
	} {
		t.Setenv(name, "")
	}
	t.Setenv("DD_ORIGIN_DETECTION_ENABLED", "false")
	t.Setenv("DD_DOGSTATSD_SOCKET", filepath.Join(t.TempDir(), "no-agent", "dsd.socket"))
}

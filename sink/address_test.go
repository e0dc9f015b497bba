package sink_test

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/sink"
	"github.com/riftbridge/riftbridge/sink/statsdtest"
)

// TestResolveAddress: an address given is used as given; the default one
// and an empty one take the Agent's socket when there is one; an empty one
// reads the environment first, as datadog-go does.
func TestResolveAddress(t *testing.T) {
	// A socket, as the Agent's, and a plain file at a socket's place.
	dir := t.TempDir()
	socket := filepath.Join(dir, "dsd.socket")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	notSocket := filepath.Join(dir, "file.socket")
	if err := os.WriteFile(notSocket, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, addr string
		env        map[string]string
		want       string // Endpoint.String()
		transport  string
		why        string // in Endpoint.Why
	}{
		{name: "default, socket there", addr: sink.DefaultAddress, env: map[string]string{"DD_DOGSTATSD_SOCKET": socket},
			want: "unix://" + socket, transport: sink.TransportUDS, why: "the agent's socket, found at " + socket},
		{name: "default, no socket", addr: sink.DefaultAddress,
			want: sink.DefaultAddress, transport: sink.TransportUDP, why: "the default udp port; no agent socket at"},
		{name: "default, a file that is no socket", addr: sink.DefaultAddress, env: map[string]string{"DD_DOGSTATSD_SOCKET": notSocket},
			want: sink.DefaultAddress, transport: sink.TransportUDP},
		{name: "udp:// keeps udp", addr: "udp://127.0.0.1:8125", env: map[string]string{"DD_DOGSTATSD_SOCKET": socket},
			want: "127.0.0.1:8125", transport: sink.TransportUDP, why: "as configured"},
		{name: "another port", addr: "127.0.0.1:9125", env: map[string]string{"DD_DOGSTATSD_SOCKET": socket},
			want: "127.0.0.1:9125", transport: sink.TransportUDP},
		{name: "unix://", addr: "unix:///run/dsd.socket", want: "unix:///run/dsd.socket", transport: sink.TransportUDS},
		{name: "empty, socket there", addr: "", env: map[string]string{"DD_DOGSTATSD_SOCKET": socket},
			want: "unix://" + socket, transport: sink.TransportUDS},
		{name: "empty, DD_DOGSTATSD_URL first", addr: "", env: map[string]string{"DD_DOGSTATSD_SOCKET": socket, "DD_DOGSTATSD_URL": "udp://agent:9125", "DD_AGENT_HOST": "other"},
			want: "agent:9125", transport: sink.TransportUDP, why: "from the environment"},
		{name: "empty, DD_DOGSTATSD_URL without port", addr: "", env: map[string]string{"DD_DOGSTATSD_URL": "udp://agent"},
			want: "agent:8125", transport: sink.TransportUDP},
		{name: "empty, DD_DOGSTATSD_URL unix", addr: "", env: map[string]string{"DD_DOGSTATSD_URL": "unix:///run/x.socket"},
			want: "unix:///run/x.socket", transport: sink.TransportUDS},
		{name: "empty, DD_AGENT_HOST and port", addr: "", env: map[string]string{"DD_AGENT_HOST": "agent", "DD_DOGSTATSD_PORT": "9125"},
			want: "agent:9125", transport: sink.TransportUDP},
		{name: "empty, DD_AGENT_HOST host:port", addr: "", env: map[string]string{"DD_AGENT_HOST": "agent:7125"},
			want: "agent:7125", transport: sink.TransportUDP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			statsdtest.ClearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			ep, err := sink.ResolveAddress(tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			if ep.String() != tt.want || ep.Transport != tt.transport || !strings.Contains(ep.Why, tt.why) {
				t.Errorf("ResolveAddress(%q) = %+v (%s), want %s over %s, why containing %q", tt.addr, ep, ep, tt.want, tt.transport, tt.why)
			}
		})
	}
	t.Run("empty, nothing at all", func(t *testing.T) {
		statsdtest.ClearEnv(t)
		if ep, err := sink.ResolveAddress(""); err == nil || !strings.Contains(err.Error(), "no agent address") {
			t.Errorf("ResolveAddress(\"\") = %+v, %v; want no agent address", ep, err)
		}
	})
}

// TestDogStatsDPrefersAgentSocket: a sink built on the default address
// sends to the Agent's socket when it exists, and says so.
func TestDogStatsDPrefersAgentSocket(t *testing.T) {
	statsdtest.ClearEnv(t)
	srv := statsdtest.ListenUnix(t)
	t.Setenv("DD_DOGSTATSD_SOCKET", strings.TrimPrefix(srv.Addr(), "unix://"))
	s, err := sink.NewDogStatsD(sink.DefaultAddress, telemetry.Settings{}, testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	if ep := s.Endpoint(); ep.String() != srv.Addr() || ep.Transport != sink.TransportUDS {
		t.Errorf("Endpoint() = %+v, want the socket %s", ep, srv.Addr())
	}
	if err := s.Write(t.Context(), fixture()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := srv.Sync(waitContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != fixtureLines() {
		t.Errorf("the socket received %d lines, want %d", len(got), fixtureLines())
	}
}

// TestDogStatsDUnpacedWarns: UDP without a pace loses data behind a busy
// Agent, so the sink says so once at start.
func TestDogStatsDUnpacedWarns(t *testing.T) {
	statsdtest.ClearEnv(t)
	srv := statsdtest.ListenUDP(t)
	for _, pace := range []int{0, sink.DefaultUDPDatagramsPerSecond} {
		var logs bridgetest.SyncBuffer
		s, err := sink.NewDogStatsD(srv.Addr(), telemetry.Settings{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, testOptions(sink.WithUDPRate(pace))...)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		warned := strings.Count(logs.String(), "level=WARN") == 1 && strings.Contains(logs.String(), "udp is not paced")
		if warned != (pace == 0) {
			t.Errorf("pace %d: logged %q", pace, logs.String())
		}
	}
}

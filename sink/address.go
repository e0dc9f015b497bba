package sink

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const (
	// DefaultAddress is the Agent's DogStatsD UDP port on loopback.
	DefaultAddress = "127.0.0.1:8125"
	// DefaultSocket is where a host Agent listens on its Unix socket
	// (dogstatsd_socket); DD_DOGSTATSD_SOCKET, the variable the Agent itself
	// reads for that setting, names another path.
	DefaultSocket = "/var/run/datadog/dsd.socket"
)

// Transports.
const (
	TransportUDP = "udp"
	TransportUDS = "uds"
)

// Endpoint is where a DogStatsD sink sends: the Agent's Unix socket or its
// UDP port.
type Endpoint struct {
	Transport string // TransportUDS or TransportUDP
	Address   string // socket path or host:port
	// Why says how the endpoint was chosen, for the start-up line.
	Why string
}

// String is the endpoint as statsd.address writes it.
func (e Endpoint) String() string {
	if e.Transport == TransportUDS {
		return "unix://" + e.Address
	}
	return e.Address
}

// ResolveAddress picks the Agent endpoint for statsd.address:
//   - "host:port", "udp://host:port" or "unix:///path" is used as given;
//   - "" reads DD_DOGSTATSD_URL, then DD_AGENT_HOST and DD_DOGSTATSD_PORT,
//     as datadog-go does, and else takes the Agent's socket if it exists;
//   - DefaultAddress takes the Agent's socket when it exists, and UDP else:
//     the socket makes a slow Agent slow riftbridge down instead of losing
//     datagrams. "udp://127.0.0.1:8125" keeps UDP.
//
// datadog-go v5 reads the environment but never looks for the socket.
func ResolveAddress(addr string) (Endpoint, error) {
	switch addr {
	case "":
		if env, ok := fromEnv(); ok {
			return parseAddress(env, "from the environment")
		}
		if path, ok := agentSocket(); ok {
			return Endpoint{TransportUDS, path, "the agent's socket, found at " + path}, nil
		}
		return Endpoint{}, errors.New("no agent address: set statsd.address or DD_AGENT_HOST, or run the agent with its socket at " + socketPath())
	case DefaultAddress:
		if path, ok := agentSocket(); ok {
			return Endpoint{TransportUDS, path, "the agent's socket, found at " + path + ", over the default udp port"}, nil
		}
		return Endpoint{TransportUDP, addr, "the default udp port; no agent socket at " + socketPath()}, nil
	}
	return parseAddress(addr, "as configured")
}

// CheckAddress reports what is wrong with a statsd.address, or nil.
func CheckAddress(addr string) error {
	if addr == "" {
		return nil
	}
	_, err := parseAddress(addr, "")
	return err
}

func parseAddress(addr, why string) (Endpoint, error) {
	if path, ok := strings.CutPrefix(addr, "unix://"); ok {
		if !filepath.IsAbs(path) {
			return Endpoint{}, fmt.Errorf("unix socket path must be absolute (unix://%s), not %q", DefaultSocket, addr)
		}
		return Endpoint{TransportUDS, path, why}, nil
	}
	hostPort, isUDP := strings.CutPrefix(addr, "udp://")
	if scheme, _, ok := strings.Cut(addr, "://"); ok && !isUDP {
		return Endpoint{}, fmt.Errorf("scheme %q is not supported; use host:port, udp://host:port or unix:///path", scheme)
	}
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil || host == "" {
		return Endpoint{}, fmt.Errorf("%q is not host:port", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return Endpoint{}, fmt.Errorf("%q: the port must be a number from 1 to 65535", addr)
	}
	return Endpoint{TransportUDP, hostPort, why}, nil
}

// fromEnv reads the Agent address as datadog-go does: DD_DOGSTATSD_URL
// (udp://host[:port] or unix:///path), else DD_AGENT_HOST, with
// DD_DOGSTATSD_PORT (8125 by default) when it names a bare host.
func fromEnv() (string, bool) {
	if u, err := url.Parse(os.Getenv("DD_DOGSTATSD_URL")); err == nil {
		switch {
		case u.Scheme == "unix":
			return u.String(), true
		case u.Scheme == "udp" && u.Port() == "":
			return net.JoinHostPort(u.Hostname(), "8125"), true
		case u.Scheme == "udp":
			return u.Host, true
		}
	}
	host := os.Getenv("DD_AGENT_HOST")
	switch {
	case host == "":
		return "", false
	case strings.Contains(host, ":"):
		return host, true
	}
	port := os.Getenv("DD_DOGSTATSD_PORT")
	if port == "" {
		port = "8125"
	}
	return host + ":" + port, true
}

func socketPath() string {
	if p := os.Getenv("DD_DOGSTATSD_SOCKET"); p != "" {
		return p
	}
	return DefaultSocket
}

// agentSocket returns the Agent's socket path if a socket is there.
func agentSocket() (string, bool) {
	path := socketPath()
	fi, err := os.Stat(path)
	return path, err == nil && fi.Mode()&os.ModeSocket != 0
}

package config

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"time"
)

// maxCAFile bounds liveclient.ca_file: a root or a few are a few kB.
const maxCAFile = 1 << 20

// validate reports the section's problems through bad.
func (l LiveClient) validate(bad func(key, format string, args ...any)) {
	if err := checkLiveClientAddress(l.Address); err != nil {
		bad("liveclient.address", "%v", err)
	}
	if l.CAFile != "" {
		if _, err := l.Roots(); err != nil {
			bad("liveclient.ca_file", "%v", err)
		}
	}
	if l.Interval < 100*time.Millisecond || l.Interval > time.Minute {
		bad("liveclient.interval", "must be between 100ms and 1m, not %v", l.Interval)
	}
}

// checkLiveClientAddress accepts an https origin with a port: the API
// speaks TLS only, and the client's certificate is checked against the
// pinned root, so plain http is never a fallback.
func checkLiveClientAddress(address string) error {
	u, err := url.Parse(address)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("must be an https origin such as %s, not %q", DefaultLiveClientAddress, address)
	}
	if _, port, err := net.SplitHostPort(u.Host); err != nil || port == "" {
		return fmt.Errorf("must name a port, such as %s, not %q", DefaultLiveClientAddress, address)
	}
	return nil
}

// Roots reads the certificates of CAFile; nil without one, meaning Riot's
// bundled root.
func (l LiveClient) Roots() ([]*x509.Certificate, error) {
	if l.CAFile == "" {
		return nil, nil
	}
	f, err := os.Open(l.CAFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCAFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.CAFile, err)
	}
	if len(data) > maxCAFile {
		return nil, fmt.Errorf("%s: over %d kB, not a CA file", l.CAFile, maxCAFile>>10)
	}
	var certs []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.CAFile, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate in it", l.CAFile)
	}
	return certs, nil
}

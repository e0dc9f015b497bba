package liveclient_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/riot/liveclient"
	"github.com/riftbridge/riftbridge/riot/liveclient/lctest"
)

// presented dials s and returns the chain it presents, unverified.
func presented(t *testing.T, s *lctest.Server) [][]byte {
	t.Helper()
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{InsecureSkipVerify: true}) // the point is to look
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var raw [][]byte
	for _, c := range conn.ConnectionState().PeerCertificates {
		raw = append(raw, c.Raw)
	}
	return raw
}

func newServer(t *testing.T, opts ...lctest.Option) *lctest.Server {
	t.Helper()
	capture, err := os.ReadFile("testdata/allgamedata_practice_01.json")
	if err != nil {
		t.Fatal(err)
	}
	return lctest.New(t, lctest.Game{Capture: capture}, opts...)
}

func riotRoots(t *testing.T) (*x509.Certificate, *x509.CertPool) {
	t.Helper()
	data, err := os.ReadFile("testdata/riotgames.pem")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("riotgames.pem holds no PEM block")
	}
	root, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("parse riotgames.pem: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		t.Fatal("riotgames.pem does not load into a CertPool")
	}
	return root, pool
}

// TestRiotRoot: Riot's root is an X.509 v1 certificate, with no basic
// constraints to say it is a CA, self-signed with SHA-1; Go parses it and
// takes it into a pool, and it only refuses what it did not sign.
func TestRiotRoot(t *testing.T) {
	root, pool := riotRoots(t)
	if root.Version != 1 || root.BasicConstraintsValid || root.IsCA || root.SignatureAlgorithm != x509.SHA1WithRSA {
		t.Errorf("riotgames.pem: version %d, basic constraints %v, CA %v, %v; want a v1 SHA-1 root without basic constraints",
			root.Version, root.BasicConstraintsValid, root.IsCA, root.SignatureAlgorithm)
	}
	if cn := root.Subject.CommonName; cn != "LoL Game Engineering Certificate Authority" {
		t.Errorf("riotgames.pem is %q", cn)
	}
	err := liveclient.VerifyChain(pool, presented(t, newServer(t)))
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); !ok {
		t.Errorf("a leaf Riot did not sign: err = %v, want x509.UnknownAuthorityError", err)
	}
}

// TestVerifyChain: the test server's chain is the game's in shape, a leaf
// without subjectAltName under a v1 root self-signed with SHA-1, and
// VerifyChain takes it where Go's host name check cannot.
func TestVerifyChain(t *testing.T) {
	s := newServer(t)
	raw := presented(t, s)
	leaf, err := x509.ParseCertificate(raw[0])
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Subject.CommonName != "rclient" || len(leaf.DNSNames)+len(leaf.IPAddresses)+len(leaf.URIs)+len(leaf.EmailAddresses) != 0 {
		t.Errorf("leaf %q with SANs %v %v, want rclient without any", leaf.Subject.CommonName, leaf.DNSNames, leaf.IPAddresses)
	}
	block, _ := pem.Decode(s.CAPEM())
	root, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if root.Version != 1 || root.BasicConstraintsValid || root.SignatureAlgorithm != x509.SHA1WithRSA {
		t.Errorf("test root: version %d, basic constraints %v, %v; want v1 without, SHA-1 like Riot's",
			root.Version, root.BasicConstraintsValid, root.SignatureAlgorithm)
	}

	if err := liveclient.VerifyChain(s.CertPool(), raw); err != nil {
		t.Errorf("the server's chain: %v", err)
	}
	// The root may come along in the chain; as an intermediate Go refuses
	// a v1 certificate, but the path to the pinned root still holds.
	if err := liveclient.VerifyChain(s.CertPool(), [][]byte{raw[0], root.Raw}); err != nil {
		t.Errorf("the chain with its root: %v", err)
	}
	// What crypto/tls would do with the host name: refuse.
	_, err = leaf.Verify(x509.VerifyOptions{Roots: s.CertPool(), DNSName: "127.0.0.1"})
	if _, ok := errors.AsType[x509.HostnameError](err); !ok {
		t.Errorf("verifying for 127.0.0.1: err = %v, want x509.HostnameError", err)
	}
	resp, err := s.Client().Get(s.URL() + "/liveclientdata/gamestats")
	if err != nil {
		t.Fatalf("the pinned client: %v", err)
	}
	resp.Body.Close()
}

func TestVerifyChainRefuses(t *testing.T) {
	trusted := newServer(t)
	impostor := newServer(t, lctest.WithUntrustedLeaf())
	root, _ := riotRoots(t)
	for _, c := range []struct {
		name  string
		roots *x509.CertPool
		raw   [][]byte
		want  string
	}{
		{"another CA's leaf", impostor.CertPool(), presented(t, impostor), `live client certificate "rclient": x509: certificate signed by unknown authority`},
		{"no pinned root", nil, presented(t, trusted), "live client certificate: no pinned root"},
		{"no certificate", trusted.CertPool(), nil, "live client certificate: none presented"},
		{"garbage", trusted.CertPool(), [][]byte{[]byte("not DER")}, "live client certificate 0: x509: malformed certificate"},
		// The root alone is not a leaf for itself: Go will not chain a v1
		// certificate through itself as an intermediate.
		{"Riot's root presented as the leaf", trusted.CertPool(), [][]byte{root.Raw}, `live client certificate "LoL Game Engineering Certificate Authority": x509: certificate signed by unknown authority`},
	} {
		err := liveclient.VerifyChain(c.roots, c.raw)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %s", c.name, err, c.want)
		}
	}
	if _, err := impostor.Client().Get(impostor.URL() + "/liveclientdata/gamestats"); err == nil || !strings.Contains(err.Error(), "signed by unknown authority") {
		t.Errorf("the pinned client took the impostor's leaf: err = %v", err)
	}
}

// TestVerifyChainRefusesSHA1: Go refuses SHA-1 signatures and has had no
// GODEBUG to allow them since Go 1.24. Should the game's leaf ever be
// signed with SHA-1, this is the error to expect.
func TestVerifyChainRefusesSHA1(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sha1 CA"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "rclient"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), SignatureAlgorithm: x509.SHA1WithRSA}, ca, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	err = liveclient.VerifyChain(pool, [][]byte{leafDER})
	if err == nil || !strings.Contains(err.Error(), "insecure algorithm SHA1-RSA") {
		t.Errorf("a SHA-1 leaf: err = %v, want the insecure-algorithm refusal", err)
	}
}

package lctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync"
	"time"
)

// The game client's chain is reproduced in shape. Like Riot's root, the
// test root is an X.509 v1 certificate (no extensions, so no basic
// constraints) with an RSA 2048 key and a SHA-1 self-signature; crypto/x509
// only writes v3 certificates, so it is assembled here from its ASN.1
// structure. The leaf it signs (SHA-256) for 127.0.0.1 has CommonName
// "rclient" and no subjectAltName, and an ECDSA key, quick to make for
// every server; the roots are made once per test binary, RSA keys being
// slow to generate.

// Validity is generous and on the wall clock: crypto/tls verifies against
// time.Now whatever clock the server runs on.
const (
	validBefore = 24 * time.Hour
	validAfter  = 10 * 365 * 24 * time.Hour
)

// sha1WithRSA is the signature algorithm of Riot's root, RFC 3279.
var sha1WithRSA = pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}, Parameters: asn1.NullRawValue}

var (
	trustedRoot  = sync.OnceValues(func() (*authority, error) { return newV1Root("lctest Game Engineering Certificate Authority") })
	impostorRoot = sync.OnceValues(func() (*authority, error) { return newV1Root("lctest Impostor Certificate Authority") })
)

// tbsCertificateV1 is RFC 5280's TBSCertificate without the optional
// version (absent means v1), unique identifiers and extensions.
type tbsCertificateV1 struct {
	SerialNumber       *big.Int
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Issuer             asn1.RawValue
	Validity           validity
	Subject            asn1.RawValue
	PublicKey          asn1.RawValue
}

type validity struct {
	NotBefore, NotAfter time.Time
}

type certificate struct {
	TBSCertificate     asn1.RawValue
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          asn1.BitString
}

// authority is a certificate authority that can sign serving certificates.
type authority struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey
}

// newV1Root creates a self-signed X.509 v1 root named cn.
func newV1Root(cn string) (*authority, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("root key: %w", err)
	}
	name, err := asn1.Marshal(pkix.Name{
		Country:            []string{"US"},
		Organization:       []string{"riftbridge lctest"},
		OrganizationalUnit: []string{"LoL Game Engineering"},
		CommonName:         cn,
	}.ToRDNSequence())
	if err != nil {
		return nil, fmt.Errorf("root name: %w", err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("root public key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	tbs, err := asn1.Marshal(tbsCertificateV1{
		SerialNumber:       serial,
		SignatureAlgorithm: sha1WithRSA,
		Issuer:             asn1.RawValue{FullBytes: name},
		Validity:           validity{now.Add(-validBefore), now.Add(validAfter)},
		Subject:            asn1.RawValue{FullBytes: name},
		PublicKey:          asn1.RawValue{FullBytes: spki},
	})
	if err != nil {
		return nil, fmt.Errorf("root: %w", err)
	}
	digest := sha1.Sum(tbs)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA1, digest[:])
	if err != nil {
		return nil, fmt.Errorf("root signature: %w", err)
	}
	der, err := asn1.Marshal(certificate{
		TBSCertificate:     asn1.RawValue{FullBytes: tbs},
		SignatureAlgorithm: sha1WithRSA,
		Signature:          asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)},
	})
	if err != nil {
		return nil, fmt.Errorf("root: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("root: %w", err)
	}
	return &authority{cert: cert, key: key}, nil
}

// serve issues the game client's serving certificate: CommonName
// "rclient", no subjectAltName, no extended key usage.
func (a *authority) serve() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("leaf key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "rclient"},
		NotBefore:    now.Add(-validBefore),
		NotAfter:     now.Add(validAfter),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("leaf: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func (a *authority) pem() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.cert.Raw})
}

// serialNumber is a random positive 127-bit serial, as RFC 5280 asks.
func serialNumber() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

package liveclient

import (
	"crypto/x509"
	"errors"
	"fmt"
)

// VerifyChain verifies the certificates a Live Client Data server presented,
// leaf first as tls.Config.VerifyPeerCertificate receives them, against the
// pinned roots, ignoring the host name.
//
// The host name has to go: the game's leaf (CommonName "rclient") has no
// subjectAltName, and Go matches host names against SANs only. The root is
// no obstacle: Riot's is an X.509 v1 certificate without basic constraints,
// which Go refuses as an intermediate but accepts as a root in a CertPool.
// Any extended key usage is accepted, since trust comes from the pinned root
// alone. Go refuses SHA-1 signatures with no way back since Go 1.24, so a
// leaf signed with SHA-1 fails; the root's own SHA-1 self-signature is never
// checked.
//
// Use it with InsecureSkipVerify, which turns off only crypto/tls's own
// verification:
//
//	&tls.Config{
//		InsecureSkipVerify: true,
//		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
//			return liveclient.VerifyChain(roots, raw)
//		},
//	}
func VerifyChain(roots *x509.CertPool, rawCerts [][]byte) error {
	// A nil pool would make Verify trust the system roots.
	if roots == nil {
		return errors.New("live client certificate: no pinned root")
	}
	if len(rawCerts) == 0 {
		return errors.New("live client certificate: none presented")
	}
	certs := make([]*x509.Certificate, len(rawCerts))
	for i, raw := range rawCerts {
		c, err := x509.ParseCertificate(raw)
		if err != nil {
			return fmt.Errorf("live client certificate %d: %w", i, err)
		}
		certs[i] = c
	}
	intermediates := x509.NewCertPool()
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return fmt.Errorf("live client certificate %q: %w", certs[0].Subject.CommonName, err)
	}
	return nil
}

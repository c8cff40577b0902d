// Package peer lets the operator's replicas ask each other for what only one of them knows: a
// replica that does not poll an object forwards the HPA's request for its metric to the replica
// that does. Peers talk HTTPS with mutual authentication by the operator's own serving
// certificate: every replica serves the same key pair (one Secret), so a peer is trusted when it
// presents that key, whatever address it is reached at.
package peer

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// CertificateSource returns the current serving certificate (a certwatcher's, say).
type CertificateSource func() (*tls.Certificate, error)

// Paths of the peer endpoint.
const (
	pathPing           = "/peer/v1/ping"
	pathExternalMetric = "/peer/v1/external-metrics/"
)

// samePublicKey checks that the peer's certificate carries the key of our own serving
// certificate.
func samePublicKey(own CertificateSource, rawCerts [][]byte) error {
	if len(rawCerts) == 0 {
		return errors.New("the peer presented no certificate")
	}
	peer, err := x509.ParseCertificate(rawCerts[0])
	if err != nil {
		return fmt.Errorf("failed to parse the peer's certificate: %w", err)
	}
	mine, err := own()
	if err != nil {
		return fmt.Errorf("failed to load the own serving certificate: %w", err)
	}
	if mine == nil || len(mine.Certificate) == 0 {
		return errors.New("no own serving certificate loaded yet")
	}
	leaf := mine.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(mine.Certificate[0]); err != nil {
			return fmt.Errorf("failed to parse the own serving certificate: %w", err)
		}
	}
	if !bytes.Equal(peer.RawSubjectPublicKeyInfo, leaf.RawSubjectPublicKeyInfo) {
		return errors.New("the peer's certificate is not the operator's serving certificate")
	}
	return nil
}

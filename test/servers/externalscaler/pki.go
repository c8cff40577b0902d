package externalscaler

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// MutualTLS is a throwaway CA with a server certificate for 127.0.0.1 and a client certificate:
// Server is the TLS config of a server that requires the client certificate, and CAPEM,
// ClientCertPEM and ClientKeyPEM are what a trigger's caCert, tlsClientCert and tlsClientKey hold.
type MutualTLS struct {
	Server                             *tls.Config
	CAPEM, ClientCertPEM, ClientKeyPEM string
}

// NewMutualTLS makes the CA and both certificates, valid for an hour.
func NewMutualTLS() (*MutualTLS, error) {
	caKey, caCert, caPEM, _, err := issue("external scaler test CA", nil, nil)
	if err != nil {
		return nil, err
	}
	_, _, serverPEM, serverKeyPEM, err := issue("127.0.0.1", caCert, caKey)
	if err != nil {
		return nil, err
	}
	_, _, clientPEM, clientKeyPEM, err := issue("keda-client", caCert, caKey)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair([]byte(serverPEM), []byte(serverKeyPEM))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &MutualTLS{
		Server:        &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12},
		CAPEM:         caPEM,
		ClientCertPEM: clientPEM,
		ClientKeyPEM:  clientKeyPEM,
	}, nil
}

// issue makes a key and a certificate for cn, signed by parent (self-signed CA when nil).
func issue(cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, *x509.Certificate, string, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, "", "", err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, nil, "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IsCA:        parent == nil, BasicConstraintsValid: true, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		return nil, nil, "", "", fmt.Errorf("issuing %s: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, "", "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, "", "", err
	}
	return key, cert, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})), nil
}

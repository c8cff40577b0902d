// Package testca makes the certificates a test server serving TLS needs: its own CA, a server
// certificate for the loopback addresses and a client certificate, each made anew for one test.
package testca

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
	"os"
	"path/filepath"
	"time"
)

// Files are the PEM texts of a test server's CA, of a client certificate that CA signed (as a
// TriggerAuthentication holds them: parameters ca, cert and key) and of the server's own pair.
type Files struct {
	CAPEM   []byte
	CertPEM []byte
	// KeyPEM is the client's private key, unencrypted (PKCS#8); ClientKey is the same key, for
	// tests that re-encode it (an encrypted key for keyPassword).
	KeyPEM    []byte
	ClientKey *ecdsa.PrivateKey

	// ServerCertPEM and ServerKeyPEM are the server's certificate, for 127.0.0.1, ::1 and
	// localhost and usable as a client certificate too (servers use it for their own links).
	ServerCertPEM []byte
	ServerKeyPEM  []byte
}

// New makes a CA called name, a server certificate and a client certificate it signed. They are
// valid from an hour ago for a day.
func New(name string) (*Files, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("failed to make the CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, IsCA: true, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("failed to make the CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("failed to read the CA certificate back: %w", err)
	}
	issue := func(serial int64, cn string, usage []x509.ExtKeyUsage, ips []net.IP, dns []string) (certPEM []byte, key *ecdsa.PrivateKey, keyPEM []byte, err error) {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: usage, IPAddresses: ips, DNSNames: dns,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return nil, nil, nil, err
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, nil, nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
	}
	f := &Files{CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}
	f.ServerCertPEM, _, f.ServerKeyPEM, err = issue(2, "127.0.0.1", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		[]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}, []string{"localhost"})
	if err != nil {
		return nil, fmt.Errorf("failed to make the server certificate: %w", err)
	}
	f.CertPEM, f.ClientKey, f.KeyPEM, err = issue(3, "kedactl test client", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to make the client certificate: %w", err)
	}
	return f, nil
}

// ClientConfig trusts the CA and presents the client certificate.
func (f *Files) ClientConfig() *tls.Config {
	pair, err := tls.X509KeyPair(f.CertPEM, f.KeyPEM)
	if err != nil {
		panic(fmt.Sprintf("the generated client certificate does not load: %v", err))
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: f.pool(), Certificates: []tls.Certificate{pair}}
}

// ServerConfig presents the server certificate and verifies client certificates against the CA
// when the server asks for them (set ClientAuth).
func (f *Files) ServerConfig() *tls.Config {
	pair, err := tls.X509KeyPair(f.ServerCertPEM, f.ServerKeyPEM)
	if err != nil {
		panic(fmt.Sprintf("the generated server certificate does not load: %v", err))
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}, ClientCAs: f.pool()}
}

func (f *Files) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(f.CAPEM)
	return pool
}

// ServerPaths are the files WriteServer writes, for a server's configuration.
type ServerPaths struct{ CA, Cert, Key string }

// WriteServer writes the CA and the server's pair into dir (ca.crt, server.crt, server.key).
func (f *Files) WriteServer(dir string) (ServerPaths, error) {
	p := ServerPaths{CA: filepath.Join(dir, "ca.crt"), Cert: filepath.Join(dir, "server.crt"), Key: filepath.Join(dir, "server.key")}
	for path, data := range map[string][]byte{p.CA: f.CAPEM, p.Cert: f.ServerCertPEM, p.Key: f.ServerKeyPEM} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return ServerPaths{}, fmt.Errorf("failed to write %s: %w", path, err)
		}
	}
	return p, nil
}

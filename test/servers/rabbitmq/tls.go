package rabbitmq

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// TLSFiles are the PEM texts of the server's own CA and of a client certificate that CA signed,
// as a TriggerAuthentication would hold them (parameters ca, cert and key).
type TLSFiles struct {
	CAPEM   []byte
	CertPEM []byte
	// KeyPEM is the client's private key, unencrypted (PKCS#8).
	KeyPEM []byte
	// Key is the same key, for tests that re-encode it (an encrypted key for keyPassword).
	Key *ecdsa.PrivateKey
}

// tlsPaths are the server's files in its directory.
type tlsPaths struct{ ca, cert, key string }

// writeTLSFiles makes a CA, a server certificate for 127.0.0.1 and localhost and a client
// certificate; it writes the CA and the server's pair into dir.
func writeTLSFiles(dir string) (*tlsPaths, *TLSFiles, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kedactl test rabbitmq CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, IsCA: true, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, err
	}
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP, dns []string) (certPEM, keyPEM []byte, key *ecdsa.PrivateKey, err error) {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips, DNSNames: dns,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return nil, nil, nil, err
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, nil, nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), key, nil
	}
	serverCert, serverKey, _, err := issue(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}, []string{"localhost"})
	if err != nil {
		return nil, nil, err
	}
	clientCert, clientKey, key, err := issue(3, "kedactl test client", x509.ExtKeyUsageClientAuth, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	files := &TLSFiles{CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), CertPEM: clientCert, KeyPEM: clientKey, Key: key}
	paths := &tlsPaths{ca: filepath.Join(dir, "ca.crt"), cert: filepath.Join(dir, "server.crt"), key: filepath.Join(dir, "server.key")}
	for path, data := range map[string][]byte{paths.ca: files.CAPEM, paths.cert: serverCert, paths.key: serverKey} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, nil, err
		}
	}
	return paths, files, nil
}

package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// clockSkew backdates NotBefore so that a peer whose clock is slightly behind accepts a new
// certificate at once.
const clockSkew = time.Hour

// caCommonName is the subject of the CA the operator makes.
const caCommonName = "keda-operator-ca"

// authority is the CA that signs the serving certificate: the first certificate of the bundle
// and its key. bundlePEM may hold older CAs after it (see rotateCA).
type authority struct {
	cert      *x509.Certificate
	key       crypto.Signer
	bundlePEM []byte
	keyPEM    []byte
}

// material is what the Secret holds, PEM encoded, under the keys of the same names.
type material struct {
	certPEM, keyPEM, caPEM, caKeyPEM []byte
}

func (m material) data() map[string][]byte {
	return map[string][]byte{KeyCert: m.certPEM, KeyKey: m.keyPEM, KeyCA: m.caPEM, KeyCAKey: m.caKeyPEM}
}

func materialFrom(data map[string][]byte) material {
	return material{certPEM: data[KeyCert], keyPEM: data[KeyKey], caPEM: data[KeyCA], caKeyPEM: data[KeyCAKey]}
}

// sans are the subject alternative names the serving certificate must hold.
type sans struct {
	dnsNames []string
	ips      []net.IP
}

// missingFrom returns the first wanted name that cert lacks, "" when it has them all. Extra names
// in cert are accepted: two replicas of different versions during a rollout may want different
// sets, and requiring an exact match would make them renew in turn on every check.
func (s sans) missingFrom(cert *x509.Certificate) string {
	for _, want := range s.dnsNames {
		found := false
		for _, have := range cert.DNSNames {
			found = found || strings.EqualFold(want, have)
		}
		if !found {
			return want
		}
	}
	for _, want := range s.ips {
		found := false
		for _, have := range cert.IPAddresses {
			found = found || want.Equal(have)
		}
		if !found {
			return want.String()
		}
	}
	return ""
}

func (s sans) commonName() string {
	if len(s.dnsNames) > 0 {
		return s.dnsNames[0]
	}
	return s.ips[0].String()
}

// action is what Ensure does with the Secret's data.
type action int

const (
	// actionKeep: the data is valid; only CertDir is brought up to date.
	actionKeep action = iota
	// actionRenewCert: a new serving certificate signed by the existing CA.
	actionRenewCert
	// actionRenewAll: a new CA and a new serving certificate.
	actionRenewAll
)

func (a action) String() string {
	switch a {
	case actionKeep:
		return "keep"
	case actionRenewCert:
		return "renew certificate"
	case actionRenewAll:
		return "renew CA and certificate"
	}
	return fmt.Sprintf("action(%d)", int(a))
}

// Reason says why the certificate is (or is not) renewed; it is logged.
type Reason string

const (
	ReasonValid             Reason = "Valid"
	ReasonMissing           Reason = "Missing"
	ReasonCAUnreadable      Reason = "CAUnreadable"
	ReasonCAExpiring        Reason = "CAExpiring"
	ReasonCertUnreadable    Reason = "CertUnreadable"
	ReasonCertNotSignedByCA Reason = "CertNotSignedByCA"
	ReasonCertExpiring      Reason = "CertExpiring"
	ReasonSANsChanged       Reason = "SANsChanged"
)

// decision is the outcome of decide: the action, why, and the parsed CA when it is kept.
type decision struct {
	action action
	reason Reason
	// detail adds context to reason for the log (never key material).
	detail string
	// ca is the existing CA for actionKeep and actionRenewCert; nil for actionRenewAll.
	ca *authority
	// oldCA is the existing CA for actionRenewAll when it is readable and still valid, so that the
	// new bundle keeps trusting certificates other replicas still serve.
	oldCA *x509.Certificate
}

// decide is the pure part of Ensure: given the Secret's data, the wanted names and the time, it
// says whether to keep the data, renew the serving certificate, or renew everything.
func decide(m material, want sans, now time.Time, renewBefore time.Duration) decision {
	if len(m.caPEM) == 0 && len(m.caKeyPEM) == 0 && len(m.certPEM) == 0 && len(m.keyPEM) == 0 {
		return decision{action: actionRenewAll, reason: ReasonMissing}
	}
	ca, err := parseAuthority(m.caPEM, m.caKeyPEM)
	if err != nil {
		return decision{action: actionRenewAll, reason: ReasonCAUnreadable, detail: err.Error()}
	}
	if !now.Add(renewBefore).Before(ca.cert.NotAfter) {
		d := decision{action: actionRenewAll, reason: ReasonCAExpiring, detail: "CA expires " + ca.cert.NotAfter.UTC().Format(time.RFC3339)}
		if now.Before(ca.cert.NotAfter) {
			d.oldCA = ca.cert
		}
		return d
	}
	renew := func(reason Reason, detail string) decision {
		return decision{action: actionRenewCert, reason: reason, detail: detail, ca: ca}
	}
	pair, err := tls.X509KeyPair(m.certPEM, m.keyPEM)
	if err != nil {
		return renew(ReasonCertUnreadable, err.Error())
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return renew(ReasonCertUnreadable, err.Error())
		}
	}
	if err := leaf.CheckSignatureFrom(ca.cert); err != nil {
		return renew(ReasonCertNotSignedByCA, err.Error())
	}
	if !now.Add(renewBefore).Before(leaf.NotAfter) {
		return renew(ReasonCertExpiring, "certificate expires "+leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if missing := want.missingFrom(leaf); missing != "" {
		return renew(ReasonSANsChanged, "certificate lacks "+missing)
	}
	return decision{action: actionKeep, reason: ReasonValid, ca: ca}
}

// newAuthority makes a self-signed CA valid from now-clockSkew to now+validity. The bundle is the
// new CA followed by previous when it is given (a CA rotation), so that certificates signed by
// the previous CA stay trusted until every replica serves the new one.
func newAuthority(now time.Time, validity time.Duration, previous *x509.Certificate) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("failed to generate the CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: caCommonName},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("failed to create the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("failed to parse the new CA certificate: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	bundle := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if previous != nil {
		bundle = append(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: previous.Raw})...)
	}
	return &authority{cert: cert, key: key, bundlePEM: bundle, keyPEM: keyPEM}, nil
}

// issue makes a serving certificate for names, valid from now-clockSkew to now+validity but not
// past the CA's own expiry.
func (a *authority) issue(names sans, now time.Time, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to generate the serving key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	notAfter := now.Add(validity)
	if notAfter.After(a.cert.NotAfter) {
		notAfter = a.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: names.commonName()},
		DNSNames:              names.dnsNames,
		IPAddresses:           names.ips,
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, key.Public(), a.key)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to sign the serving certificate: %w", err)
	}
	if keyPEM, err = encodeKey(key); err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

// parseAuthority reads the CA: the first certificate of bundlePEM, which must be a CA, and its key.
func parseAuthority(bundlePEM, keyPEM []byte) (*authority, error) {
	cert, err := firstCertificate(bundlePEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", KeyCA, err)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("%s: certificate %q is not a CA", KeyCA, cert.Subject.CommonName)
	}
	key, err := decodeKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", KeyCAKey, err)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%s does not match %s", KeyCAKey, KeyCA)
	}
	return &authority{cert: cert, key: key, bundlePEM: bundlePEM, keyPEM: keyPEM}, nil
}

func firstCertificate(pemBytes []byte) (*x509.Certificate, error) {
	rest := pemBytes
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM certificate")
		}
		if block.Type == "CERTIFICATE" {
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("failed to parse the certificate: %w", err)
			}
			return cert, nil
		}
	}
}

// encodeKey writes key as PKCS#8 ("PRIVATE KEY").
func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("failed to encode the private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// decodeKey reads a PKCS#8, SEC 1 (EC) or PKCS#1 (RSA) private key. Its errors never quote the
// key.
func decodeKey(keyPEM []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("no PEM private key")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("unsupported PEM block type %q", block.Type)
	}
	if err != nil {
		return nil, errors.New("failed to parse the private key")
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", key)
	}
	return signer, nil
}

// newSerial is a random positive 128-bit serial number.
func newSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("failed to generate a serial number: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// certSerial is the serial of the first certificate in pemBytes, for logs and tests; "" when it
// cannot be read.
func certSerial(pemBytes []byte) string {
	cert, err := firstCertificate(pemBytes)
	if err != nil {
		return ""
	}
	return cert.SerialNumber.Text(16)
}

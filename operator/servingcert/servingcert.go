// Package servingcert manages the operator's own serving certificate, as KEDA's operator does: a CA
// and a serving certificate kept in a Secret (so that every replica serves the same one), written to
// the directory the external metrics server and the webhook read, the CA injected as caBundle into
// the APIService and the webhook configuration, and the certificate renewed before it expires.
package servingcert

import (
	"bytes"
	"context"
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
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	aggregator "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"
)

// Keys of the Secret; tls.crt and tls.key are also the file names in Options.CertDir.
const (
	KeyCert   = "tls.crt"
	KeyKey    = "tls.key"
	KeyCA     = "ca.crt"
	KeyCAKey  = "ca.key"
	managedBy = "keda-operator"
)

// Options configures a Manager; zero values get defaults in setDefaults.
type Options struct {
	// Namespace and SecretName locate the Secret holding the CA and the certificate.
	Namespace  string
	SecretName string
	// DNSNames and IPAddresses are the certificate's subject alternative names.
	DNSNames    []string
	IPAddresses []net.IP
	// CertDir receives tls.crt, tls.key and ca.crt.
	CertDir string
	// APIServiceName and WebhookConfigName receive the CA as caBundle; empty skips either.
	APIServiceName    string
	WebhookConfigName string
	// CAValidity and CertValidity are the lifetimes; the certificate is renewed when less than
	// RenewBefore is left (the CA too, which changes the caBundle).
	CAValidity   time.Duration
	CertValidity time.Duration
	RenewBefore  time.Duration
	// CheckInterval is how often Start checks expiry, the files and the injection.
	CheckInterval time.Duration
	// Now is the clock.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.SecretName == "" {
		o.SecretName = "kedaorg-certs"
	}
	if o.CAValidity <= 0 {
		o.CAValidity = 10 * 365 * 24 * time.Hour
	}
	if o.CertValidity <= 0 {
		o.CertValidity = 365 * 24 * time.Hour
	}
	if o.RenewBefore <= 0 {
		o.RenewBefore = o.CertValidity / 3
	}
	if o.CheckInterval <= 0 {
		o.CheckInterval = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Manager keeps the serving certificate. It runs on every replica (each needs the files), and the
// replicas agree through the Secret's resourceVersion.
type Manager struct {
	kube kubernetes.Interface
	agg  aggregator.Interface
	opts Options
	log  logr.Logger

	mu sync.Mutex
	ca []byte
}

// New returns a Manager for opts.
func New(kube kubernetes.Interface, agg aggregator.Interface, opts Options, log logr.Logger) (*Manager, error) {
	opts.setDefaults()
	if opts.Namespace == "" || opts.CertDir == "" {
		return nil, errors.New("the self-managed certificate needs a namespace for its Secret and a directory for its files")
	}
	if len(opts.DNSNames) == 0 && len(opts.IPAddresses) == 0 {
		return nil, errors.New("the self-managed certificate needs at least one DNS name or IP address (--cert-dns-names)")
	}
	return &Manager{kube: kube, agg: agg, opts: opts, log: log}, nil
}

// CABundle is the PEM CA in use, after Ensure.
func (m *Manager) CABundle() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.ca)
}

// NeedLeaderElection is false: every replica serves, so every replica needs the files.
func (m *Manager) NeedLeaderElection() bool { return false }

// Start checks the certificate and the injection every CheckInterval until ctx ends.
func (m *Manager) Start(ctx context.Context) error {
	for {
		wait := m.opts.CheckInterval
		if err := m.Ensure(ctx); err != nil {
			m.log.Error(err, "failed to check the serving certificate")
			wait = min(wait, 5*time.Second)
		} else if err := m.Inject(ctx); err != nil {
			m.log.Error(err, "failed to inject the CA")
			wait = min(wait, 5*time.Second)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// Ensure makes sure the Secret holds a CA and a certificate that are valid for RenewBefore more and
// cover the names, renewing what is not, and that CertDir holds them.
func (m *Manager) Ensure(ctx context.Context) error {
	for attempt := 0; attempt < 5; attempt++ {
		secrets := m.kube.CoreV1().Secrets(m.opts.Namespace)
		secret, err := secrets.Get(ctx, m.opts.SecretName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			data, err := m.issue(nil)
			if err != nil {
				return err
			}
			secret = &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: m.opts.SecretName, Namespace: m.opts.Namespace,
					Labels: map[string]string{"app.kubernetes.io/managed-by": managedBy}},
				Type: corev1.SecretTypeTLS,
				Data: data,
			}
			created, err := secrets.Create(ctx, secret, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				continue // another replica won the race: use its certificate
			}
			if err != nil {
				return fmt.Errorf("failed to create Secret %s/%s: %w", m.opts.Namespace, m.opts.SecretName, err)
			}
			m.log.Info("created the serving certificate", "secret", m.opts.Namespace+"/"+m.opts.SecretName, "dnsNames", m.opts.DNSNames)
			return m.write(created.Data)
		}
		if err != nil {
			return fmt.Errorf("failed to get Secret %s/%s: %w", m.opts.Namespace, m.opts.SecretName, err)
		}
		reason := m.renewalReason(secret.Data)
		if reason == "" {
			return m.write(secret.Data)
		}
		data, err := m.issue(secret.Data)
		if err != nil {
			return err
		}
		secret.Data = data
		updated, err := secrets.Update(ctx, secret, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			continue // another replica renewed it: check its certificate
		}
		if err != nil {
			return fmt.Errorf("failed to renew the certificate in Secret %s/%s: %w", m.opts.Namespace, m.opts.SecretName, err)
		}
		m.log.Info("renewed the serving certificate", "secret", m.opts.Namespace+"/"+m.opts.SecretName, "reason", reason)
		return m.write(updated.Data)
	}
	return fmt.Errorf("Secret %s/%s kept changing under the certificate check; will retry", m.opts.Namespace, m.opts.SecretName)
}

// renewalReason says why the Secret's certificate must be replaced, or "" when it is good.
func (m *Manager) renewalReason(data map[string][]byte) string {
	ca, _, err := parsePair(data[KeyCA], data[KeyCAKey])
	if err != nil {
		return "the CA is missing or unreadable"
	}
	cert, _, err := parsePair(data[KeyCert], data[KeyKey])
	if err != nil {
		return "the certificate is missing or unreadable"
	}
	now := m.opts.Now()
	switch {
	case now.Add(m.opts.RenewBefore).After(ca.NotAfter):
		return "the CA expires soon"
	case now.Add(m.opts.RenewBefore).After(cert.NotAfter):
		return "the certificate expires soon"
	case cert.CheckSignatureFrom(ca) != nil:
		return "the certificate is not signed by the CA"
	case !sameNames(cert, m.opts.DNSNames, m.opts.IPAddresses):
		return "the names changed"
	}
	return ""
}

func sameNames(cert *x509.Certificate, dns []string, ips []net.IP) bool {
	if !slices.Equal(slices.Sorted(slices.Values(cert.DNSNames)), slices.Sorted(slices.Values(dns))) || len(cert.IPAddresses) != len(ips) {
		return false
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

// issue signs a new certificate with the CA in old when it is still good, else with a new CA.
func (m *Manager) issue(old map[string][]byte) (map[string][]byte, error) {
	now := m.opts.Now()
	ca, caKey, err := parsePair(old[KeyCA], old[KeyCAKey])
	caPEM, caKeyPEM := old[KeyCA], old[KeyCAKey]
	if err != nil || now.Add(m.opts.RenewBefore).After(ca.NotAfter) {
		if ca, caKey, caPEM, caKeyPEM, err = m.newCA(now); err != nil {
			return nil, err
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("failed to generate the certificate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: firstName(m.opts.DNSNames, m.opts.IPAddresses)},
		DNSNames:     m.opts.DNSNames,
		IPAddresses:  m.opts.IPAddresses,
		NotBefore:    now.Add(-time.Hour), // tolerate clocks a little behind ours
		NotAfter:     now.Add(m.opts.CertValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("failed to sign the serving certificate: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		KeyCert:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyKey:   keyPEM,
		KeyCA:    caPEM,
		KeyCAKey: caKeyPEM,
	}, nil
}

func (m *Manager) newCA(now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, []byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("failed to generate the CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "keda-operator-ca", Organization: []string{"kedactl"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(m.opts.CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("failed to create the CA: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("failed to parse the new CA: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return ca, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

// write puts the certificate, key and CA into CertDir, each file replaced atomically, and only when
// it changed (the servers reload on change).
func (m *Manager) write(data map[string][]byte) error {
	if err := os.MkdirAll(m.opts.CertDir, 0o700); err != nil {
		return fmt.Errorf("failed to create %s: %w", m.opts.CertDir, err)
	}
	// The key first: a server that reloads on the new certificate must find its key in place.
	for _, name := range []string{KeyKey, KeyCert, KeyCA} {
		path := filepath.Join(m.opts.CertDir, name)
		if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, data[name]) {
			continue
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, data[name], 0o600); err != nil {
			return fmt.Errorf("failed to write %s: %w", tmp, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("failed to replace %s: %w", path, err)
		}
	}
	m.mu.Lock()
	m.ca = slices.Clone(data[KeyCA])
	m.mu.Unlock()
	return nil
}

// Inject writes the CA into the APIService and every webhook of the configuration that exist and
// hold another one. A missing object is no error: it may be created later, and the next check
// injects it.
func (m *Manager) Inject(ctx context.Context) error {
	ca := m.CABundle()
	if len(ca) == 0 {
		return errors.New("no CA yet: Ensure has not succeeded")
	}
	if name := m.opts.APIServiceName; name != "" {
		api := m.agg.ApiregistrationV1().APIServices()
		svc, err := api.Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return fmt.Errorf("failed to get APIService %s: %w", name, err)
		case !bytes.Equal(svc.Spec.CABundle, ca) || svc.Spec.InsecureSkipTLSVerify:
			svc.Spec.CABundle, svc.Spec.InsecureSkipTLSVerify = ca, false
			if _, err := api.Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("failed to inject the CA into APIService %s: %w", name, err)
			}
			m.log.Info("injected the CA", "apiService", name)
		}
	}
	if name := m.opts.WebhookConfigName; name != "" {
		api := m.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations()
		cfg, err := api.Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return fmt.Errorf("failed to get ValidatingWebhookConfiguration %s: %w", name, err)
		default:
			changed := false
			for i := range cfg.Webhooks {
				if !bytes.Equal(cfg.Webhooks[i].ClientConfig.CABundle, ca) {
					cfg.Webhooks[i].ClientConfig.CABundle = ca
					changed = true
				}
			}
			if changed {
				if _, err := api.Update(ctx, cfg, metav1.UpdateOptions{}); err != nil {
					return fmt.Errorf("failed to inject the CA into ValidatingWebhookConfiguration %s: %w", name, err)
				}
				m.log.Info("injected the CA", "validatingWebhookConfiguration", name)
			}
		}
	}
	return nil
}

func parsePair(certPEM, keyPEM []byte) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, err
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, errors.New("the key is not an ECDSA key")
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("failed to encode a key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func firstName(dns []string, ips []net.IP) string {
	if len(dns) > 0 {
		return dns[0]
	}
	return ips[0].String()
}

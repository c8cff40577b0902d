package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	ktesting "k8s.io/client-go/testing"
	aggregator "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"
)

const (
	testNamespace = "keda"
	testSecret    = "kedaorg-certs"
)

// testClock is a settable clock for Options.Now.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testOptions are the options of a unit test's Manager: one-year certificate, renewed in the last
// four months.
func testOptions(t *testing.T, clock *testClock) Options {
	return Options{
		Namespace:     testNamespace,
		SecretName:    testSecret,
		DNSNames:      []string{"keda-operator.keda.svc", "localhost"},
		IPAddresses:   []net.IP{net.ParseIP("127.0.0.1")},
		CertDir:       t.TempDir(),
		CertValidity:  365 * 24 * time.Hour,
		RenewBefore:   120 * 24 * time.Hour,
		CheckInterval: 10 * time.Millisecond,
		Now:           clock.Now,
	}
}

func newTestManager(t *testing.T, kube kubernetes.Interface, agg aggregator.Interface, opts Options) *Manager {
	t.Helper()
	m, err := New(kube, agg, opts, testr.New(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

func getSecret(t *testing.T, kube kubernetes.Interface) *corev1.Secret {
	t.Helper()
	s, err := kube.CoreV1().Secrets(testNamespace).Get(context.Background(), testSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("failed to get the secret: %v", err)
	}
	return s
}

// readDir reads the files Ensure writes.
func readDir(t *testing.T, dir string) material {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("failed to read %s: %v", name, err)
		}
		return b
	}
	return material{certPEM: read(KeyCert), keyPEM: read(KeyKey), caPEM: read(KeyCA)}
}

// verifyDir checks that dir's tls.crt chains to its ca.crt for every name at now, and that tls.key
// matches tls.crt; it returns the files.
func verifyDir(t *testing.T, dir string, names []string, now time.Time) material {
	t.Helper()
	files := readDir(t, dir)
	if _, err := tls.X509KeyPair(files.certPEM, files.keyPEM); err != nil {
		t.Fatalf("tls.key does not match tls.crt: %v", err)
	}
	leaf, err := firstCertificate(files.certPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(files.caPEM) {
		t.Fatal("ca.crt holds no certificate")
	}
	for _, name := range names {
		opts := x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		if _, err := leaf.Verify(opts); err != nil {
			t.Errorf("tls.crt does not verify for %q against ca.crt: %v", name, err)
		}
	}
	return files
}

// writes counts the create and update actions on Secrets.
func writes(actions []ktesting.Action) int {
	n := 0
	for _, a := range actions {
		if a.GetResource().Resource == "secrets" && (a.GetVerb() == "create" || a.GetVerb() == "update") {
			n++
		}
	}
	return n
}

// issueMaterial makes a complete valid material as another replica would.
func issueMaterial(t *testing.T, opts Options, now time.Time) material {
	t.Helper()
	opts.setDefaults()
	ca, err := newAuthority(now, opts.CAValidity, nil)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.issue(sans{dnsNames: opts.DNSNames, ips: opts.IPAddresses}, now, opts.CertValidity)
	if err != nil {
		t.Fatal(err)
	}
	return material{certPEM: certPEM, keyPEM: keyPEM, caPEM: ca.bundlePEM, caKeyPEM: ca.keyPEM}
}

func allNames(opts Options) []string {
	names := append([]string(nil), opts.DNSNames...)
	for _, ip := range opts.IPAddresses {
		names = append(names, ip.String())
	}
	return names
}

package certs

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	ktesting "k8s.io/client-go/testing"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	aggfake "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset/fake"
)

var secretsGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

func TestNew(t *testing.T) {
	kube := fake.NewClientset()
	valid := func(t *testing.T) Options {
		return Options{Namespace: "keda", SecretName: "s", DNSNames: []string{"a"}, CertDir: t.TempDir()}
	}
	tests := []struct {
		name    string
		mutate  func(*Options)
		nilAgg  bool
		wantErr string
	}{
		{name: "defaults", mutate: func(*Options) {}},
		{name: "IP only", mutate: func(o *Options) { o.DNSNames, o.IPAddresses = nil, []net.IP{net.ParseIP("127.0.0.1")} }},
		{name: "no aggregator without an APIService", mutate: func(*Options) {}, nilAgg: true},
		{name: "no aggregator with an APIService", mutate: func(o *Options) { o.APIServiceNames = []string{"v1beta1.external.metrics.k8s.io"} }, nilAgg: true, wantErr: "aggregator clientset is required"},
		{name: "no namespace", mutate: func(o *Options) { o.Namespace = "" }, wantErr: "Namespace is required"},
		{name: "no secret", mutate: func(o *Options) { o.SecretName = "" }, wantErr: "SecretName is required"},
		{name: "no cert dir", mutate: func(o *Options) { o.CertDir = "" }, wantErr: "CertDir is required"},
		{name: "no names", mutate: func(o *Options) { o.DNSNames = nil }, wantErr: "at least one of DNSNames"},
		{name: "empty name", mutate: func(o *Options) { o.DNSNames = []string{""} }, wantErr: "empty name"},
		{name: "renew before too long", mutate: func(o *Options) { o.CertValidity, o.RenewBefore = time.Hour, time.Hour }, wantErr: "RenewBefore (1h0m0s) must be shorter"},
		{name: "certificate outlives the CA", mutate: func(o *Options) { o.CAValidity, o.CertValidity = time.Hour, 2*time.Hour }, wantErr: "must not exceed CAValidity"},
		{name: "negative interval", mutate: func(o *Options) { o.CheckInterval = -time.Second }, wantErr: "CheckInterval must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := valid(t)
			tt.mutate(&opts)
			a := aggfake.NewClientset()
			var m *Manager
			var err error
			if tt.nilAgg {
				m, err = New(kube, nil, opts, logr.Discard())
			} else {
				m, err = New(kube, a, opts, logr.Discard())
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if m.opts.CAValidity != defaultCAValidity || m.opts.CertValidity != defaultCertValidity ||
				m.opts.RenewBefore != defaultCertValidity/3 || m.opts.CheckInterval != defaultCheckInterval || m.opts.Now == nil {
				t.Errorf("defaults not filled: %+v", m.opts)
			}
			if m.NeedLeaderElection() {
				t.Error("NeedLeaderElection = true, want false: every replica serves")
			}
		})
	}
}

func TestEnsureCreatesSecretAndFiles(t *testing.T) {
	clock := newTestClock()
	kube := fake.NewClientset()
	opts := testOptions(t, clock)
	m := newTestManager(t, kube, nil, opts)
	if err := m.Ensure(context.Background()); err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	s := getSecret(t, kube)
	if s.Type != corev1.SecretTypeTLS {
		t.Errorf("secret type = %q, want %q", s.Type, corev1.SecretTypeTLS)
	}
	if s.Labels[LabelManagedBy] != ManagedBy {
		t.Errorf("secret labels = %v, want %s=%s", s.Labels, LabelManagedBy, ManagedBy)
	}
	for _, k := range []string{KeyCert, KeyKey, KeyCA, KeyCAKey} {
		if len(s.Data[k]) == 0 {
			t.Errorf("secret lacks %s", k)
		}
	}
	files := verifyDir(t, opts.CertDir, allNames(opts), clock.Now())
	if !bytes.Equal(files.certPEM, s.Data[KeyCert]) || !bytes.Equal(files.keyPEM, s.Data[KeyKey]) || !bytes.Equal(files.caPEM, s.Data[KeyCA]) {
		t.Error("the files differ from the secret")
	}
	if _, err := os.Stat(filepath.Join(opts.CertDir, KeyCAKey)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ca.key was written to the cert dir (stat: %v)", err)
	}
	for name, want := range map[string]os.FileMode{KeyKey: 0o600, KeyCert: 0o644, KeyCA: 0o644} {
		fi, err := os.Stat(filepath.Join(opts.CertDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode = %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
	if !bytes.Equal(m.CABundle(), s.Data[KeyCA]) {
		t.Error("CABundle differs from the secret's ca.crt")
	}
	leaf, _ := firstCertificate(files.certPEM)
	if want := clock.Now().Add(opts.CertValidity); !leaf.NotAfter.Equal(want) {
		t.Errorf("NotAfter = %s, want %s", leaf.NotAfter, want)
	}
}

func TestEnsureIsIdempotent(t *testing.T) {
	clock := newTestClock()
	kube := fake.NewClientset()
	opts := testOptions(t, clock)
	m := newTestManager(t, kube, nil, opts)
	ctx := context.Background()
	if err := m.Ensure(ctx); err != nil {
		t.Fatalf("first Ensure: %v", err)
	}
	before := getSecret(t, kube)
	info, err := os.Stat(filepath.Join(opts.CertDir, KeyCert))
	if err != nil {
		t.Fatal(err)
	}
	kube.ClearActions()
	clock.Advance(opts.CertValidity - opts.RenewBefore - time.Minute)
	if err := m.Ensure(ctx); err != nil {
		t.Fatalf("second Ensure: %v", err)
	}
	if n := writes(kube.Actions()); n != 0 {
		t.Errorf("second Ensure wrote the secret %d times, want 0", n)
	}
	after := getSecret(t, kube)
	if certSerial(after.Data[KeyCert]) != certSerial(before.Data[KeyCert]) {
		t.Error("the serial changed")
	}
	info2, err := os.Stat(filepath.Join(opts.CertDir, KeyCert))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(info, info2) {
		t.Error("tls.crt was rewritten although it did not change")
	}
}

func TestEnsureRenews(t *testing.T) {
	tests := []struct {
		name string
		// change runs after the first Ensure: it may move the clock, edit the Secret or the options.
		change       func(t *testing.T, clock *testClock, s *corev1.Secret, opts *Options)
		wantWrite    bool
		wantSameCA   bool
		wantSameCert bool
		// wantOldCA: the new bundle still holds the previous CA.
		wantOldCA bool
	}{
		{
			name: "certificate in the renewal window",
			change: func(_ *testing.T, c *testClock, _ *corev1.Secret, o *Options) {
				c.Advance(o.CertValidity - o.RenewBefore + time.Minute)
			},
			wantWrite: true, wantSameCA: true,
		},
		{
			name:      "certificate expired",
			change:    func(_ *testing.T, c *testClock, _ *corev1.Secret, o *Options) { c.Advance(2 * o.CertValidity) },
			wantWrite: true, wantSameCA: true,
		},
		{
			name: "CA in the renewal window",
			change: func(_ *testing.T, c *testClock, _ *corev1.Secret, o *Options) {
				c.Advance(10*365*24*time.Hour - o.RenewBefore + time.Minute)
			},
			wantWrite: true, wantOldCA: true,
		},
		{
			name: "DNS name added",
			change: func(_ *testing.T, _ *testClock, _ *corev1.Secret, o *Options) {
				o.DNSNames = append(o.DNSNames, "keda-operator.keda.svc.cluster.local")
			},
			wantWrite: true, wantSameCA: true,
		},
		{
			name: "DNS name replaced",
			change: func(_ *testing.T, _ *testClock, _ *corev1.Secret, o *Options) {
				o.DNSNames = []string{"keda-operator.other.svc"}
			},
			wantWrite: true, wantSameCA: true,
		},
		{
			name:       "DNS name removed",
			change:     func(_ *testing.T, _ *testClock, _ *corev1.Secret, o *Options) { o.DNSNames = o.DNSNames[:1] },
			wantSameCA: true, wantSameCert: true,
		},
		{
			name:      "garbage certificate",
			change:    func(_ *testing.T, _ *testClock, s *corev1.Secret, _ *Options) { s.Data[KeyCert] = []byte("garbage") },
			wantWrite: true, wantSameCA: true,
		},
		{
			name: "garbage key",
			change: func(_ *testing.T, _ *testClock, s *corev1.Secret, _ *Options) {
				s.Data[KeyKey] = []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
			},
			wantWrite: true, wantSameCA: true,
		},
		{
			name:      "garbage CA",
			change:    func(_ *testing.T, _ *testClock, s *corev1.Secret, _ *Options) { s.Data[KeyCA] = []byte("garbage") },
			wantWrite: true,
		},
		{
			name:      "empty data",
			change:    func(_ *testing.T, _ *testClock, s *corev1.Secret, _ *Options) { s.Data = nil },
			wantWrite: true,
		},
		{
			name: "certificate from another CA",
			change: func(t *testing.T, c *testClock, s *corev1.Secret, o *Options) {
				other := issueMaterial(t, *o, c.Now())
				s.Data[KeyCert], s.Data[KeyKey] = other.certPEM, other.keyPEM
			},
			wantWrite: true, wantSameCA: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newTestClock()
			kube := fake.NewClientset()
			opts := testOptions(t, clock)
			ctx := context.Background()
			if err := newTestManager(t, kube, nil, opts).Ensure(ctx); err != nil {
				t.Fatalf("first Ensure: %v", err)
			}
			first := getSecret(t, kube)
			edited := first.DeepCopy()
			tt.change(t, clock, edited, &opts)
			if _, err := kube.CoreV1().Secrets(testNamespace).Update(ctx, edited, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			kube.ClearActions()

			m := newTestManager(t, kube, nil, opts)
			if err := m.Ensure(ctx); err != nil {
				t.Fatalf("second Ensure: %v", err)
			}
			if got := writes(kube.Actions()) > 0; got != tt.wantWrite {
				t.Errorf("secret written = %v, want %v", got, tt.wantWrite)
			}
			s := getSecret(t, kube)
			files := verifyDir(t, opts.CertDir, allNames(opts), clock.Now())
			if !bytes.Equal(files.certPEM, s.Data[KeyCert]) || !bytes.Equal(files.caPEM, s.Data[KeyCA]) {
				t.Error("the files differ from the secret")
			}
			if got := certSerial(s.Data[KeyCert]) == certSerial(first.Data[KeyCert]); got != tt.wantSameCert {
				t.Errorf("same certificate = %v, want %v", got, tt.wantSameCert)
			}
			if got := bytes.Equal(s.Data[KeyCA], first.Data[KeyCA]); got != tt.wantSameCA {
				t.Errorf("same CA bundle = %v, want %v", got, tt.wantSameCA)
			}
			if !tt.wantSameCA {
				if got := certSerial(s.Data[KeyCA]) == certSerial(first.Data[KeyCA]); got {
					t.Error("the signing CA was kept, want a new one")
				}
			}
			if got := bytes.Contains(s.Data[KeyCA], first.Data[KeyCA]); got != (tt.wantSameCA || tt.wantOldCA) {
				t.Errorf("new bundle holds the previous CA = %v, want %v", got, tt.wantSameCA || tt.wantOldCA)
			}
			if !bytes.Equal(m.CABundle(), s.Data[KeyCA]) {
				t.Error("CABundle differs from the secret's ca.crt")
			}
		})
	}
}

// TestEnsureKeepsSecretType: an existing Secret of another type is updated in place (a Secret's
// type is immutable).
func TestEnsureKeepsSecretType(t *testing.T) {
	clock := newTestClock()
	existing := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: testSecret, Namespace: testNamespace}, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"other": []byte("x")}}
	kube := fake.NewClientset(existing)
	opts := testOptions(t, clock)
	if err := newTestManager(t, kube, nil, opts).Ensure(context.Background()); err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	s := getSecret(t, kube)
	if s.Type != corev1.SecretTypeOpaque || string(s.Data["other"]) != "x" || s.Labels[LabelManagedBy] != ManagedBy {
		t.Errorf("secret type %q, other %q, labels %v", s.Type, s.Data["other"], s.Labels)
	}
	verifyDir(t, opts.CertDir, allNames(opts), clock.Now())
}

func TestEnsureResolvesRaces(t *testing.T) {
	tests := []struct {
		name string
		// existing: the Secret exists (and is due for renewal) before Ensure.
		existing bool
		// verb is the action the reactor intercepts.
		verb string
		// react runs in place of the first (or every, when always) intercepted call; other holds
		// another replica's valid material.
		react  func(kube *fake.Clientset, other material) error
		always bool
		// wantOther: the files end up with the other replica's certificate.
		wantOther bool
		wantErr   string
		// wantWrites is the number of create and update calls.
		wantWrites int
	}{
		{
			name:     "conflict, another replica renewed",
			existing: true,
			verb:     "update",
			react: func(kube *fake.Clientset, other material) error {
				s, err := kube.Tracker().Get(secretsGVR, testNamespace, testSecret)
				if err != nil {
					return err
				}
				s.(*corev1.Secret).Data = other.data()
				if err := kube.Tracker().Update(secretsGVR, s, testNamespace); err != nil {
					return err
				}
				return apierrors.NewConflict(secretsGVR.GroupResource(), testSecret, errors.New("the object has been modified"))
			},
			wantOther:  true,
			wantWrites: 1,
		},
		{
			name:     "conflict, nothing changed",
			existing: true,
			verb:     "update",
			react: func(*fake.Clientset, material) error {
				return apierrors.NewConflict(secretsGVR.GroupResource(), testSecret, errors.New("the object has been modified"))
			},
			wantWrites: 2,
		},
		{
			name:     "secret deleted meanwhile",
			existing: true,
			verb:     "update",
			react: func(kube *fake.Clientset, _ material) error {
				if err := kube.Tracker().Delete(secretsGVR, testNamespace, testSecret); err != nil {
					return err
				}
				return apierrors.NewNotFound(secretsGVR.GroupResource(), testSecret)
			},
			wantWrites: 2,
		},
		{
			name: "create race",
			verb: "create",
			react: func(kube *fake.Clientset, other material) error {
				s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: testSecret, Namespace: testNamespace}, Type: corev1.SecretTypeTLS, Data: other.data()}
				if err := kube.Tracker().Add(s); err != nil {
					return err
				}
				return apierrors.NewAlreadyExists(secretsGVR.GroupResource(), testSecret)
			},
			wantOther:  true,
			wantWrites: 1,
		},
		{
			name:     "conflict every time",
			existing: true,
			verb:     "update",
			always:   true,
			react: func(*fake.Clientset, material) error {
				return apierrors.NewConflict(secretsGVR.GroupResource(), testSecret, errors.New("the object has been modified"))
			},
			wantErr:    "lost the race",
			wantWrites: ensureAttempts,
		},
		{
			name:     "update refused",
			existing: true,
			verb:     "update",
			react: func(*fake.Clientset, material) error {
				return apierrors.NewForbidden(secretsGVR.GroupResource(), testSecret, errors.New("no"))
			},
			wantErr:    "failed to update secret keda/kedaorg-certs",
			wantWrites: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newTestClock()
			kube := fake.NewClientset()
			opts := testOptions(t, clock)
			ctx := context.Background()
			if tt.existing {
				if err := newTestManager(t, kube, nil, testOptions(t, clock)).Ensure(ctx); err != nil {
					t.Fatalf("first Ensure: %v", err)
				}
				clock.Advance(opts.CertValidity)
			}
			other := issueMaterial(t, opts, clock.Now())
			intercepted := 0
			kube.PrependReactor(tt.verb, "secrets", func(ktesting.Action) (bool, runtime.Object, error) {
				intercepted++
				if intercepted > 1 && !tt.always {
					return false, nil, nil
				}
				return true, nil, tt.react(kube, other)
			})
			kube.ClearActions()

			err := newTestManager(t, kube, nil, opts).Ensure(ctx)
			if n := writes(kube.Actions()); n != tt.wantWrites {
				t.Errorf("secret written %d times, want %d", n, tt.wantWrites)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Ensure error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Ensure: %v", err)
			}
			files := verifyDir(t, opts.CertDir, allNames(opts), clock.Now())
			s := getSecret(t, kube)
			if !bytes.Equal(files.certPEM, s.Data[KeyCert]) {
				t.Error("the files differ from the secret")
			}
			if got := bytes.Equal(files.certPEM, other.certPEM); got != tt.wantOther {
				t.Errorf("files hold the other replica's certificate = %v, want %v", got, tt.wantOther)
			}
		})
	}
}

func TestInject(t *testing.T) {
	const apiServiceName, webhookName = "v1beta1.external.metrics.k8s.io", "keda-admission"
	apiService := func(ca []byte, insecure bool) *apiregistrationv1.APIService {
		return &apiregistrationv1.APIService{
			ObjectMeta: metav1.ObjectMeta{Name: apiServiceName},
			Spec:       apiregistrationv1.APIServiceSpec{Group: "external.metrics.k8s.io", Version: "v1beta1", CABundle: ca, InsecureSkipTLSVerify: insecure},
		}
	}
	webhookConfig := func(cas ...[]byte) *admissionregistrationv1.ValidatingWebhookConfiguration {
		cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: webhookName}}
		for i, ca := range cas {
			cfg.Webhooks = append(cfg.Webhooks, admissionregistrationv1.ValidatingWebhook{
				Name:         string(rune('a'+i)) + ".keda.sh",
				ClientConfig: admissionregistrationv1.WebhookClientConfig{CABundle: ca},
			})
		}
		return cfg
	}
	tests := []struct {
		name              string
		apiService        func(ca []byte) *apiregistrationv1.APIService
		webhook           func(ca []byte) *admissionregistrationv1.ValidatingWebhookConfiguration
		noTargets         bool
		wantAPIUpdates    int
		wantWebhookUpdate int
	}{
		{
			name:       "sets the caBundle everywhere",
			apiService: func([]byte) *apiregistrationv1.APIService { return apiService(nil, true) },
			webhook: func([]byte) *admissionregistrationv1.ValidatingWebhookConfiguration {
				return webhookConfig(nil, []byte("stale"))
			},
			wantAPIUpdates:    1,
			wantWebhookUpdate: 1,
		},
		{
			name:       "replaces a stale caBundle on one webhook",
			apiService: func(ca []byte) *apiregistrationv1.APIService { return apiService(ca, false) },
			webhook: func(ca []byte) *admissionregistrationv1.ValidatingWebhookConfiguration {
				return webhookConfig(ca, []byte("stale"), ca)
			},
			wantWebhookUpdate: 1,
		},
		{
			name:       "no-op when equal",
			apiService: func(ca []byte) *apiregistrationv1.APIService { return apiService(ca, false) },
			webhook:    func(ca []byte) *admissionregistrationv1.ValidatingWebhookConfiguration { return webhookConfig(ca, ca) },
		},
		{
			name:       "targets not found",
			apiService: func([]byte) *apiregistrationv1.APIService { return nil },
			webhook:    func([]byte) *admissionregistrationv1.ValidatingWebhookConfiguration { return nil },
		},
		{
			name:       "no targets configured",
			apiService: func([]byte) *apiregistrationv1.APIService { return apiService(nil, true) },
			webhook:    func([]byte) *admissionregistrationv1.ValidatingWebhookConfiguration { return webhookConfig(nil) },
			noTargets:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newTestClock()
			opts := testOptions(t, clock)
			if !tt.noTargets {
				opts.APIServiceNames, opts.WebhookConfigName = []string{apiServiceName}, webhookName
			}
			ctx := context.Background()
			kube, agg := fake.NewClientset(), aggfake.NewClientset()
			m := newTestManager(t, kube, agg, opts)
			if err := m.Inject(ctx); err == nil {
				t.Error("Inject before Ensure succeeded, want an error")
			}
			if err := m.Ensure(ctx); err != nil {
				t.Fatalf("Ensure: %v", err)
			}
			ca := m.CABundle()
			if svc := tt.apiService(ca); svc != nil {
				if _, err := agg.ApiregistrationV1().APIServices().Create(ctx, svc, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if cfg := tt.webhook(ca); cfg != nil {
				if _, err := kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, cfg, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			kube.ClearActions()
			agg.ClearActions()

			for i := range 2 {
				if err := m.Inject(ctx); err != nil {
					t.Fatalf("Inject #%d: %v", i+1, err)
				}
			}
			if n := countVerb(agg.Actions(), "update"); n != tt.wantAPIUpdates {
				t.Errorf("APIService updated %d times, want %d", n, tt.wantAPIUpdates)
			}
			if n := countVerb(kube.Actions(), "update"); n != tt.wantWebhookUpdate {
				t.Errorf("webhook configuration updated %d times, want %d", n, tt.wantWebhookUpdate)
			}
			if tt.noTargets {
				if n := len(agg.Actions()) + len(kube.Actions()); n != 0 {
					t.Errorf("Inject made %d calls with no targets configured, want 0", n)
				}
				return
			}
			if svc, err := agg.ApiregistrationV1().APIServices().Get(ctx, apiServiceName, metav1.GetOptions{}); err == nil {
				if !bytes.Equal(svc.Spec.CABundle, ca) || svc.Spec.InsecureSkipTLSVerify {
					t.Errorf("APIService caBundle set %v, insecureSkipTLSVerify %v", bytes.Equal(svc.Spec.CABundle, ca), svc.Spec.InsecureSkipTLSVerify)
				}
			}
			if cfg, err := kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, webhookName, metav1.GetOptions{}); err == nil {
				for _, w := range cfg.Webhooks {
					if !bytes.Equal(w.ClientConfig.CABundle, ca) {
						t.Errorf("webhook %s has caBundle %q", w.Name, w.ClientConfig.CABundle)
					}
				}
			}
		})
	}
}

func TestInjectReportsErrors(t *testing.T) {
	clock := newTestClock()
	opts := testOptions(t, clock)
	opts.APIServiceNames, opts.WebhookConfigName = []string{"v1beta1.external.metrics.k8s.io"}, "keda-admission"
	kube, agg := fake.NewClientset(), aggfake.NewClientset()
	forbidden := func(resource string) ktesting.ReactionFunc {
		return func(ktesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: resource}, "x", errors.New("no"))
		}
	}
	agg.PrependReactor("get", "apiservices", forbidden("apiservices"))
	kube.PrependReactor("get", "validatingwebhookconfigurations", forbidden("validatingwebhookconfigurations"))
	m := newTestManager(t, kube, agg, opts)
	ctx := context.Background()
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	err := m.Inject(ctx)
	for _, want := range []string{"APIService v1beta1.external.metrics.k8s.io", "ValidatingWebhookConfiguration keda-admission"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Inject error = %v, want one naming %s", err, want)
		}
	}
}

// TestStartFollowsTheSecret: Start injects the CA, and rewrites CertDir when another replica
// rotated the Secret.
func TestStartFollowsTheSecret(t *testing.T) {
	clock := newTestClock()
	opts := testOptions(t, clock)
	opts.WebhookConfigName = "keda-admission"
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: opts.WebhookConfigName},
		Webhooks:   []admissionregistrationv1.ValidatingWebhook{{Name: "a.keda.sh"}},
	}
	kube := fake.NewClientset(cfg)
	m := newTestManager(t, kube, nil, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Start returned %v, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Start did not return after its context ended")
		}
	})

	waitFor(t, "the CA injected", func() bool {
		got, err := kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, opts.WebhookConfigName, metav1.GetOptions{})
		return err == nil && len(m.CABundle()) > 0 && bytes.Equal(got.Webhooks[0].ClientConfig.CABundle, m.CABundle())
	})

	other := issueMaterial(t, opts, clock.Now())
	s := getSecret(t, kube)
	s.Data = other.data()
	if _, err := kube.CoreV1().Secrets(testNamespace).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the files and the webhook to follow the rotated Secret", func() bool {
		got, err := kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, opts.WebhookConfigName, metav1.GetOptions{})
		files, ferr := os.ReadFile(filepath.Join(opts.CertDir, KeyCert))
		return err == nil && ferr == nil && bytes.Equal(files, other.certPEM) && bytes.Equal(got.Webhooks[0].ClientConfig.CABundle, other.caPEM)
	})
	verifyDir(t, opts.CertDir, allNames(opts), clock.Now())
}

// TestStartRetriesFailedChecks: a failed check is retried after min(CheckInterval, maxRetryDelay),
// not after CheckInterval.
func TestStartRetriesFailedChecks(t *testing.T) {
	clock := newTestClock()
	opts := testOptions(t, clock)
	opts.CheckInterval = time.Hour
	kube := fake.NewClientset()
	failures := 0
	kube.PrependReactor("get", "secrets", func(ktesting.Action) (bool, runtime.Object, error) {
		if failures == 0 {
			failures++
			return true, nil, errors.New("apiserver unavailable")
		}
		return false, nil, nil
	})
	m := newTestManager(t, kube, nil, opts)
	m.maxRetryDelay = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Start(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	waitFor(t, "the retried check to write the Secret", func() bool {
		_, err := os.Stat(filepath.Join(opts.CertDir, KeyCert))
		return err == nil
	})
}

func countVerb(actions []ktesting.Action, verb string) int {
	n := 0
	for _, a := range actions {
		if a.GetVerb() == verb {
			n++
		}
	}
	return n
}

// waitFor polls cond for at most 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

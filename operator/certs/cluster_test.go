package certs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	aggregator "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"
	"k8s.io/utils/ptr"

	"github.com/kedactl/kedactl/test/cluster"
)

// TestManagerOnLocalCluster runs Managers against a real apiserver: the Secret is created, the CA
// injected into a webhook configuration and an APIService, the serving certificate renewed with
// the same CA, and two replicas converge on one certificate.
func TestManagerOnLocalCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local control plane")
	}
	c := cluster.StartForTest(t, cluster.Options{Nodes: 1})
	kube, err := kubernetes.NewForConfig(c.RestConfig())
	if err != nil {
		t.Fatal(err)
	}
	agg, err := aggregator.NewForConfig(c.RestConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const ns = "keda-certs-test"
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	options := func(t *testing.T, secret string) Options {
		return Options{
			Namespace:     ns,
			SecretName:    secret,
			DNSNames:      []string{"keda-operator." + ns + ".svc", "localhost"},
			CertDir:       t.TempDir(),
			CheckInterval: 200 * time.Millisecond,
		}
	}

	t.Run("creates, injects and renews", func(t *testing.T) {
		webhookName, apiServiceName := "keda-admission-test", "v1alpha1.certs-test.kedactl.io"
		createWebhookConfig(t, kube, webhookName)
		createAPIService(t, agg, apiServiceName)
		opts := options(t, "renewing-certs")
		opts.WebhookConfigName, opts.APIServiceNames = webhookName, []string{apiServiceName}
		opts.CertValidity, opts.RenewBefore = 2*time.Second, time.Second
		m := startManager(t, kube, agg, opts)

		var first *corev1.Secret
		poll(t, "the Secret and the injected caBundle", func(ctx context.Context) (bool, error) {
			s, err := kube.CoreV1().Secrets(ns).Get(ctx, opts.SecretName, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			cfg, err := kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, webhookName, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			svc, err := agg.ApiregistrationV1().APIServices().Get(ctx, apiServiceName, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, w := range cfg.Webhooks {
				if !bytes.Equal(w.ClientConfig.CABundle, s.Data[KeyCA]) {
					return false, nil
				}
			}
			first = s
			return bytes.Equal(svc.Spec.CABundle, s.Data[KeyCA]) && !svc.Spec.InsecureSkipTLSVerify, nil
		})
		if first.Labels[LabelManagedBy] != ManagedBy || first.Type != corev1.SecretTypeTLS {
			t.Errorf("secret labels %v, type %q", first.Labels, first.Type)
		}
		firstSerial := certSerial(first.Data[KeyCert])
		poll(t, "a renewed certificate in the Secret and in CertDir", func(ctx context.Context) (bool, error) {
			s, err := kube.CoreV1().Secrets(ns).Get(ctx, opts.SecretName, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			files, err := os.ReadFile(filepath.Join(opts.CertDir, KeyCert))
			if err != nil {
				return false, err
			}
			serial := certSerial(s.Data[KeyCert])
			return serial != firstSerial && certSerial(files) == serial, nil
		})
		files := verifyDir(t, opts.CertDir, opts.DNSNames, time.Now())
		if !bytes.Equal(files.caPEM, first.Data[KeyCA]) || !bytes.Equal(m.CABundle(), first.Data[KeyCA]) {
			t.Error("the CA changed on renewal")
		}
		cfg, err := kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, webhookName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(cfg.Webhooks[0].ClientConfig.CABundle, first.Data[KeyCA]) {
			t.Error("the injected caBundle changed on renewal")
		}
	})

	t.Run("replicas converge", func(t *testing.T) {
		for _, tt := range []struct {
			name                      string
			certValidity, renewBefore time.Duration
		}{
			{name: "long-lived certificate"},
			{name: "certificate renewed every second", certValidity: 2 * time.Second, renewBefore: time.Second},
		} {
			t.Run(tt.name, func(t *testing.T) {
				secret := "replicas-certs"
				if tt.certValidity != 0 {
					secret = "replicas-rotating-certs"
				}
				var opts []Options
				for range 2 {
					o := options(t, secret)
					o.CertValidity, o.RenewBefore = tt.certValidity, tt.renewBefore
					opts = append(opts, o)
				}
				var wg sync.WaitGroup
				start := make(chan struct{})
				for _, o := range opts {
					wg.Go(func() {
						<-start
						startManager(t, kube, agg, o)
					})
				}
				close(start)
				wg.Wait()
				converged := func(not string) string {
					var serial string
					poll(t, "both replicas serving the Secret's certificate", func(ctx context.Context) (bool, error) {
						s, err := kube.CoreV1().Secrets(ns).Get(ctx, secret, metav1.GetOptions{})
						if err != nil {
							return false, nil
						}
						serial = certSerial(s.Data[KeyCert])
						if serial == not {
							return false, nil
						}
						for _, o := range opts {
							files, err := os.ReadFile(filepath.Join(o.CertDir, KeyCert))
							if err != nil || certSerial(files) != serial {
								return false, nil
							}
							ca, err := os.ReadFile(filepath.Join(o.CertDir, KeyCA))
							if err != nil || !bytes.Equal(ca, s.Data[KeyCA]) {
								return false, nil
							}
						}
						return true, nil
					})
					return serial
				}
				serial := converged("")
				if tt.certValidity != 0 {
					// Both replicas renew from here on: they must still agree after a renewal.
					serial = converged(serial)
				}
				t.Logf("both replicas serve serial %s", serial)
			})
		}
	})
}

// startManager runs a Manager until the test ends.
func startManager(t *testing.T, kube kubernetes.Interface, agg aggregator.Interface, opts Options) *Manager {
	t.Helper()
	m, err := New(kube, agg, opts, testr.New(t))
	if err != nil {
		t.Error(err)
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Start returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Start did not return after its context ended")
		}
	})
	return m
}

// poll waits at most 30 seconds for cond.
func poll(t *testing.T, what string, cond wait.ConditionWithContextFunc) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 30*time.Second, true, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// createWebhookConfig creates a configuration whose webhooks match nothing (a namespace selector
// no namespace has) and call an address nothing listens on, without caBundle.
func createWebhookConfig(t *testing.T, kube kubernetes.Interface, name string) {
	t.Helper()
	webhook := func(name string) admissionregistrationv1.ValidatingWebhook {
		return admissionregistrationv1.ValidatingWebhook{
			Name:                    name,
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: ptr.To("https://localhost:1/x")},
			FailurePolicy:           ptr.To(admissionregistrationv1.Ignore),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"certs-test.kedactl.io/match": "nothing"}},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
			}},
		}
	}
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks:   []admissionregistrationv1.ValidatingWebhook{webhook("a.certs-test.kedactl.io"), webhook("b.certs-test.kedactl.io")},
	}
	if _, err := kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(context.Background(), cfg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// createAPIService registers a group nobody serves, with insecureSkipTLSVerify and no caBundle.
func createAPIService(t *testing.T, agg aggregator.Interface, name string) {
	t.Helper()
	svc := &apiregistrationv1.APIService{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: apiregistrationv1.APIServiceSpec{
			Group:                 "certs-test.kedactl.io",
			Version:               "v1alpha1",
			Service:               &apiregistrationv1.ServiceReference{Namespace: "default", Name: "nothing", Port: ptr.To(int32(443))},
			InsecureSkipTLSVerify: true,
			GroupPriorityMinimum:  100,
			VersionPriority:       100,
		},
	}
	if _, err := agg.ApiregistrationV1().APIServices().Create(context.Background(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

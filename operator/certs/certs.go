// Package certs manages the operator's own serving certificates, as KEDA's operator does: a CA and
// a serving certificate kept in a Secret (so that every replica serves the same certificate),
// written to the directory the external metrics server and the admission webhook read, the CA
// injected as caBundle into the APIService and the ValidatingWebhookConfiguration, and the serving
// certificate renewed before it expires.
//
// Every replica runs a Manager (it does not need leader election): replicas race through the
// Secret with optimistic concurrency, and the loser of a race re-reads and adopts the winner's
// certificate.
//
// The Manager uses client-go clientsets (kubernetes.Interface for the Secret and the webhook
// configuration, the kube-aggregator clientset for the APIService) rather than a controller-runtime
// client, so that it reads the Secret straight from the apiserver instead of from an informer cache
// that would watch every Secret the operator can read.
//
// RBAC: secrets get, create, update in Namespace; apiservices get, update; validatingwebhookconfigurations
// get, update.
package certs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	aggregator "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"
)

// Keys of the Secret. KeyCert, KeyKey and KeyCA are also the file names in Options.CertDir; the
// CA key never leaves the Secret.
const (
	KeyCert  = corev1.TLSCertKey       // tls.crt
	KeyKey   = corev1.TLSPrivateKeyKey // tls.key
	KeyCA    = "ca.crt"
	KeyCAKey = "ca.key"
)

// LabelManagedBy and ManagedBy label the Secret.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "keda-operator"
)

const (
	defaultCAValidity    = 10 * 365 * 24 * time.Hour
	defaultCertValidity  = 365 * 24 * time.Hour
	defaultCheckInterval = time.Minute
	// defaultMaxRetryDelay bounds the wait after a failed check.
	defaultMaxRetryDelay = 5 * time.Second
	// checkTimeout bounds one check of Start, so that a hung request does not stop the loop.
	checkTimeout = 30 * time.Second
	// ensureAttempts bounds Ensure's re-reads after lost races.
	ensureAttempts = 5
)

// Options configures a Manager; zero values get defaults in setDefaults.
type Options struct {
	// Namespace and SecretName locate the Secret holding tls.crt, tls.key, ca.crt and ca.key.
	Namespace  string
	SecretName string
	// DNSNames and IPAddresses are the serving certificate's subject alternative names; at least
	// one is required. The first DNS name (else the first IP) is also its common name.
	DNSNames    []string
	IPAddresses []net.IP
	// CertDir receives tls.crt, tls.key and ca.crt, each replaced atomically (temp file and rename).
	CertDir string
	// APIServiceNames receive the CA as spec.caBundle (and insecureSkipTLSVerify false): the
	// external metrics APIService and the history one, served by the same server; empty injects
	// nowhere.
	APIServiceNames []string
	// WebhookConfigName is a ValidatingWebhookConfiguration whose every webhook receives the CA
	// as clientConfig.caBundle; empty injects nowhere.
	WebhookConfigName string
	// CAValidity is the CA's lifetime; default 10 years.
	CAValidity time.Duration
	// CertValidity is the serving certificate's lifetime; default 1 year.
	CertValidity time.Duration
	// RenewBefore renews the serving certificate (and the CA) when it expires within this;
	// default CertValidity/3.
	RenewBefore time.Duration
	// CheckInterval is how often Start re-checks expiry, the files and the injection; default 1
	// minute.
	CheckInterval time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.CAValidity == 0 {
		o.CAValidity = defaultCAValidity
	}
	if o.CertValidity == 0 {
		o.CertValidity = defaultCertValidity
	}
	if o.RenewBefore == 0 {
		o.RenewBefore = o.CertValidity / 3
	}
	if o.CheckInterval == 0 {
		o.CheckInterval = defaultCheckInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func (o *Options) validate() error {
	var errs []error
	if o.Namespace == "" {
		errs = append(errs, errors.New("Namespace is required"))
	}
	if o.SecretName == "" {
		errs = append(errs, errors.New("SecretName is required"))
	}
	if o.CertDir == "" {
		errs = append(errs, errors.New("CertDir is required"))
	}
	if len(o.DNSNames) == 0 && len(o.IPAddresses) == 0 {
		errs = append(errs, errors.New("at least one of DNSNames and IPAddresses is required"))
	}
	if slices.Contains(o.DNSNames, "") {
		errs = append(errs, errors.New("DNSNames holds an empty name"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"CAValidity", o.CAValidity}, {"CertValidity", o.CertValidity}, {"RenewBefore", o.RenewBefore}, {"CheckInterval", o.CheckInterval}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative, got %s", d.name, d.v))
		}
	}
	if o.RenewBefore >= o.CertValidity {
		errs = append(errs, fmt.Errorf("RenewBefore (%s) must be shorter than CertValidity (%s)", o.RenewBefore, o.CertValidity))
	}
	if o.CertValidity > o.CAValidity {
		errs = append(errs, fmt.Errorf("CertValidity (%s) must not exceed CAValidity (%s)", o.CertValidity, o.CAValidity))
	}
	return errors.Join(errs...)
}

// Manager keeps the serving certificate; see the package documentation.
type Manager struct {
	kube kubernetes.Interface
	agg  aggregator.Interface
	opts Options
	want sans
	log  logr.Logger
	// maxRetryDelay bounds the wait after a failed check (defaultMaxRetryDelay; tests shorten it).
	maxRetryDelay time.Duration

	mu       sync.Mutex
	caBundle []byte
}

// New validates opts, fills its defaults and returns a Manager. agg may be nil when
// opts.APIServiceNames is empty.
func New(kube kubernetes.Interface, agg aggregator.Interface, opts Options, log logr.Logger) (*Manager, error) {
	opts.setDefaults()
	opts.DNSNames = slices.Clone(opts.DNSNames)
	opts.IPAddresses = slices.Clone(opts.IPAddresses)
	opts.APIServiceNames = slices.DeleteFunc(slices.Clone(opts.APIServiceNames), func(n string) bool { return n == "" })
	err := opts.validate()
	if kube == nil {
		err = errors.Join(err, errors.New("a Kubernetes clientset is required"))
	}
	if agg == nil && len(opts.APIServiceNames) > 0 {
		err = errors.Join(err, fmt.Errorf("an aggregator clientset is required to inject into APIService %s", strings.Join(opts.APIServiceNames, ", ")))
	}
	if err != nil {
		return nil, fmt.Errorf("invalid certificate options: %w", err)
	}
	return &Manager{
		kube: kube,
		agg:  agg,
		opts: opts,
		want: sans{dnsNames: opts.DNSNames, ips: opts.IPAddresses},
		log:  log,

		maxRetryDelay: defaultMaxRetryDelay,
	}, nil
}

// CABundle returns the PEM CA bundle in use (the signing CA, and after a CA rotation the previous
// one); nil before the first successful Ensure.
func (m *Manager) CABundle() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.caBundle)
}

// NeedLeaderElection is false: every replica serves, so every replica keeps its files current.
func (m *Manager) NeedLeaderElection() bool { return false }

// Start runs until ctx ends: Ensure and Inject at once and then every CheckInterval, or after
// min(CheckInterval, 5s) when a check failed. Errors are logged; Start returns nil when ctx ends.
func (m *Manager) Start(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		delay := m.opts.CheckInterval
		if err := m.check(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			delay = min(delay, m.maxRetryDelay)
			m.log.Error(err, "Certificate check failed", "retryIn", delay)
		}
		timer.Reset(delay)
	}
}

func (m *Manager) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if err := m.Ensure(ctx); err != nil {
		return err
	}
	return m.Inject(ctx)
}

// Ensure makes sure that the Secret holds a valid CA and serving certificate for the names in
// Options, and that CertDir holds them. It creates them when the Secret is missing; it renews the
// serving certificate, keeping the CA, when it expires within RenewBefore, lacks a wanted name,
// is unreadable or was not signed by the CA; it renews the CA too when the CA expires within
// RenewBefore or is unreadable. Replicas may call it at once: a lost create (AlreadyExists) or
// update (Conflict) re-reads the Secret and decides again.
func (m *Manager) Ensure(ctx context.Context) error {
	for range ensureAttempts {
		done, err := m.ensureOnce(ctx)
		if err != nil || done {
			return err
		}
	}
	return fmt.Errorf("failed to update secret %s/%s: lost the race with other writers %d times", m.opts.Namespace, m.opts.SecretName, ensureAttempts)
}

// ensureOnce does one read-decide-write round; done is false when a race was lost and the round
// must be repeated.
func (m *Manager) ensureOnce(ctx context.Context) (done bool, err error) {
	ns, name := m.opts.Namespace, m.opts.SecretName
	secrets := m.kube.CoreV1().Secrets(ns)
	secret, err := secrets.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		secret = nil
	} else if err != nil {
		return false, fmt.Errorf("failed to get secret %s/%s: %w", ns, name, err)
	}
	var current material
	if secret != nil {
		current = materialFrom(secret.Data)
	}
	now := m.opts.Now()
	d := decide(current, m.want, now, m.opts.RenewBefore)
	if d.action == actionKeep {
		return true, m.apply(current)
	}
	next, err := m.generate(d, now)
	if err != nil {
		return false, err
	}
	log := m.log.WithValues("secret", ns+"/"+name, "action", d.action.String(), "reason", d.reason)
	if d.detail != "" {
		log = log.WithValues("detail", d.detail)
	}
	if secret == nil {
		secret = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{LabelManagedBy: ManagedBy}},
			// kubernetes.io/tls: the apiserver checks that tls.crt and tls.key are present, and
			// tools recognise the Secret as TLS material; ca.crt and ca.key are allowed extras.
			Type: corev1.SecretTypeTLS,
			Data: next.data(),
		}
		if _, err := secrets.Create(ctx, secret, metav1.CreateOptions{}); err != nil {
			if apierrors.IsAlreadyExists(err) {
				log.V(1).Info("Another replica created the certificate Secret first; re-reading it")
				return false, nil
			}
			return false, fmt.Errorf("failed to create secret %s/%s: %w", ns, name, err)
		}
	} else {
		// The resourceVersion from Get makes the update fail with Conflict when another replica
		// wrote in between. The type is left alone: it cannot change, and any type holds these keys.
		updated := secret.DeepCopy()
		if updated.Labels == nil {
			updated.Labels = map[string]string{}
		}
		updated.Labels[LabelManagedBy] = ManagedBy
		if updated.Data == nil {
			updated.Data = map[string][]byte{}
		}
		for k, v := range next.data() {
			updated.Data[k] = v
		}
		if _, err := secrets.Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
				log.V(1).Info("The certificate Secret changed meanwhile; re-reading it", "error", err.Error())
				return false, nil
			}
			return false, fmt.Errorf("failed to update secret %s/%s: %w", ns, name, err)
		}
	}
	log.Info("Issued the serving certificate", "serial", certSerial(next.certPEM), "caSerial", certSerial(next.caPEM))
	return true, m.apply(next)
}

// generate makes the material decision d asks for.
func (m *Manager) generate(d decision, now time.Time) (material, error) {
	ca := d.ca
	if d.action == actionRenewAll {
		var err error
		if ca, err = newAuthority(now, m.opts.CAValidity, d.oldCA); err != nil {
			return material{}, err
		}
	}
	certPEM, keyPEM, err := ca.issue(m.want, now, m.opts.CertValidity)
	if err != nil {
		return material{}, err
	}
	return material{certPEM: certPEM, keyPEM: keyPEM, caPEM: ca.bundlePEM, caKeyPEM: ca.keyPEM}, nil
}

// apply writes mat to CertDir where it differs and makes its CA the one CABundle returns.
func (m *Manager) apply(mat material) error {
	wrote, err := writeFiles(m.opts.CertDir, []file{
		{name: KeyCA, data: mat.caPEM, perm: 0o644},
		{name: KeyKey, data: mat.keyPEM, perm: 0o600},
		{name: KeyCert, data: mat.certPEM, perm: 0o644},
	})
	if err != nil {
		return err
	}
	if wrote {
		m.log.Info("Wrote the serving certificate", "dir", m.opts.CertDir, "serial", certSerial(mat.certPEM))
	}
	m.mu.Lock()
	m.caBundle = slices.Clone(mat.caPEM)
	m.mu.Unlock()
	return nil
}

// Inject writes the CA bundle into the APIServices and into every webhook of the webhook
// configuration where it differs. A missing target is not an error: it may be created later, and
// Start injects again on every check.
func (m *Manager) Inject(ctx context.Context) error {
	ca := m.CABundle()
	if len(ca) == 0 {
		return errors.New("no CA to inject: Ensure has not succeeded yet")
	}
	var errs []error
	for _, name := range m.opts.APIServiceNames {
		errs = append(errs, m.injectAPIService(ctx, name, ca))
	}
	if m.opts.WebhookConfigName != "" {
		errs = append(errs, m.injectWebhook(ctx, ca))
	}
	return errors.Join(errs...)
}

func (m *Manager) injectAPIService(ctx context.Context, name string, ca []byte) error {
	client := m.agg.ApiregistrationV1().APIServices()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		svc, err := client.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			m.log.V(1).Info("APIService not found; injecting the CA later", "apiService", name)
			return nil
		}
		if err != nil {
			return err
		}
		if !setAPIServiceCABundle(svc, ca) {
			return nil
		}
		if _, err := client.Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
			return err
		}
		m.log.Info("Injected the CA into the APIService", "apiService", name)
		return nil
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("failed to inject the CA into APIService %s: %w", name, err)
	}
	return nil
}

func (m *Manager) injectWebhook(ctx context.Context, ca []byte) error {
	name := m.opts.WebhookConfigName
	client := m.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cfg, err := client.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			m.log.V(1).Info("ValidatingWebhookConfiguration not found; injecting the CA later", "webhookConfiguration", name)
			return nil
		}
		if err != nil {
			return err
		}
		if !setWebhookCABundle(cfg, ca) {
			return nil
		}
		if _, err := client.Update(ctx, cfg, metav1.UpdateOptions{}); err != nil {
			return err
		}
		m.log.Info("Injected the CA into the ValidatingWebhookConfiguration", "webhookConfiguration", name)
		return nil
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("failed to inject the CA into ValidatingWebhookConfiguration %s: %w", name, err)
	}
	return nil
}

// setAPIServiceCABundle sets svc's caBundle to ca and turns insecureSkipTLSVerify off (the
// apiserver refuses both at once); it reports whether svc changed.
func setAPIServiceCABundle(svc *apiregistrationv1.APIService, ca []byte) bool {
	if bytes.Equal(svc.Spec.CABundle, ca) && !svc.Spec.InsecureSkipTLSVerify {
		return false
	}
	svc.Spec.CABundle = slices.Clone(ca)
	svc.Spec.InsecureSkipTLSVerify = false
	return true
}

// setWebhookCABundle sets the caBundle of every webhook of cfg to ca; it reports whether cfg
// changed.
func setWebhookCABundle(cfg *admissionregistrationv1.ValidatingWebhookConfiguration, ca []byte) bool {
	changed := false
	for i := range cfg.Webhooks {
		cc := &cfg.Webhooks[i].ClientConfig
		if !bytes.Equal(cc.CABundle, ca) {
			cc.CABundle = slices.Clone(ca)
			changed = true
		}
	}
	return changed
}

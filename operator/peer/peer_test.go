package peer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/metrics/pkg/apis/external_metrics"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
	"github.com/kedactl/kedactl/operator/engine"
	"github.com/kedactl/kedactl/operator/history"
	"github.com/kedactl/kedactl/operator/membership"
)

func selfSigned(t *testing.T) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "keda-operator.keda.svc"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func source(c *tls.Certificate) CertificateSource {
	return func() (*tls.Certificate, error) { return c, nil }
}

// fakeMetrics answers one ScaledObject's metric, and NotFound for others.
type fakeMetrics struct {
	name  string
	calls int
}

func (f *fakeMetrics) GetExternalMetric(_ context.Context, ns string, sel labels.Selector, info provider.ExternalMetricInfo) (*external_metrics.ExternalMetricValueList, error) {
	f.calls++
	if n, _ := sel.RequiresExactMatch("scaledobject.keda.sh/name"); n != "so" {
		return nil, apierrors.NewNotFound(externalMetricsGR, fmt.Sprintf("%s (ScaledObject %s/%s is not registered)", info.Metric, ns, n))
	}
	return &external_metrics.ExternalMetricValueList{Items: []external_metrics.ExternalMetricValue{{MetricName: info.Metric, MetricLabels: map[string]string{}, Value: resource.MustParse("42")}}}, nil
}
func (f *fakeMetrics) ListAllExternalMetrics() []provider.ExternalMetricInfo { return nil }

// owners names one owner for everything.
type owners struct {
	m    membership.Member
	self bool
	err  error
}

func (o owners) Owner(engine.Key) (membership.Member, bool, error) { return o.m, o.self, o.err }

// peerServer starts a peer endpoint on httptest with its TLS settings.
func peerServer(t *testing.T, cert *tls.Certificate, m *fakeMetrics) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(NewServer(ServerOptions{Certificate: source(cert), Metrics: m}).Handler())
	srv.TLS = serverTLS(source(cert))
	// httptest fills in its own certificate unless one is set, and Go prefers it over
	// GetCertificate for a client that names no server.
	srv.TLS.Certificates = []tls.Certificate{*cert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func selector(name string) labels.Selector {
	return labels.SelectorFromSet(labels.Set{"scaledobject.keda.sh/name": name})
}

func TestForwardingRoutesToOwner(t *testing.T) {
	cert := selfSigned(t)
	remote, local := &fakeMetrics{}, &fakeMetrics{}
	srv := peerServer(t, cert, remote)
	owner := membership.Member{ID: "keda-operator-0", Address: strings.TrimPrefix(srv.URL, "https://")}
	client := NewClient(source(cert), 2*time.Second)
	ctx := context.Background()

	f := &Forwarding{Local: local, Owners: owners{m: owner}, Forward: client}
	list, err := f.GetExternalMetric(ctx, "ns", selector("so"), provider.ExternalMetricInfo{Metric: "s0-queue"})
	if err != nil {
		t.Fatalf("forwarded request: %v", err)
	}
	if len(list.Items) != 1 || list.Items[0].Value.String() != "42" || list.Items[0].MetricName != "s0-queue" {
		t.Errorf("answer = %+v", list.Items)
	}
	if remote.calls != 1 || local.calls != 0 {
		t.Errorf("remote answered %d, local %d; want the owner only", remote.calls, local.calls)
	}

	// The owner's own error comes back as the same API status.
	_, err = f.GetExternalMetric(ctx, "ns", selector("other"), provider.ExternalMetricInfo{Metric: "s0-queue"})
	if !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), "ScaledObject ns/other is not registered") {
		t.Errorf("owner's NotFound came back as %v", err)
	}

	// This replica owns it: answered locally.
	f.Owners = owners{self: true}
	if _, err := f.GetExternalMetric(ctx, "ns", selector("so"), provider.ExternalMetricInfo{Metric: "s0-queue"}); err != nil || local.calls != 1 {
		t.Errorf("self-owned: err %v, local calls %d", err, local.calls)
	}

	// No owner known: a ServiceUnavailable saying why.
	f.Owners = owners{err: fmt.Errorf("no replica of the operator leads yet")}
	_, err = f.GetExternalMetric(ctx, "ns", selector("so"), provider.ExternalMetricInfo{Metric: "s0-queue"})
	if !apierrors.IsServiceUnavailable(err) || !strings.Contains(err.Error(), "no replica of the operator leads yet") {
		t.Errorf("no owner: %v", err)
	}
}

func TestForwardingToUnreachableOwnerNamesIt(t *testing.T) {
	cert := selfSigned(t)
	srv := peerServer(t, cert, &fakeMetrics{})
	addr := strings.TrimPrefix(srv.URL, "https://")
	srv.Close()
	f := &Forwarding{Local: &fakeMetrics{}, Owners: owners{m: membership.Member{ID: "keda-operator-1", Address: addr}}, Forward: NewClient(source(cert), time.Second)}
	_, err := f.GetExternalMetric(context.Background(), "ns", selector("so"), provider.ExternalMetricInfo{Metric: "s0-queue"})
	if !apierrors.IsServiceUnavailable(err) || !strings.Contains(err.Error(), "owning replica keda-operator-1 at "+addr+" is unreachable") {
		t.Errorf("unreachable owner: %v", err)
	}
}

// The request is bounded: an owner that never answers costs the timeout, not the HPA's patience.
func TestForwardingTimesOut(t *testing.T) {
	cert := selfSigned(t)
	block := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
	srv.TLS = serverTLS(source(cert))
	// httptest fills in its own certificate unless one is set, and Go prefers it over
	// GetCertificate for a client that names no server.
	srv.TLS.Certificates = []tls.Certificate{*cert}
	srv.StartTLS()
	t.Cleanup(func() { close(block); srv.Close() })
	client := NewClient(source(cert), 200*time.Millisecond)
	_, err := client.ExternalMetric(context.Background(), membership.Member{ID: "slow", Address: strings.TrimPrefix(srv.URL, "https://")}, "ns", "m", selector("so"))
	if !apierrors.IsServiceUnavailable(err) || !strings.Contains(err.Error(), "owning replica slow") {
		t.Errorf("slow owner: %v", err)
	}
}

// Only a peer with the operator's own key is served, and only such a server is trusted.
func TestPeersAuthenticateByTheServingKey(t *testing.T) {
	cert, stranger := selfSigned(t), selfSigned(t)
	srv := peerServer(t, cert, &fakeMetrics{})
	member := membership.Member{ID: "keda-operator-0", Address: strings.TrimPrefix(srv.URL, "https://")}
	ctx := context.Background()
	if err := NewClient(source(cert), time.Second).Ping(ctx, member); err != nil {
		t.Fatalf("same key: %v", err)
	}
	if err := NewClient(source(stranger), time.Second).Ping(ctx, member); err == nil {
		t.Error("a client with another key was served")
	}
	// A client without any certificate is refused too.
	plain := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the test's stranger
	if resp, err := plain.Get(srv.URL + pathPing); err == nil {
		resp.Body.Close()
		t.Error("a client without a certificate was served")
	}
}

func TestForwardingHistory(t *testing.T) {
	cert := selfSigned(t)
	remote := history.New(history.Options{})
	so := history.ScaledObjectKey(types.NamespacedName{Namespace: "ns", Name: "so"})
	remote.Decide(so, historyv1alpha1.Decision{Type: historyv1alpha1.DecisionActivated, Trigger: "queue"})
	srv := httptest.NewUnstartedServer(NewServer(ServerOptions{Certificate: source(cert), Metrics: &fakeMetrics{}, History: remote}).Handler())
	srv.TLS = serverTLS(source(cert))
	srv.TLS.Certificates = []tls.Certificate{*cert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	owner := membership.Member{ID: "keda-operator-0", Address: strings.TrimPrefix(srv.URL, "https://")}
	f := &ForwardingHistory{Local: history.New(history.Options{}), Owners: owners{m: owner}, Forward: NewClient(source(cert), 2*time.Second)}
	ctx := context.Background()

	h, found, err := f.History(ctx, so)
	if err != nil || !found || len(h.Decisions) != 1 || h.Decisions[0].Trigger != "queue" {
		t.Fatalf("forwarded history = %+v, %v, %v", h, found, err)
	}
	// The owner keeps none for a ScaledJob of the same name: not found, no error.
	if _, found, err := f.History(ctx, history.ScaledJobKey(so.NamespacedName)); err != nil || found {
		t.Errorf("ScaledJob history: found %v, %v", found, err)
	}
	srv.Close()
	if _, _, err := f.History(ctx, so); err == nil || !strings.Contains(err.Error(), "owning replica keda-operator-0") {
		t.Errorf("unreachable owner: %v", err)
	}
}

func TestForwardingListsKnownMetrics(t *testing.T) {
	local := &listing{names: []string{"s0-queue"}}
	f := &Forwarding{Local: local, Known: func() []provider.ExternalMetricInfo {
		return []provider.ExternalMetricInfo{{Metric: "s0-queue"}, {Metric: "s1-cron"}}
	}}
	var got []string
	for _, m := range f.ListAllExternalMetrics() {
		got = append(got, m.Metric)
	}
	if strings.Join(got, ",") != "s0-queue,s1-cron" {
		t.Errorf("listed %v, want each of the local and known metrics once", got)
	}
}

type listing struct {
	fakeMetrics
	names []string
}

func (l *listing) ListAllExternalMetrics() []provider.ExternalMetricInfo {
	out := make([]provider.ExternalMetricInfo, 0, len(l.names))
	for _, n := range l.names {
		out = append(out, provider.ExternalMetricInfo{Metric: n})
	}
	return out
}

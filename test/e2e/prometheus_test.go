package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	promserver "github.com/kedactl/kedactl/test/servers/prometheus"
)

// TestPrometheusScalesZeroToMaxToZero: a prometheus trigger on a real Prometheus scraping a gauge
// the test sets, behind a proxy that wants a bearer token the trigger gets from a Secret through a
// TriggerAuthentication, keeps a worker at 0 while the gauge is 0, activates it when the gauge
// rises, lets the real HPA scale it to max on a backlog and returns it to 0 after the cooldown
// once the gauge is back to 0.
func TestPrometheusScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ctx := context.Background()
	const gauge, token = "kedactl_e2e_jobs_waiting", "e2e-prometheus-bearer-token"
	exp := promserver.NewExporter(t)
	exp.Set(gauge, 0)
	prom := promserver.Start(t, promserver.Options{Targets: []string{exp.Addr}})
	if err := prom.WaitForValue(ctx, gauge, 0, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	set := func(v float64) {
		t.Helper()
		exp.Set(gauge, v)
		if err := prom.WaitForValue(ctx, gauge, v, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// Prometheus has no authentication of its own: a reverse proxy checks the bearer token.
	target, _ := url.Parse(prom.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	guarded := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(guarded.Close)

	ns := s.newNamespace(t, "prometheus")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: prometheus-secret
stringData:
  bearerToken: %q
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: prometheus-auth
spec:
  secretTargetRef:
    - parameter: bearerToken
      name: prometheus-secret
      key: bearerToken
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  cooldownPeriod: 5
  maxReplicaCount: 4
  triggers:
    - type: prometheus
      authenticationRef:
        name: prometheus-auth
      metadata:
        serverAddress: %s
        query: sum(%s)
        threshold: "2"
        authModes: bearer
`, token, guarded.URL, gauge))

	const metric = "s0-prometheus"
	so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != metric {
		t.Fatalf("status.externalMetricNames = %v, want [%s]", got, metric)
	}
	hpa, err := s.hpa(ctx, ns, "keda-hpa-worker")
	if err != nil {
		t.Fatalf("HPA keda-hpa-worker: %v", err)
	}
	checkHPA(t, hpa, metric)

	// A gauge at zero keeps the worker at zero.
	s.holdReplicas(t, ns, "worker", 0, 3*time.Second)

	// One waiting job activates it.
	set(1)
	s.waitReplicas(t, ns, "worker", 1, 20*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
	if v := s.externalMetric(t, ns, metric, "worker"); v != 1 {
		t.Errorf("external metric %s = %d, want 1", metric, v)
	}

	// A backlog makes the real HPA scale it to max (20 jobs / 2 per replica = 10 > max 4).
	set(20)
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	if v := s.externalMetric(t, ns, metric, "worker"); v != 20 {
		t.Errorf("external metric %s = %d, want 20", metric, v)
	}

	// The gauge back at zero returns it to zero after the cooldown.
	set(0)
	drained := time.Now()
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
	checkCooldown(t, drained, 5*time.Second, 2*time.Second) // 1 s polls of a 1 s scrape
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")
}

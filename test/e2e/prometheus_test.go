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

	// The gauge counts the waiting jobs; 1 s polls of a 1 s scrape make the cooldown later.
	s.walkZeroToMaxToZero(t, ns, journey{metric: "s0-prometheus", fill: func(n int) { set(float64(n)) }, drain: func() { set(0) }, slack: 2 * time.Second})
}

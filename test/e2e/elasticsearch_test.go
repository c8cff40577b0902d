package e2e

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	esserver "github.com/kedactl/kedactl/test/servers/elasticsearch"
)

// TestElasticsearchScalesZeroToMaxToZero and TestOpenSearchScalesZeroToMaxToZero: a search
// trigger on the Elasticsearch API fake, with username and password from a Secret through a
// TriggerAuthentication, runs a stored search template counting the queued jobs: one job activates
// the worker (0 -> 1), twenty take the real HPA to the maximum of 4 (target 2 per replica), and
// once the jobs are gone it goes back to 0 after the cooldown.
func TestElasticsearchScalesZeroToMaxToZero(t *testing.T) {
	searchJourney(t, "elasticsearch", false)
}

func TestOpenSearchScalesZeroToMaxToZero(t *testing.T) {
	searchJourney(t, "opensearch", true)
}

func searchJourney(t *testing.T, typ string, openSearch bool) {
	s := requireSuite(t)
	t.Parallel()
	const user, password = "keda-reader", "e2e-search-password-3f1a"
	es := esserver.Start(t, esserver.Options{OpenSearch: openSearch, Users: map[string]string{user: password}})
	// The template, stored as a user would with PUT _scripts/queued-jobs.
	es.PutTemplate("queued-jobs", `{"track_total_hits":true,"size":0,"query":{"bool":{"filter":[{"term":{"status":"{{status}}"}}]}}}`)
	job := func(n int, status string) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = map[string]any{"status": status}
		}
		return out
	}
	// Done jobs never count.
	es.Index("jobs", job(5, "done")...)

	ns := s.newNamespace(t, typ)
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: search-secret
stringData:
  username: %q
  password: %q
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: search-auth
spec:
  secretTargetRef:
    - parameter: username
      name: search-secret
      key: username
    - parameter: password
      name: search-secret
      key: password
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
    - type: %s
      authenticationRef:
        name: search-auth
      metadata:
        addresses: %s
        index: jobs
        searchTemplateName: queued-jobs
        parameters: "status:queued"
        valueLocation: hits.total.value
        targetValue: "2"
        activationTargetValue: "0"
`, user, password, typ, es.URL))

	metric := "s0-" + typ + "-queued-jobs"
	so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != metric {
		t.Fatalf("status.externalMetricNames = %v, want [%s]", got, metric)
	}

	// One queued job: 0 -> 1.
	es.Index("jobs", job(1, "queued")...)
	s.waitReplicas(t, ns, "worker", 1, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
	if v := s.externalMetric(t, ns, metric, "worker"); v != 1 {
		t.Errorf("external metric %s = %d, want 1", metric, v)
	}

	// Twenty queued jobs / 2 per replica = 10, more than the maximum of 4.
	es.Index("jobs", job(19, "queued")...)
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	if v := s.externalMetric(t, ns, metric, "worker"); v != 20 {
		t.Errorf("external metric %s = %d, want 20", metric, v)
	}

	// The jobs are taken: back to 0 after the cooldown.
	es.Delete("jobs", func(d map[string]any) bool { return d["status"] == "queued" })
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")

	// Every search carried the Secret's credentials and asked for the stored template.
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	n := 0
	for _, r := range es.Requests() {
		n++
		if r.Method != "POST" || r.Path != "/jobs/_search/template" || r.Authorization != basic || r.Status != 200 ||
			!strings.Contains(r.Body, `"id":"queued-jobs"`) || !strings.Contains(r.Body, `"status":"queued"`) {
			t.Fatalf("request %s %s (Authorization %q, body %s) answered %d", r.Method, r.Path, r.Authorization, r.Body, r.Status)
		}
	}
	if n == 0 {
		t.Fatal("no search reached the server")
	}
}

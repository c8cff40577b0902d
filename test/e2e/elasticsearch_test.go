package e2e

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

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
	queued := 0

	s.runScalerJourney(t, scalerJourney{
		namespace: typ,
		secret:    "search-secret",
		auth:      "search-auth",
		params: []secretParam{
			{"username", "username", user},
			{"password", "password", password},
		},
		triggerType: typ,
		metadata: fmt.Sprintf(`addresses: %s
			index: jobs
			searchTemplateName: queued-jobs
			parameters: "status:queued"
			valueLocation: hits.total.value
			targetValue: "2"
			activationTargetValue: "0"`, es.URL),
		metric:       "s0-" + typ + "-queued-jobs",
		averageValue: 2,
		set:          func(_ *testing.T, n int) { es.Index("jobs", job(n-queued, "queued")...); queued = n },
		// One queued job; twenty / 2 per replica = 10, more than the maximum of 4.
		one: 1, max: 20,
		// The jobs are taken.
		drain: func(*testing.T) { es.Delete("jobs", func(d map[string]any) bool { return d["status"] == "queued" }) },
	})

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

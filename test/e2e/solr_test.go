package e2e

import (
	"fmt"
	"testing"

	solrserver "github.com/kedactl/kedactl/test/servers/solr"
)

// TestSolrScalesZeroToMaxToZero: a solr trigger on the Solr fake with the Basic Authentication
// plugin on, the username and password from a Secret through a TriggerAuthentication. A count
// at activationTargetQueryValue leaves the workers at 0; above it, 0 -> 1; a backlog takes the
// real HPA to the maximum of 4; back to 0 once the documents are processed, after the cooldown.
func TestSolrScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const (
		user     = "keda"
		password = "e2e-solr-password"
		query    = "status:queued"
	)
	solr := solrserver.Start(t, solrserver.Options{Username: user, Password: password})
	solr.CreateCollection("orders", "status")
	// Documents of another state never count.
	solr.SetCount("orders", "status:done", 500)

	s.runScalerJourney(t, scalerJourney{
		namespace: "solr",
		secret:    "solr-secret",
		auth:      "solr-auth",
		params: []secretParam{
			{"username", "username", user},
			{"password", "password", password},
		},
		triggerType: "solr",
		metadata: fmt.Sprintf(`host: %s
			collection: orders
			query: %q
			targetQueryValue: "5"
			activationTargetQueryValue: "2"`, solr.URL, query),
		metric:       "s0-solr",
		averageValue: 5,
		set:          func(_ *testing.T, n int) { solr.SetCount("orders", query, int64(n)) },
		polls:        func() int { return len(solr.Requests()) },
		// At activationTargetQueryValue, above it, and 60 / 5 per worker = 12 workers; the
		// backlog drains to 0.
		idle: 2, one: 3, max: 60,
	})

	// Every request carried the credentials from the Secret and KEDA's query.
	for _, r := range solr.Requests() {
		if r.User != user || r.Status != 200 || r.Path != "/solr/orders/select" || r.Query.Get("q") != query || r.Query.Get("wt") != "json" {
			t.Fatalf("request %s %s?%s (user %q) answered %d", r.Method, r.Path, r.Query.Encode(), r.User, r.Status)
		}
	}
}

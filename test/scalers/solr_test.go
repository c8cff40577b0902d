package scalers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	solrserver "github.com/kedactl/kedactl/test/servers/solr"
)

// solrTestPassword is the Solr fake's password; no error may show it.
const solrTestPassword = "Solr-pa55-never-in-errors-91c2"

// newSolrTrigger builds a solr trigger on srv's collection with extra metadata.
func newSolrTrigger(t *testing.T, srv *solrserver.Server, collection, password string, extra ...string) scalers.Scaler {
	t.Helper()
	m := map[string]string{"host": srv.URL, "collection": collection, "targetQueryValue": "5", "activationTargetQueryValue": "1"}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "solr", TriggerMetadata: m,
		AuthParams: map[string]string{"username": "solr", "password": password}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// pollSolr polls once.
func pollSolr(t *testing.T, s scalers.Scaler) (float64, bool, error) {
	t.Helper()
	vals, active, err := s.GetMetricsAndActivity(context.Background(), "s0-solr")
	if err != nil {
		return 0, false, err
	}
	if len(vals) != 1 || vals[0].MetricName != "s0-solr" {
		t.Fatalf("poll gave %+v", vals)
	}
	return vals[0].Value.AsApproximateFloat64(), active, nil
}

// TestSolrCountsMatchingDocuments: each poll is one GET of /solr/<collection>/select with KEDA's
// q and wt=json and the basic credentials; the value is numFound, active above
// activationTargetQueryValue. Without a query the trigger counts *:*.
func TestSolrCountsMatchingDocuments(t *testing.T) {
	srv := solrserver.Start(t, solrserver.Options{Username: "solr", Password: solrTestPassword})
	srv.CreateCollection("orders", "status")
	srv.SetCount("orders", "status:queued", 1)
	srv.SetCount("orders", "status:done", 40)

	s := newSolrTrigger(t, srv, "orders", solrTestPassword, "query", "status:queued")
	if v, active, err := pollSolr(t, s); err != nil || v != 1 || active {
		t.Fatalf("at activation: %g %t %v", v, active, err)
	}
	srv.SetCount("orders", "status:queued", 23)
	if v, active, err := pollSolr(t, s); err != nil || v != 23 || !active {
		t.Fatalf("above activation: %g %t %v", v, active, err)
	}
	all := newSolrTrigger(t, srv, "orders", solrTestPassword)
	if v, _, err := pollSolr(t, all); err != nil || v != 40 {
		t.Fatalf("*:*: %g %v", v, err)
	}
	specs := s.GetMetricSpecForScaling(context.Background())
	if len(specs) != 1 || specs[0].External.Metric.Name != "s0-solr" || specs[0].External.Target.AverageValue.String() != "5" {
		t.Errorf("metric spec %+v", specs)
	}
	for _, r := range srv.Requests() {
		if r.Method != "GET" || r.Path != "/solr/orders/select" || r.Query.Get("wt") != "json" || len(r.Query) != 2 || r.User != "solr" || r.Status != 200 {
			t.Errorf("request %+v", r)
		}
	}
	if got := srv.Requests()[0].Query.Get("q"); got != "status:queued" {
		t.Errorf("q %q", got)
	}
	if got := srv.Requests()[2].Query.Get("q"); got != "*:*" {
		t.Errorf("q without a query %q", got)
	}
}

// TestSolrFailures: Solr's refusals fail the poll (never a count of 0), say what to check and
// never show the password.
func TestSolrFailures(t *testing.T) {
	srv := solrserver.Start(t, solrserver.Options{Username: "solr", Password: solrTestPassword})
	srv.CreateCollection("orders", "status")
	srv.SetCount("orders", "status:queued", 3)
	for _, tt := range []struct {
		name       string
		collection string
		password   string
		query      string
		mentions   []string
	}{
		{"wrong password", "orders", "not-" + solrTestPassword, "status:queued", []string{"401", "refused the credentials", "Bad credentials"}},
		{"no such collection", "invoices", solrTestPassword, "status:queued", []string{"404", `no collection or core "invoices"`}},
		{"query Solr cannot parse", "orders", solrTestPassword, "status:(queued", []string{"400", "Solr refused the query", "metadata.query", "SyntaxError"}},
		{"field the schema lacks", "orders", solrTestPassword, "colour:red", []string{"400", "undefined field colour"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := pollSolr(t, newSolrTrigger(t, srv, tt.collection, tt.password, "query", tt.query))
			if err == nil {
				t.Fatal("the poll succeeded")
			}
			for _, m := range append(tt.mentions, "trigger 0 (solr)") {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if strings.Contains(err.Error(), solrTestPassword) {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
	// Nothing listens: the address is named.
	down := solrserver.Start(t, solrserver.Options{})
	addr := down.URL
	down.Close()
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "solr", Timeout: 5 * time.Second,
		TriggerMetadata: map[string]string{"host": addr, "collection": "orders", "targetQueryValue": "5"},
		AuthParams:      map[string]string{"username": "solr", "password": solrTestPassword}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if _, _, err := pollSolr(t, s); err == nil || !strings.Contains(err.Error(), "could not reach the server") || !strings.Contains(err.Error(), "metadata.host") {
		t.Errorf("unreachable: %v", err)
	}
}

package scalers_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	esserver "github.com/kedactl/kedactl/test/servers/elasticsearch"
)

// The search triggers' credentials; no error may show them.
const (
	esTestPassword = "es-pass-never-in-errors-81c2"
	esTestKeyID    = "VuaCfGcBCdbkQm-e5aOx"
	esTestKey      = "ui2lp2axTNmsyakw9tvNnw"
)

// esTestAPIKey is the encoded API key Elasticsearch hands out: base64 of id:key.
var esTestAPIKey = base64.StdEncoding.EncodeToString([]byte(esTestKeyID + ":" + esTestKey))

// newSearchTrigger builds an elasticsearch or opensearch trigger.
func newSearchTrigger(t *testing.T, typ string, meta, auth map[string]string, pool *scalers.ClientPool) scalers.Scaler {
	t.Helper()
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: typ, TriggerMetadata: meta, AuthParams: auth, Timeout: 5 * time.Second, Clients: pool})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// pollSearch polls once and returns the value and activity, or the error.
func pollSearch(s scalers.Scaler, metric string) (float64, bool, error) {
	vals, active, err := s.GetMetricsAndActivity(context.Background(), metric)
	if err != nil {
		return 0, false, err
	}
	return vals[0].Value.AsApproximateFloat64(), active, nil
}

// jobs makes n job documents of a status.
func jobs(n int, status string) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"status": status, "priority": i % 3}
	}
	return out
}

// storeTemplate stores a search template through the fake's _scripts API, as a user would.
func storeTemplate(t *testing.T, es *esserver.Server, id, user string) {
	t.Helper()
	body := `{"script":{"lang":"mustache","source":{"track_total_hits":true,"size":0,"query":{"bool":{"filter":[{"term":{"status":"{{status}}"}},{"range":{"priority":{"gte":"{{min_priority}}"}}}]}}}}}`
	req, _ := http.NewRequest(http.MethodPut, es.URL+"/_scripts/"+id, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(user, esTestPassword)
	client := &http.Client{}
	if es.CAPEM != "" {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM([]byte(es.CAPEM))
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}}
	}
	resp, err := client.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("storing template %s: %v %v", id, resp, err)
	}
	resp.Body.Close()
}

// TestElasticsearchSearchTemplate: the trigger runs the stored template on the indices of
// metadata.index (';'-separated) with the parameters, with basic authentication, and reads
// hits.total.value; KEDA's metric name and activation hold.
func TestElasticsearchSearchTemplate(t *testing.T) {
	es := esserver.Start(t, esserver.Options{Users: map[string]string{"keda": esTestPassword}})
	storeTemplate(t, es, "pending-jobs", "keda")
	es.Index("jobs-a", jobs(3, "queued")...)
	es.Index("jobs-b", jobs(4, "queued")...)
	es.Index("jobs-b", jobs(5, "done")...)
	s := newSearchTrigger(t, "elasticsearch", map[string]string{
		"addresses": es.URL, "index": "jobs-a;jobs-b", "searchTemplateName": "pending-jobs",
		"parameters": "status:queued;min_priority:1", "valueLocation": "hits.total.value", "targetValue": "2", "activationTargetValue": "3",
	}, map[string]string{"username": "keda", "password": esTestPassword}, nil)

	if specs := s.GetMetricSpecForScaling(context.Background()); len(specs) != 1 || specs[0].External.Metric.Name != "s0-elasticsearch-pending-jobs" ||
		specs[0].External.Target.AverageValue.Value() != 2 {
		t.Fatalf("metric spec %+v, want s0-elasticsearch-pending-jobs with AverageValue 2", specs)
	}
	// Priorities 0,1,2 repeat: of 3 queued in jobs-a, 2 have priority >= 1; of 4 in jobs-b, 2.
	v, active, err := pollSearch(s, "s0-elasticsearch-pending-jobs")
	if err != nil || v != 4 || !active {
		t.Fatalf("poll = %g, %v, %v; want 4, active", v, active, err)
	}
	es.Delete("jobs-b", func(d map[string]any) bool { return d["status"] == "queued" })
	if v, active, err = pollSearch(s, "s0-elasticsearch-pending-jobs"); err != nil || v != 2 || active {
		t.Fatalf("poll = %g, %v, %v; want 2, not active (activationTargetValue 3)", v, active, err)
	}
	reqs := es.Requests()
	last := reqs[len(reqs)-1]
	var body map[string]any
	_ = json.Unmarshal([]byte(last.Body), &body)
	want := map[string]any{"id": "pending-jobs", "params": map[string]any{"status": "queued", "min_priority": "1"}}
	if last.Method != "POST" || last.Path != "/jobs-a,jobs-b/_search/template" || last.ContentType != "application/json" ||
		last.Authorization != "Basic "+base64.StdEncoding.EncodeToString([]byte("keda:"+esTestPassword)) || !jsonEqual(body, want) || last.Status != 200 {
		t.Fatalf("request %+v, want POST /jobs-a,jobs-b/_search/template with %v and basic credentials", last, want)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestElasticsearchInlineQuery: metadata.query is sent as the body of _search, as written.
func TestElasticsearchInlineQuery(t *testing.T) {
	es := esserver.Start(t, esserver.Options{Users: map[string]string{"keda": esTestPassword}})
	es.Index("jobs", jobs(6, "queued")...)
	query := `{"query":{"term":{"status":"queued"}},"size":0}`
	s := newSearchTrigger(t, "elasticsearch", map[string]string{
		"addresses": es.URL, "index": "jobs", "query": query, "valueLocation": "hits.total.value", "targetValue": "5",
	}, map[string]string{"username": "keda", "password": esTestPassword}, nil)
	if specs := s.GetMetricSpecForScaling(context.Background()); specs[0].External.Metric.Name != "s0-elasticsearch-query" {
		t.Fatalf("metric %s, want s0-elasticsearch-query", specs[0].External.Metric.Name)
	}
	if v, active, err := pollSearch(s, "m"); err != nil || v != 6 || !active {
		t.Fatalf("poll = %g, %v, %v; want 6, active", v, active, err)
	}
	if r := es.Requests()[0]; r.Method != "POST" || r.Path != "/jobs/_search" || r.Body != query {
		t.Fatalf("request %+v, want POST /jobs/_search with the query as written", r)
	}
}

// TestElasticsearchErrors: each documented error answer becomes an error that names what to
// check, and none shows the password.
func TestElasticsearchErrors(t *testing.T) {
	es := esserver.Start(t, esserver.Options{Users: map[string]string{"keda": esTestPassword}})
	storeTemplate(t, es, "pending-jobs", "keda")
	es.Index("jobs", jobs(2, "queued")...)
	base := map[string]string{"addresses": es.URL, "index": "jobs", "searchTemplateName": "pending-jobs", "parameters": "status:queued;min_priority:0",
		"valueLocation": "hits.total.value", "targetValue": "1"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range base {
			m[a] = b
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	good := map[string]string{"username": "keda", "password": esTestPassword}
	for _, c := range []struct {
		name       string
		meta, auth map[string]string
		want       []string
	}{
		{"wrong password", base, map[string]string{"username": "keda", "password": "wrong-" + esTestPassword}, []string{"401", "unable to authenticate user [keda]", "check username and password"}},
		{"missing index", with("index", "nope"), good, []string{"404", "index_not_found_exception: no such index [nope]", "metadata.index"}},
		{"missing template", with("searchTemplateName", "gone"), good, []string{"404", "resource_not_found_exception", `no stored search template "gone"`}},
		{"null value", with("valueLocation", "hits.nothing"), good, []string{`valueLocation "hits.nothing" matches nothing`, "ignoreNullValues"}},
		{"bad query", withQuery(with("searchTemplateName", ""), `{"query":{"fuzzy_thing":{}}}`), good, []string{"400", "unknown query [fuzzy_thing]", "check metadata.query"}},
		{"unreachable", with("addresses", "http://127.0.0.1:1"), good, []string{"could not reach the server", "metadata.addresses"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSearchTrigger(t, "elasticsearch", c.meta, c.auth, nil)
			_, _, err := pollSearch(s, "m")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(c.want, "trigger 0 (elasticsearch)") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), esTestPassword) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

// withQuery sets metadata.query.
func withQuery(m map[string]string, q string) map[string]string {
	m["query"] = q
	delete(m, "parameters")
	return m
}

// TestElasticsearchAddressesFailOver: a node that cannot be reached passes the search to the
// next address.
func TestElasticsearchAddressesFailOver(t *testing.T) {
	es := esserver.Start(t, esserver.Options{Users: map[string]string{"keda": esTestPassword}})
	es.Index("jobs", jobs(3, "queued")...)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	s := newSearchTrigger(t, "elasticsearch", map[string]string{
		"addresses": dead + "," + es.URL, "index": "jobs", "query": `{"query":{"match_all":{}}}`, "valueLocation": "hits.total.value", "targetValue": "1",
	}, map[string]string{"username": "keda", "password": esTestPassword}, nil)
	if v, _, err := pollSearch(s, "m"); err != nil || v != 3 {
		t.Fatalf("poll = %g, %v; want 3 from the second address", v, err)
	}
}

// TestElasticsearchSharesTransport: triggers with the same TLS identity share one transport.
func TestElasticsearchSharesTransport(t *testing.T) {
	es := esserver.Start(t, esserver.Options{Users: map[string]string{"keda": esTestPassword, "other": "pw2"}})
	es.Index("jobs", jobs(1, "queued")...)
	pool := scalers.NewClientPool()
	for _, user := range []string{"keda", "other", "keda"} {
		pw := map[string]string{"keda": esTestPassword, "other": "pw2"}[user]
		s := newSearchTrigger(t, "elasticsearch", map[string]string{"addresses": es.URL, "index": "jobs", "query": `{}`, "valueLocation": "hits.total.value", "targetValue": "1"},
			map[string]string{"username": user, "password": pw}, pool)
		if v, _, err := pollSearch(s, "m"); err != nil || v != 1 {
			t.Fatalf("poll as %s = %g, %v", user, v, err)
		}
	}
	if n := pool.Len(); n != 1 {
		t.Fatalf("%d transports in the pool, want 1", n)
	}
}

// TestOpenSearchBasicAndClientCertificates: the opensearch trigger searches with basic
// authentication, and with enableTLS presents the client certificate and trusts caCert; a
// refused password is worded with OpenSearch's plain 401.
func TestOpenSearchBasicAndClientCertificates(t *testing.T) {
	osrv := esserver.Start(t, esserver.Options{OpenSearch: true, TLS: true, Users: map[string]string{"admin": esTestPassword}})
	storeTemplate(t, osrv, "pending-jobs", "admin")
	osrv.Index("jobs", jobs(9, "queued")...)
	meta := map[string]string{"addresses": osrv.URL, "index": "jobs", "searchTemplateName": "pending-jobs", "parameters": "status:queued;min_priority:0",
		"valueLocation": "hits.total.value", "targetValue": "3"}

	basic := newSearchTrigger(t, "opensearch", meta, map[string]string{"username": "admin", "password": esTestPassword, "caCert": osrv.CAPEM}, nil)
	if specs := basic.GetMetricSpecForScaling(context.Background()); specs[0].External.Metric.Name != "s0-opensearch-pending-jobs" {
		t.Fatalf("metric %s, want s0-opensearch-pending-jobs", specs[0].External.Metric.Name)
	}
	if v, active, err := pollSearch(basic, "m"); err != nil || v != 9 || !active {
		t.Fatalf("basic: poll = %g, %v, %v; want 9, active", v, active, err)
	}

	tlsMeta := map[string]string{"enableTLS": "true"}
	for k, v := range meta {
		tlsMeta[k] = v
	}
	cert := newSearchTrigger(t, "opensearch", tlsMeta, map[string]string{"caCert": osrv.CAPEM, "clientCert": osrv.ClientCertPEM, "clientKey": osrv.ClientKeyPEM}, nil)
	if v, _, err := pollSearch(cert, "m"); err != nil || v != 9 {
		t.Fatalf("client certificate: poll = %g, %v; want 9", v, err)
	}
	reqs := osrv.Requests()
	if r := reqs[len(reqs)-1]; r.ClientCert != "kedactl test client" || r.Authorization != "" || r.Path != "/jobs/_search/template" {
		t.Fatalf("request %+v, want the client certificate and no Authorization", r)
	}

	wrong := newSearchTrigger(t, "opensearch", meta, map[string]string{"username": "admin", "password": "nope", "caCert": osrv.CAPEM}, nil)
	if _, _, err := pollSearch(wrong, "m"); err == nil || !strings.Contains(err.Error(), "OpenSearch answered 401 Unauthorized (Unauthorized)") ||
		!strings.Contains(err.Error(), "check username and password") {
		t.Fatalf("wrong password: %v", err)
	}
	untrusted := newSearchTrigger(t, "opensearch", meta, map[string]string{"username": "admin", "password": esTestPassword}, nil)
	if _, _, err := pollSearch(untrusted, "m"); err == nil || !strings.Contains(err.Error(), "certificate is not trusted") {
		t.Fatalf("without caCert: %v", err)
	}
}

// TestElasticsearchCloudID: with cloudID and apiKey the trigger searches
// https://<es-id>.<host> (the fake's cloud proxy stands for the deployment's DNS name) with
// "Authorization: ApiKey". HTTPS_PROXY is read once per process, so the trigger runs in a child
// process of this test binary.
func TestElasticsearchCloudID(t *testing.T) {
	if os.Getenv("ES_CLOUD_CHILD") == "1" {
		s := newSearchTrigger(t, "elasticsearch", map[string]string{
			"cloudID": os.Getenv("ES_CLOUD_ID"), "index": "jobs", "query": `{"query":{"match_all":{}}}`, "valueLocation": "hits.total.value",
			"targetValue": "1", "unsafeSsl": "true",
		}, map[string]string{"apiKey": esTestAPIKey}, nil)
		if v, _, err := pollSearch(s, "m"); err != nil || v != 4 {
			t.Fatalf("poll = %g, %v; want 4", v, err)
		}
		return
	}
	es := esserver.Start(t, esserver.Options{TLS: true, CloudHost: "us-central1.gcp.cloud.es.example", APIKeys: map[string]string{esTestKeyID: esTestKey}})
	es.Index("jobs", jobs(4, "queued")...)
	cmd := exec.Command(os.Args[0], "-test.run", "^TestElasticsearchCloudID$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ES_CLOUD_CHILD=1", "ES_CLOUD_ID="+es.CloudID, "HTTPS_PROXY="+es.ProxyURL, "https_proxy="+es.ProxyURL, "NO_PROXY=", "no_proxy=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if c := es.Connects(); len(c) == 0 || c[0] != esserver.CloudESID+".us-central1.gcp.cloud.es.example:443" {
		t.Fatalf("the proxy was asked for %v, want the deployment's host", c)
	}
	reqs := es.Requests()
	if len(reqs) != 1 || reqs[0].Authorization != "ApiKey "+esTestAPIKey || reqs[0].Path != "/jobs/_search" || reqs[0].Status != 200 {
		t.Fatalf("requests %+v, want one search with the API key", reqs)
	}
}

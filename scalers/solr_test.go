package scalers

import (
	"strings"
	"testing"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseSolrMetadata(t *testing.T) {
	base := func(extra ...string) map[string]string {
		m := map[string]string{"host": "http://solr:8983", "collection": "orders", "targetQueryValue": "10"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	creds := map[string]string{"username": "solr", "password": "Sec-pa55"}
	tests := []parseCase[meta.SolrMetadata]{
		{name: "defaults", meta: base(), auth: creds, check: func(t *testing.T, m *meta.SolrMetadata) {
			if m.Query != "*:*" || m.ActivationTargetQueryValue != 0 || m.TargetQueryValue != 10 || m.SelectURL.String() != "http://solr:8983/solr/orders/select" {
				t.Errorf("parsed %+v (select %s)", m, m.SelectURL)
			}
			if m.Username != "solr" || m.Password != "Sec-pa55" {
				t.Errorf("credentials %q %q", m.Username, m.Password)
			}
		}},
		{name: "everything in metadata", meta: base("query", "status:queued AND region:eu", "activationTargetQueryValue", "2.5", "username", "u", "password", "Sec-pa55", "host", "https://search.example/"),
			check: func(t *testing.T, m *meta.SolrMetadata) {
				if m.Query != "status:queued AND region:eu" || m.ActivationTargetQueryValue != 2.5 || m.Username != "u" || m.SelectURL.String() != "https://search.example/solr/orders/select" {
					t.Errorf("parsed %+v (select %s)", m, m.SelectURL)
				}
			}},
		{name: "missing host", meta: map[string]string{"collection": "c", "targetQueryValue": "1"}, auth: creds, wantErr: []string{"trigger 0 (solr)", "metadata.host", "is required"}},
		{name: "missing collection", meta: map[string]string{"host": "http://solr:8983", "targetQueryValue": "1"}, auth: creds, wantErr: []string{"metadata.collection", "is required"}},
		{name: "missing targetQueryValue", meta: map[string]string{"host": "http://solr:8983", "collection": "c"}, auth: creds, wantErr: []string{"metadata.targetQueryValue", "is required"}},
		{name: "zero targetQueryValue", meta: base("targetQueryValue", "0"), auth: creds, wantErr: []string{"metadata.targetQueryValue", "is 0", "above 0"}},
		{name: "targetQueryValue not a number", meta: base("targetQueryValue", "many"), auth: creds, wantErr: []string{"metadata.targetQueryValue", `"many" is not a valid number`}},
		{name: "host without scheme", meta: base("host", "solr:8983"), auth: creds, wantErr: []string{"metadata.host", "not an http(s) URL"}},
		{name: "collection with a slash", meta: base("collection", "a/b"), auth: creds, wantErr: []string{"metadata.collection", "not a collection name"}},
		{name: "missing username", meta: base(), auth: map[string]string{"password": "Sec-pa55"}, wantErr: []string{"username", "is required"}},
		{name: "missing password", meta: base(), auth: map[string]string{"username": "solr"}, wantErr: []string{"password", "is required"}},
		{name: "offline: credentials may come later", meta: base(), offline: true, check: func(*testing.T, *meta.SolrMetadata) {}},
		{name: "offline still checks the host", meta: base("host", "nope"), offline: true, wantErr: []string{"metadata.host"}},
	}
	runParseCases(t, "solr", tests, "Sec-pa55")
}

// TestSolrNumFound: a select answer's numFound is the count; anything else is no count.
func TestSolrNumFound(t *testing.T) {
	for _, tt := range []struct {
		body    string
		want    float64
		wantErr string
	}{
		{`{"responseHeader":{"status":0,"QTime":1,"params":{"q":"*:*","wt":"json"}},"response":{"numFound":42,"start":0,"numFoundExact":true,"docs":[{"id":"1"}]}}`, 42, ""},
		{`{"response":{"numFound":0,"start":0,"docs":[]}}`, 0, ""},
		{`{"response":{"numFound":9007199254740993,"docs":[]}}`, 9007199254740992, ""},
		{`{"responseHeader":{"status":400},"error":{"metadata":["error-class","org.apache.solr.common.SolrException"],"msg":"undefined field nope","code":400}}`, 0, "no response.numFound"},
		{`{"response":{"docs":[]}}`, 0, "no response.numFound"},
		{`{"response":{"numFound":-1}}`, 0, "-1 matching documents"},
		{`{"response":{"numFound":"12"}}`, 0, "not a Solr select response"},
		{`<html>Not Found</html>`, 0, "not a Solr select response"},
		{`null`, 0, "no response.numFound"},
	} {
		got, err := solrNumFound([]byte(tt.body))
		if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want %q", tt.body, err, tt.wantErr)
			continue
		}
		if err == nil && got != tt.want {
			t.Errorf("%s: %g, want %g", tt.body, got, tt.want)
		}
	}
	if msg := solrErrorMessage([]byte(`{"error":{"msg":"undefined field nope","code":400}}`)); msg != "undefined field nope" {
		t.Errorf("error message %q", msg)
	}
}

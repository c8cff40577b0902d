package scalers

import (
	"context"
	"testing"
)

// FuzzSolrResponse feeds arbitrary answers of Solr's select handler to solrNumFound and, served
// on 127.0.0.1 with a fuzzed status code, to a solr trigger's poll: only a 200 with a
// response.numFound is a count, and no error shows the password.
func FuzzSolrResponse(f *testing.F) {
	for _, body := range []string{
		`{"responseHeader":{"status":0,"QTime":0},"response":{"numFound":7,"start":0,"numFoundExact":true,"docs":[]}}`,
		`{"response":{"numFound":0}}`,
		`{"responseHeader":{"status":401},"error":{"metadata":["error-class","org.apache.solr.common.SolrException"],"msg":"require authentication","code":401}}`,
		`{"error":{"msg":"org.apache.solr.search.SyntaxError: Cannot parse 'a:(': Encountered \"<EOF>\"","code":400}}`,
		`{"response":{"numFound":1e3}}`,
		`{"response":null}`,
		`null`,
		``,
	} {
		f.Add([]byte(body), uint8(0))
	}
	f.Add([]byte(`{"error":{"msg":"Sec-fuzz-pw","code":401}}`), uint8(2))
	f.Add([]byte(`{"error":{"msg":"Could not find collection : orders","code":404}}`), uint8(4))
	srv := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte, statusIndex uint8) {
		want, wantErr := solrNumFound(body)
		s, err := New(context.Background(), &Config{TriggerType: "solr", TriggerIndex: 1, TriggerName: "docs", Timeout: fuzzPollTimeout,
			TriggerMetadata: map[string]string{"host": srv.URL, "collection": "orders", "targetQueryValue": "10", "activationTargetQueryValue": "2"},
			AuthParams:      map[string]string{"username": "solr", "password": "Sec-fuzz-pw"}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		status := fuzzStatuses[int(statusIndex)%len(fuzzStatuses)]
		srv.serve(status, body, nil)
		vals, active, err := poll(t, s, "s1-solr")
		fuzzOutcome{status: status, want: want, wantErr: wantErr, who: `trigger 1 (solr "docs")`, metric: "s1-solr", activation: 2, secret: "Sec-fuzz-pw"}.check(t, vals, active, err)
	})
}

package scalers

import (
	"context"
	"net/http"
	"strings"
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
		if wantErr != nil {
			checkErr(t, wantErr)
		}
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
		if err != nil && strings.Contains(err.Error(), "Sec-fuzz-pw") {
			t.Fatalf("error shows the password: %v", err)
		}
		switch {
		case status != http.StatusOK:
			if err == nil {
				t.Fatalf("a %d answer read as %+v", status, vals)
			}
			checkErr(t, err, `trigger 1 (solr "docs")`)
		case wantErr != nil:
			if err == nil {
				t.Fatalf("solrNumFound failed (%v), the poll did not", wantErr)
			}
			checkErr(t, err, `trigger 1 (solr "docs")`, wantErr.Error())
		case err != nil:
			t.Fatalf("solrNumFound read %g, the poll failed: %v", want, err)
		default:
			checkPoll(t, vals, active, "s1-solr", want, 2)
		}
	})
}

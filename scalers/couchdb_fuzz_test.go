package scalers

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// FuzzCouchDBResponse feeds arbitrary answers of CouchDB's POST /{db}/_find to couchDBFound
// and, served on 127.0.0.1 with a fuzzed status code, to a couchdb trigger's poll: only a 200
// with docs is a count, and no error shows the password.
func FuzzCouchDBResponse(f *testing.F) {
	for _, body := range []string{
		`{"docs":[{"_id":"1"},{"_id":"2"}],"bookmark":"g1AAAAA","execution_stats":{}}`,
		`{"docs":[],"bookmark":"nil"}`,
		`{"docs":[null,1,"x"]}`,
		`{"error":"unauthorized","reason":"Name or password is incorrect."}`,
		`{"error":"not_found","reason":"Database does not exist."}`,
		`{"error":"bad_request","reason":"Invalid selector JSON"}`,
		`null`,
		``,
	} {
		f.Add([]byte(body), uint8(0))
	}
	f.Add([]byte(`{"error":"unauthorized","reason":"Fuzz-couch-pw"}`), uint8(2))
	srv := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte, statusIndex uint8) {
		want, wantErr := couchDBFound(body)
		if wantErr != nil {
			checkErr(t, wantErr)
		}
		s, err := New(context.Background(), &Config{TriggerType: "couchdb", TriggerIndex: 1, TriggerName: "docs", Timeout: fuzzPollTimeout,
			TriggerMetadata: map[string]string{"dbName": "jobs", "query": `{"selector":{"status":"queued"}}`, "queryValue": "10", "activationQueryValue": "2"},
			AuthParams:      map[string]string{"connectionString": srv.URL, "username": "keda", "password": "Fuzz-couch-pw"}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		status := fuzzStatuses[int(statusIndex)%len(fuzzStatuses)]
		srv.serve(status, body, nil)
		vals, active, err := poll(t, s, "s1-coucdb-jobs")
		if err != nil && strings.Contains(err.Error(), "Fuzz-couch-pw") {
			t.Fatalf("error shows the password: %v", err)
		}
		switch {
		case status != http.StatusOK:
			if err == nil {
				t.Fatalf("a %d answer read as %+v", status, vals)
			}
			checkErr(t, err, `trigger 1 (couchdb "docs")`)
		case wantErr != nil:
			if err == nil {
				t.Fatalf("couchDBFound failed (%v), the poll did not", wantErr)
			}
			checkErr(t, err, `trigger 1 (couchdb "docs")`, wantErr.Error())
		case err != nil:
			t.Fatalf("couchDBFound read %d, the poll failed: %v", want, err)
		default:
			checkPoll(t, vals, active, "s1-coucdb-jobs", float64(want), 2)
		}
	})
}

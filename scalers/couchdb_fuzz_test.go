package scalers

import (
	"context"
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
		fuzzOutcome{status: status, want: float64(want), wantErr: wantErr, who: `trigger 1 (couchdb "docs")`, metric: "s1-coucdb-jobs", activation: 2, secret: "Fuzz-couch-pw"}.check(t, vals, active, err)
	})
}

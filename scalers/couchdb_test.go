package scalers

import (
	"strings"
	"testing"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseCouchDBMetadata(t *testing.T) {
	const query = `{"selector": {"status": {"$eq": "queued"}}, "fields": ["_id", "status"], "limit": 500}`
	base := func(extra ...string) map[string]string {
		m := map[string]string{"host": "couchdb.db", "port": "5984", "dbName": "jobs", "query": query, "queryValue": "5"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	creds := map[string]string{"username": "keda", "password": "Couch-pa55"}
	tests := []parseCase[meta.CouchDBMetadata]{
		{name: "host and port", meta: base(), auth: creds, check: func(t *testing.T, m *meta.CouchDBMetadata) {
			if m.Server.String() != "http://couchdb.db:5984" || m.User != "keda" || m.Pass != "Couch-pa55" || m.QueryValue != 5 || m.ActivationQueryValue != 0 {
				t.Errorf("parsed %+v", m)
			}
			// KEDA keeps selector and fields only.
			if string(m.FindBody) != `{"selector":{"status":{"$eq":"queued"}},"fields":["_id","status"]}` {
				t.Errorf("find body %s", m.FindBody)
			}
			if u := meta.CouchDBFindURL(m.Server, "jobs/eu"); u.String() != "http://couchdb.db:5984/jobs%2Feu/_find" {
				t.Errorf("find URL %s", u)
			}
		}},
		{name: "IPv6 host", meta: base("host", "::1", "activationQueryValue", "3"), auth: creds, check: func(t *testing.T, m *meta.CouchDBMetadata) {
			if m.Server.String() != "http://[::1]:5984" || m.ActivationQueryValue != 3 {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "connection string with credentials", meta: map[string]string{"dbName": "jobs", "query": `{"selector":{}}`, "queryValue": "2"},
			auth: map[string]string{"connectionString": "https://admin:Couch-pa55@couch.example:6984/prefix/"}, check: func(t *testing.T, m *meta.CouchDBMetadata) {
				if m.Server.String() != "https://couch.example:6984/prefix" || m.User != "admin" || m.Pass != "Couch-pa55" || string(m.FindBody) != `{"selector":{}}` {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "connection string from env", meta: map[string]string{"connectionStringFromEnv": "COUCH", "dbName": "jobs", "query": `{"selector":{}}`, "queryValue": "2"},
			env: map[string]string{"COUCH": "http://couch:5984"}, check: func(t *testing.T, m *meta.CouchDBMetadata) {
				if m.Server.String() != "http://couch:5984" || m.User != "" {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "missing host", meta: base("host", ""), auth: creds, wantErr: []string{"trigger 0 (couchdb)", "host", "is required without connectionString"}},
		{name: "missing port", meta: base("port", ""), auth: creds, wantErr: []string{"port", "is required"}},
		{name: "missing password", meta: base(), auth: map[string]string{"username": "keda"}, wantErr: []string{"password", "is required"}},
		{name: "missing dbName", meta: base("dbName", ""), auth: creds, wantErr: []string{"dbName", "is required"}},
		{name: "missing dbName with a connection string", meta: map[string]string{"query": `{"selector":{}}`, "queryValue": "2"}, auth: map[string]string{"connectionString": "http://couch:5984"}, wantErr: []string{"dbName", "is required"}},
		{name: "connection string no URL", meta: base(), auth: map[string]string{"connectionString": "couch:Couch-pa55@x"}, wantErr: []string{"connectionString", "not an http(s) URL"}},
		{name: "missing queryValue", meta: base("queryValue", ""), auth: creds, wantErr: []string{"queryValue", "is 0", "above 0"}},
		{name: "queryValue not a number", meta: base("queryValue", "1.5"), auth: creds, wantErr: []string{"queryValue"}},
		{name: "query no JSON", meta: base("query", "status:queued"), auth: creds, wantErr: []string{"metadata.query", "not a JSON Mango query"}},
		{name: "query without selector", meta: base("query", `{"fields":["_id"]}`), auth: creds, wantErr: []string{"metadata.query", "no selector"}},
		{name: "missing query", meta: base("query", ""), auth: creds, wantErr: []string{"metadata.query"}},
		{name: "offline: credentials may come later", meta: base(), offline: true, check: func(*testing.T, *meta.CouchDBMetadata) {}},
		{name: "offline still checks the query", meta: base("query", "nope"), offline: true, wantErr: []string{"metadata.query"}},
	}
	runParseCases(t, "couchdb", tests, "Couch-pa55")
}

// TestCouchDBFound: a _find answer's docs are the count; anything else is no count.
func TestCouchDBFound(t *testing.T) {
	for _, tt := range []struct {
		body    string
		want    int64
		wantErr string
	}{
		{`{"docs":[{"_id":"a"},{"_id":"b"}],"bookmark":"g1AAAA","warning":"No matching index found, create an index to optimize query time."}`, 2, ""},
		{`{"docs":[]}`, 0, ""},
		{`{"docs":null}`, 0, "no docs"},
		{`{"error":"not_found","reason":"Database does not exist."}`, 0, "no docs"},
		{`{"docs":{}}`, 0, "not a CouchDB _find response"},
		{`<html/>`, 0, "not a CouchDB _find response"},
	} {
		got, err := couchDBFound([]byte(tt.body))
		if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want %q", tt.body, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: %d, want %d", tt.body, got, tt.want)
		}
	}
}

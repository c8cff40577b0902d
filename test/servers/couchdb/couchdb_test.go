package couchdb

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestPouchDBServerSpeaksCouchDB: the server answers CouchDB's _find with docs and fields,
// refuses a wrong password with CouchDB's 401 body, and answers not_found for a missing
// database and bad_request for a bad selector; and it departs from CouchDB where the package
// says (no 25-document default limit, anonymous reads allowed).
func TestPouchDBServerSpeaksCouchDB(t *testing.T) {
	s := Start(t)
	ctx := context.Background()
	if err := s.CreateDB(ctx, "jobs"); err != nil {
		t.Fatal(err)
	}
	queued := map[string]any{"status": "queued"}
	if err := s.SetDocs(ctx, "jobs", queued, queued, 30); err != nil {
		t.Fatal(err)
	}
	if err := s.AddDocs(ctx, "jobs", 4, map[string]any{"status": "done"}); err != nil {
		t.Fatal(err)
	}
	find := map[string]any{"selector": queued, "fields": []string{"_id"}}
	status, body, err := s.Raw(ctx, "POST", "/jobs/_find", find, s.Username, s.Password)
	var a struct {
		Docs []map[string]any `json:"docs"`
	}
	if err != nil || status != 200 || json.Unmarshal(body, &a) != nil {
		t.Fatalf("_find: %d %v %s", status, err, body)
	}
	if len(a.Docs) != 30 || len(a.Docs[0]) != 1 || a.Docs[0]["_id"] == nil {
		t.Errorf("_find found %d docs, first %v: want 30 (no default limit of 25 here), with _id only", len(a.Docs), a.Docs[0])
	}
	if err := s.SetDocs(ctx, "jobs", queued, queued, 3); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Find(ctx, "jobs", queued); err != nil || len(got) != 3 {
		t.Errorf("after removing: %d %v", len(got), err)
	}

	for _, tt := range []struct {
		name, path, user, pass string
		body                   any
		status                 int
		contains               string
	}{
		{"wrong password", "/jobs/_find", s.Username, "wrong", find, 401, `"error":"unauthorized"`},
		{"missing database", "/nope/_find", s.Username, s.Password, find, 404, `"error":"not_found"`},
		{"selector not an object", "/jobs/_find", s.Username, s.Password, map[string]any{"selector": "x"}, 400, `"error":"bad_request"`},
		// CouchDB would refuse this (a database with members); pouchdb-server lets it read.
		{"no credentials", "/jobs/_find", "", "", find, 200, `"docs":[`},
	} {
		status, body, err := s.Raw(ctx, "POST", tt.path, tt.body, tt.user, tt.pass)
		if err != nil || status != tt.status || !strings.Contains(string(body), tt.contains) {
			t.Errorf("%s: %d %v %s, want %d with %s", tt.name, status, err, body, tt.status, tt.contains)
		}
	}
}

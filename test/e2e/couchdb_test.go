package e2e

import (
	"context"
	"testing"
	"time"

	couchserver "github.com/kedactl/kedactl/test/servers/couchdb"
)

// TestCouchDBScalesZeroToMaxToZero: a couchdb trigger on pouchdb-server (CouchDB's HTTP API),
// with host, port, username and password from a Secret through a TriggerAuthentication and the
// Mango query in metadata. Queued documents at activationQueryValue leave the workers at 0;
// above it, 0 -> 1; a backlog takes the real HPA to the maximum of 4; back to 0 once the
// workers have removed the documents, after the cooldown.
func TestCouchDBScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	srv := couchserver.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := srv.CreateDB(ctx, "jobs"); err != nil {
		t.Fatal(err)
	}
	// Documents of another state never count.
	if err := srv.AddDocs(ctx, "jobs", 40, map[string]any{"status": "done"}); err != nil {
		t.Fatal(err)
	}
	queued := map[string]any{"status": "queued"}

	s.runScalerJourney(t, scalerJourney{
		namespace: "couchdb",
		secret:    "couchdb-secret",
		auth:      "couchdb-auth",
		params: []secretParam{
			{"host", "host", srv.Host},
			{"port", "port", srv.Port},
			{"username", "username", srv.Username},
			{"password", "password", srv.Password},
		},
		triggerType: "couchdb",
		metadata: `dbName: jobs
			query: '{"selector": {"status": {"$eq": "queued"}}, "fields": ["_id"]}'
			queryValue: "5"
			activationQueryValue: "2"`,
		metric:       "s0-coucdb-jobs",
		averageValue: 5,
		set: func(t *testing.T, n int) {
			if err := srv.SetDocs(ctx, "jobs", queued, queued, n); err != nil {
				t.Fatal(err)
			}
		},
		// At activationQueryValue, above it, and 24 / 5 per worker = 5 workers (fewer than
		// CouchDB's default limit of 25 documents a _find answers).
		idle: 2, one: 3, max: 24,
		idleHold: 3 * time.Second,
	})
}

package e2e

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	mongoserver "github.com/kedactl/kedactl/test/servers/mongodb"
)

// TestMongoDBScalesZeroToMaxToZero: a mongodb trigger on FerretDB (MongoDB's wire protocol,
// SCRAM authentication), with the connection string, password included, from a Secret through
// a TriggerAuthentication, and dbName, collection and the query in metadata. Queued documents
// at activationQueryValue leave the workers at 0; above it, 0 -> 1; a backlog takes the real HPA
// to the maximum of 4; back to 0 once the workers have removed the documents, after the
// cooldown.
func TestMongoDBScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	srv := mongoserver.Start(t, "queue")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// Documents of another state never count.
	done := bson.D{{Key: "status", Value: "done"}}
	if err := srv.SetDocs(ctx, "jobs", done, done, 40); err != nil {
		t.Fatal(err)
	}
	queued := bson.D{{Key: "status", Value: "queued"}}

	s.runScalerJourney(t, scalerJourney{
		namespace: "mongodb",
		secret:    "mongodb-secret",
		auth:      "mongodb-auth",
		params:    []secretParam{{"connectionString", "uri", srv.URI()}},
		// The query's operator is Extended JSON, as KEDA reads it.
		triggerType: "mongodb",
		metadata: `dbName: queue
			collection: jobs
			query: '{"status": {"$eq": "queued"}}'
			queryValue: "5"
			activationQueryValue: "2"`,
		metric:       "s0-mongodb-jobs",
		averageValue: 5,
		set: func(t *testing.T, n int) {
			if err := srv.SetDocs(ctx, "jobs", queued, queued, n); err != nil {
				t.Fatal(err)
			}
		},
		// At activationQueryValue, above it, and 24 / 5 per worker = 5 workers.
		idle: 2, one: 3, max: 24,
		idleHold: 3 * time.Second,
	})
}

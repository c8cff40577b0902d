package mongodb

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestFerretDBSpeaksMongoDB: FerretDB counts the documents a filter matches (a collection that
// does not exist counts 0, as MongoDB answers), authenticates the setup user with SCRAM-SHA-256
// and SCRAM-SHA-1 against the database it is defined in, and answers MongoDB's error codes:
// AuthenticationFailed (18) for a wrong password or another authSource, Unauthorized (13) for a
// command without credentials, BadValue (2) for an unknown query operator, and PLAIN refused.
func TestFerretDBSpeaksMongoDB(t *testing.T) {
	s := Start(t, "queue")
	ctx := context.Background()
	queued := bson.D{{Key: "status", Value: "queued"}}
	if err := s.SetDocs(ctx, "jobs", queued, queued, 5); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDocs(ctx, "jobs", bson.D{{Key: "status", Value: "done"}}, bson.D{{Key: "status", Value: "done"}, {Key: "attempts", Value: 4}}, 3); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDocs(ctx, "jobs", queued, queued, 2); err != nil {
		t.Fatal(err)
	}
	jobs := s.Client().Database("queue").Collection("jobs")
	for _, tt := range []struct {
		filter bson.D
		want   int64
	}{
		{queued, 2},
		{bson.D{{Key: "attempts", Value: bson.D{{Key: "$gt", Value: 3}}}}, 3},
		{bson.D{{Key: "_id", Value: bson.D{{Key: "$exists", Value: true}}}}, 5},
	} {
		if n, err := jobs.CountDocuments(ctx, tt.filter); err != nil || n != tt.want {
			t.Errorf("count %v: %d %v, want %d", tt.filter, n, err, tt.want)
		}
	}
	if n, err := s.Client().Database("queue").Collection("nothing").CountDocuments(ctx, queued); err != nil || n != 0 {
		t.Errorf("count in a missing collection: %d %v, want 0 and no error", n, err)
	}
	if _, err := jobs.CountDocuments(ctx, bson.D{{Key: "status", Value: bson.D{{Key: "$nope", Value: 1}}}}); !hasCode(err, 2) {
		t.Errorf("unknown operator: %v, want BadValue (2)", err)
	}

	for _, tt := range []struct {
		name string
		uri  string
		code int
	}{
		{"SCRAM-SHA-256 (negotiated)", s.URI(), 0},
		{"SCRAM-SHA-1", s.URI() + "?authMechanism=SCRAM-SHA-1", 0},
		{"wrong password", s.URIAs(s.Username, "wrong"), 18},
		{"the user is not defined in admin", s.URI() + "?authSource=admin", 18},
		{"no credentials", s.URIAs("", ""), 13},
		{"PLAIN", s.URI() + "?authMechanism=PLAIN", 18},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := countWith(t, tt.uri)
			if tt.code == 0 && err != nil {
				t.Fatalf("count: %v", err)
			}
			if tt.code != 0 && !hasCode(err, tt.code) {
				t.Fatalf("count: %v, want code %d", err, tt.code)
			}
		})
	}
}

// countWith counts queue.jobs with a client of its own on uri.
func countWith(t *testing.T, uri string) error {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Disconnect(context.Background()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = c.Database("queue").Collection("jobs").CountDocuments(ctx, bson.D{{Key: "status", Value: "queued"}})
	return err
}

func hasCode(err error, code int) bool {
	var se mongo.ServerError
	if errors.As(err, &se) && se.HasErrorCode(code) {
		return true
	}
	// The handshake's refusal may reach the caller as text only.
	return err != nil && code == 18 && strings.Contains(err.Error(), "AuthenticationFailed")
}

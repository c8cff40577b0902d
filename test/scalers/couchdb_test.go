package scalers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	couchserver "github.com/kedactl/kedactl/test/servers/couchdb"
)

const couchTestQuery = `{"selector": {"status": {"$eq": "queued"}}, "fields": ["_id", "status"]}`

// newCouchDBTrigger builds a couchdb trigger on srv's database db with auth parameters.
func newCouchDBTrigger(t *testing.T, srv *couchserver.Server, db string, auth map[string]string) scalers.Scaler {
	t.Helper()
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "couchdb", Timeout: 5 * time.Second,
		TriggerMetadata: map[string]string{"dbName": db, "query": couchTestQuery, "queryValue": "5", "activationQueryValue": "1"}, AuthParams: auth})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// pollCouchDB polls once, as trigger 0 of database db.
func pollCouchDB(t *testing.T, s scalers.Scaler, db string) (float64, bool, error) {
	t.Helper()
	vals, active, err := s.GetMetricsAndActivity(context.Background(), "s0-coucdb-"+db)
	if err != nil {
		return 0, false, err
	}
	if len(vals) != 1 {
		t.Fatalf("poll gave %+v", vals)
	}
	return vals[0].Value.AsApproximateFloat64(), active, nil
}

// TestCouchDBCountsFoundDocuments: on pouchdb-server, the trigger with host, port, username and
// password (or a connection string holding them) counts the documents its Mango query finds;
// active above activationQueryValue; KEDA's metric name coucdb-<dbName>.
func TestCouchDBCountsFoundDocuments(t *testing.T) {
	srv := couchserver.Start(t)
	ctx := context.Background()
	if err := srv.CreateDB(ctx, "jobs"); err != nil {
		t.Fatal(err)
	}
	queued := map[string]any{"status": "queued"}
	if err := srv.AddDocs(ctx, "jobs", 7, map[string]any{"status": "done"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetDocs(ctx, "jobs", queued, queued, 1); err != nil {
		t.Fatal(err)
	}
	byHost := newCouchDBTrigger(t, srv, "jobs", map[string]string{"host": srv.Host, "port": srv.Port, "username": srv.Username, "password": srv.Password})
	if v, active, err := pollCouchDB(t, byHost, "jobs"); err != nil || v != 1 || active {
		t.Fatalf("at activation: %g %t %v", v, active, err)
	}
	if err := srv.SetDocs(ctx, "jobs", queued, queued, 12); err != nil {
		t.Fatal(err)
	}
	byConn := newCouchDBTrigger(t, srv, "jobs", map[string]string{"connectionString": "http://" + srv.Username + ":" + srv.Password + "@" + srv.Host + ":" + srv.Port})
	for _, s := range []scalers.Scaler{byHost, byConn} {
		if v, active, err := pollCouchDB(t, s, "jobs"); err != nil || v != 12 || !active {
			t.Fatalf("above activation: %g %t %v", v, active, err)
		}
	}
	specs := byHost.GetMetricSpecForScaling(ctx)
	if len(specs) != 1 || specs[0].External.Metric.Name != "s0-coucdb-jobs" || specs[0].External.Target.AverageValue.String() != "5" {
		t.Errorf("metric spec %+v", specs)
	}
}

// TestCouchDBFailures: a wrong password, a missing database and an address nothing answers on
// fail the poll with what to check, never showing the password.
func TestCouchDBFailures(t *testing.T) {
	srv := couchserver.Start(t)
	ctx := context.Background()
	if err := srv.CreateDB(ctx, "jobs"); err != nil {
		t.Fatal(err)
	}
	const wrong = "Couch-wrong-pa55-never-in-errors"
	for _, tt := range []struct {
		name     string
		db       string
		auth     map[string]string
		mentions []string
		secret   string
	}{
		{"wrong password", "jobs", map[string]string{"host": srv.Host, "port": srv.Port, "username": srv.Username, "password": wrong}, []string{"401", "refused the credentials", "unauthorized"}, wrong},
		{"wrong password in the connection string", "jobs", map[string]string{"connectionString": "http://keda:" + wrong + "@" + srv.Host + ":" + srv.Port}, []string{"401", "refused the credentials"}, wrong},
		{"missing database", "orders", map[string]string{"host": srv.Host, "port": srv.Port, "username": srv.Username, "password": srv.Password}, []string{"404", `no database "orders"`}, srv.Password},
		{"nothing listens", "jobs", map[string]string{"host": srv.Host, "port": "1", "username": srv.Username, "password": srv.Password}, []string{"could not reach the server", "metadata.host"}, srv.Password},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := pollCouchDB(t, newCouchDBTrigger(t, srv, tt.db, tt.auth), tt.db)
			if err == nil {
				t.Fatal("the poll succeeded")
			}
			for _, m := range append(tt.mentions, "trigger 0 (couchdb)") {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

package scalers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/kedactl/kedactl/plugin/diagnose"
	"github.com/kedactl/kedactl/scalers"
	mongoserver "github.com/kedactl/kedactl/test/servers/mongodb"
)

// newMongoDBTrigger builds a mongodb trigger (trigger 0) on pool counting collection with query,
// its connection from auth and env.
func newMongoDBTrigger(t *testing.T, pool *scalers.ClientPool, collection, query string, meta, auth, env map[string]string) scalers.Scaler {
	t.Helper()
	m := map[string]string{"collection": collection, "query": query, "queryValue": "5", "activationQueryValue": "2"}
	for k, v := range meta {
		m[k] = v
	}
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "mongodb", Timeout: 5 * time.Second, Clients: pool,
		TriggerMetadata: m, AuthParams: auth, ResolvedEnv: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// pollMongoDB polls once and returns the count and activity.
func pollMongoDB(t *testing.T, s scalers.Scaler, collection string) (float64, bool, error) {
	t.Helper()
	name := "s0-mongodb-" + collection
	vals, active, err := s.GetMetricsAndActivity(context.Background(), name)
	if err != nil {
		return 0, false, err
	}
	if len(vals) != 1 || vals[0].MetricName != name {
		t.Fatalf("poll gave %+v", vals)
	}
	return vals[0].Value.AsApproximateFloat64(), active, nil
}

// TestMongoDBScalerAgainstFerretDB: on FerretDB with SCRAM authentication, the trigger counts
// the documents of a collection matching its query, with the connection from host, port,
// username and password (a password a URI must escape), from a connection string in a
// TriggerAuthentication, or from connectionStringFromEnv; active above activationQueryValue;
// a collection that does not exist counts 0 (as MongoDB answers, and KEDA reports); triggers
// with one connection share one client, closed after the last leaves.
func TestMongoDBScalerAgainstFerretDB(t *testing.T) {
	if testing.Short() {
		t.Skip("starts FerretDB")
	}
	srv := mongoserver.Start(t, "queue")
	ctx := context.Background()
	pool := scalers.NewClientPool()
	defer pool.Close()
	queued := bson.D{{Key: "status", Value: "queued"}}
	if err := srv.SetDocs(ctx, "jobs", bson.D{{Key: "status", Value: "done"}}, bson.D{{Key: "status", Value: "done"}}, 4); err != nil {
		t.Fatal(err)
	}
	parts := map[string]string{"host": srv.Host, "port": srv.Port, "username": srv.Username, "password": srv.Password}
	const query = `{"status": "queued"}`
	byParts := newMongoDBTrigger(t, pool, "jobs", query, map[string]string{"dbName": srv.Database}, parts, nil)
	byConn := newMongoDBTrigger(t, pool, "jobs", query, map[string]string{"dbName": srv.Database}, map[string]string{"connectionString": srv.URI()}, nil)
	byEnv := newMongoDBTrigger(t, pool, "jobs", `{"status": {"$in": ["queued"]}}`, map[string]string{"dbName": srv.Database, "connectionStringFromEnv": "MONGO_URI"}, nil, map[string]string{"MONGO_URI": srv.URI()})
	if pool.Len() != 1 {
		t.Errorf("three triggers of one connection hold %d clients, want 1", pool.Len())
	}
	if specs := byParts.GetMetricSpecForScaling(ctx); len(specs) != 1 || specs[0].External.Metric.Name != "s0-mongodb-jobs" || specs[0].External.Target.AverageValue.String() != "5" {
		t.Errorf("metric spec %+v", specs)
	}
	for _, step := range []struct {
		n      int
		active bool
	}{{0, false}, {2, false}, {3, true}, {12, true}, {0, false}} {
		if err := srv.SetDocs(ctx, "jobs", queued, queued, step.n); err != nil {
			t.Fatal(err)
		}
		for name, s := range map[string]scalers.Scaler{"host and port": byParts, "connection string": byConn, "connectionStringFromEnv": byEnv} {
			if v, active, err := pollMongoDB(t, s, "jobs"); err != nil || v != float64(step.n) || active != step.active {
				t.Errorf("%s with %d queued: %g %t %v", name, step.n, v, active, err)
			}
		}
	}
	missing := newMongoDBTrigger(t, pool, "orders", query, map[string]string{"dbName": srv.Database}, parts, nil)
	if v, active, err := pollMongoDB(t, missing, "orders"); err != nil || v != 0 || active {
		t.Errorf("a missing collection: %g %t %v, want 0", v, active, err)
	}
	for _, s := range []scalers.Scaler{byParts, byConn, byEnv, missing} {
		_ = s.Close(ctx)
	}
	if pool.Len() != 0 {
		t.Errorf("%d clients left after every Close", pool.Len())
	}
}

// TestMongoDBFailuresAgainstFerretDB: a wrong password, no credentials, a query the server
// refuses and an address nothing listens on fail the poll with what to check, sorted into the
// causes kubectl keda describe names, never showing the password.
func TestMongoDBFailuresAgainstFerretDB(t *testing.T) {
	if testing.Short() {
		t.Skip("starts FerretDB")
	}
	srv := mongoserver.Start(t, "queue")
	// FerretDB reads a query's operators on the documents it filters: an empty collection
	// refuses none.
	if err := srv.SetDocs(context.Background(), "jobs", bson.D{{Key: "a", Value: 1}}, bson.D{{Key: "a", Value: 1}}, 1); err != nil {
		t.Fatal(err)
	}
	const wrong = "Mongo-wrong-pa55-never-in-errors"
	db := map[string]string{"dbName": srv.Database}
	for _, tt := range []struct {
		name     string
		query    string
		auth     map[string]string
		mentions []string
		cause    string
	}{
		{"wrong password", `{"a": 1}`, map[string]string{"host": srv.Host, "port": srv.Port, "username": srv.Username, "password": wrong},
			[]string{"MongoDB refused the credentials", "AuthenticationFailed", "authSource"}, diagnose.CauseCredentials},
		{"wrong password in the connection string", `{"a": 1}`, map[string]string{"connectionString": srv.URIAs(srv.Username, wrong)},
			[]string{"MongoDB refused the credentials"}, diagnose.CauseCredentials},
		{"no credentials", `{"a": 1}`, map[string]string{"connectionString": srv.URIAs("", "")},
			[]string{"not authorized", "requires authentication", "give credentials"}, diagnose.CauseCredentials},
		{"query the server refuses", `{"a": {"$nope": 1}}`, map[string]string{"connectionString": srv.URI()},
			[]string{"MongoDB refused the query", "$nope", "metadata.query"}, diagnose.CauseRefused},
		{"nothing listens", `{"a": 1}`, map[string]string{"host": srv.Host, "port": "1", "username": srv.Username, "password": wrong},
			[]string{"could not reach the server", "127.0.0.1:1", "connection refused", "check host and port"}, diagnose.CauseUnreachable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "mongodb", Timeout: 2 * time.Second,
				TriggerMetadata: map[string]string{"collection": "jobs", "query": tt.query, "queryValue": "5", "dbName": db["dbName"]}, AuthParams: tt.auth})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(context.Background())
			_, _, err = pollMongoDB(t, s, "jobs")
			if err == nil {
				t.Fatal("the poll succeeded")
			}
			for _, m := range append(tt.mentions, "trigger 0 (mongodb)", `collection "jobs" of database "queue"`) {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), srv.Password) {
				t.Errorf("error %q shows a password", err)
			}
			if got := diagnose.FailureCause(err.Error()); got != tt.cause {
				t.Errorf("describe names the cause %q, want %q (error %q)", got, tt.cause, err)
			}
		})
	}
}

// TestMongoDBTLSAgainstFerretDB: with tls "enable" and the server's CA in ca, the trigger counts
// on a FerretDB that serves TLS only; with a client certificate in cert and key, on one that asks
// for it too. A CA that did not sign the server's certificate is a certificate not trusted; no
// client certificate where one is asked for is refused credentials.
func TestMongoDBTLSAgainstFerretDB(t *testing.T) {
	if testing.Short() {
		t.Skip("starts FerretDB")
	}
	other := mongoserver.StartWith(t, "queue", mongoserver.Options{TLS: true})
	for _, tt := range []struct {
		name       string
		clientAuth bool
		tls        func(srv *mongoserver.Server) map[string]string
		cause      string
	}{
		{"CA only", false, func(srv *mongoserver.Server) map[string]string {
			return map[string]string{"tls": "enable", "ca": string(srv.TLS.CAPEM)}
		}, ""},
		{"client certificate", true, func(srv *mongoserver.Server) map[string]string {
			return map[string]string{"tls": "enable", "ca": string(srv.TLS.CAPEM), "cert": string(srv.TLS.CertPEM), "key": string(srv.TLS.KeyPEM)}
		}, ""},
		{"another CA", false, func(*mongoserver.Server) map[string]string {
			return map[string]string{"tls": "enable", "ca": string(other.TLS.CAPEM)}
		}, diagnose.CauseCertificate},
		{"no client certificate", true, func(srv *mongoserver.Server) map[string]string {
			return map[string]string{"tls": "enable", "ca": string(srv.TLS.CAPEM)}
		}, diagnose.CauseCredentials},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := mongoserver.StartWith(t, "queue", mongoserver.Options{TLS: true, TLSClientAuth: tt.clientAuth})
			queued := bson.D{{Key: "status", Value: "queued"}}
			if err := srv.SetDocs(context.Background(), "jobs", queued, queued, 3); err != nil {
				t.Fatal(err)
			}
			auth := tt.tls(srv)
			for k, v := range map[string]string{"host": srv.Host, "port": srv.Port, "username": srv.Username, "password": srv.Password} {
				auth[k] = v
			}
			s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "mongodb", Timeout: 2 * time.Second,
				TriggerMetadata: map[string]string{"collection": "jobs", "query": `{"status": "queued"}`, "queryValue": "5", "dbName": "queue"}, AuthParams: auth})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(context.Background())
			v, _, err := pollMongoDB(t, s, "jobs")
			if tt.cause == "" {
				if err != nil || v != 3 {
					t.Fatalf("count %g, %v; want 3", v, err)
				}
				return
			}
			if err == nil {
				t.Fatal("the poll succeeded")
			}
			if got := diagnose.FailureCause(err.Error()); got != tt.cause {
				t.Errorf("describe names the cause %q, want %q (error %q)", got, tt.cause, err)
			}
			if strings.Contains(err.Error(), srv.Password) {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

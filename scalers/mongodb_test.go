package scalers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/address"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/description"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseMongoDBMetadata(t *testing.T) {
	const password = "Mongo-p@ss-never-in-errors"
	certPEM, keyPEM, _ := etcdTestPair(t)
	base := func(extra ...string) map[string]string {
		m := map[string]string{"query": `{"name":"John"}`, "collection": "demo", "queryValue": "12"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	parts := map[string]string{"dbName": "test", "host": "localhost", "port": "1234", "username": "sample", "password": password}
	with := func(m map[string]string, extra ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i+1 < len(extra); i += 2 {
			out[extra[i]] = extra[i+1]
		}
		return out
	}
	env := map[string]string{"MongoDB_CONN_STR": "mongodb://mongodb0.example.com:27017", "MongoDB_PASSWORD": "test@password"}
	tests := []parseCase[meta.MongoDBMetadata]{
		// KEDA's own cases (mongo_scaler_test.go), with the connection strings it writes.
		{name: "connectionStringFromEnv", meta: base("connectionStringFromEnv", "MongoDB_CONN_STR", "dbName", "test"), env: env, check: func(t *testing.T, m *meta.MongoDBMetadata) {
			if m.URI != "mongodb://mongodb0.example.com:27017" || m.DBName != "test" || m.Collection != "demo" || m.QueryValue != 12 || m.ActivationQueryValue != 0 || m.TLSConfig != nil {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "passwordFromEnv, the rest from a TriggerAuthentication", meta: base("passwordFromEnv", "MongoDB_PASSWORD"), env: env,
			auth: map[string]string{"dbName": "test", "host": "localhost", "port": "1234", "username": "sample"}, check: func(t *testing.T, m *meta.MongoDBMetadata) {
				if m.URI != "mongodb://sample:test%40password@localhost:1234/test" {
					t.Errorf("URI %s", m.URI)
				}
			}},
		{name: "all from a TriggerAuthentication", meta: base(), auth: with(parts, "password", "sec@ure"), check: func(t *testing.T, m *meta.MongoDBMetadata) {
			if m.URI != "mongodb://sample:sec%40ure@localhost:1234/test" {
				t.Errorf("URI %s", m.URI)
			}
		}},
		{name: "mongodb+srv needs no port", meta: base(), auth: with(parts, "scheme", "mongodb+srv", "port", "", "password", "sec@ure"), check: func(t *testing.T, m *meta.MongoDBMetadata) {
			if m.URI != "mongodb+srv://sample:sec%40ure@localhost/test" {
				t.Errorf("URI %s", m.URI)
			}
		}},
		{name: "fractional queryValue", meta: base("queryValue", "0.9", "activationQueryValue", "2.5"), auth: parts, check: func(t *testing.T, m *meta.MongoDBMetadata) {
			if m.QueryValue != 0.9 || m.ActivationQueryValue != 2.5 {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "connection parts in metadata", meta: with(base(), "host", "::1", "port", "27017", "username", "keda", "dbName", "q"), auth: map[string]string{"password": "pw:/?#[]@"}, check: func(t *testing.T, m *meta.MongoDBMetadata) {
			if m.URI != "mongodb://keda:pw%3A%2F%3F%23%5B%5D%40@[::1]:27017/q" {
				t.Errorf("URI %s", m.URI)
			}
		}},
		{name: "TLS with a CA only", meta: base("connectionStringFromEnv", "MongoDB_CONN_STR", "dbName", "test"), env: env, auth: map[string]string{"tls": "enable", "ca": certPEM}, check: func(t *testing.T, m *meta.MongoDBMetadata) {
			if m.TLSConfig == nil || m.TLSConfig.RootCAs == nil || len(m.TLSConfig.Certificates) != 0 {
				t.Errorf("TLS %+v", m.TLSConfig)
			}
		}},
		{name: "TLS with a client certificate", meta: base("connectionStringFromEnv", "MongoDB_CONN_STR", "dbName", "test"), env: env, auth: map[string]string{"tls": "enable", "cert": certPEM, "key": keyPEM, "ca": certPEM}, check: func(t *testing.T, m *meta.MongoDBMetadata) {
			if m.TLSConfig == nil || len(m.TLSConfig.Certificates) != 1 {
				t.Errorf("TLS %+v", m.TLSConfig)
			}
		}},
		{name: "TLS disabled ignores the certificates", meta: base("connectionStringFromEnv", "MongoDB_CONN_STR", "dbName", "test"), env: env, auth: map[string]string{"tls": "disable", "ca": "not PEM"}, check: func(t *testing.T, m *meta.MongoDBMetadata) {
			if m.TLSConfig != nil {
				t.Errorf("TLS %+v", m.TLSConfig)
			}
		}},
		{name: "Extended JSON query", meta: base("query", `{"_id": {"$oid": "5f1b3c4d5e6f7a8b9c0d1e2f"}, "n": {"$numberLong": "3"}}`), auth: parts, check: func(*testing.T, *meta.MongoDBMetadata) {}},

		{name: "no metadata", meta: map[string]string{}, env: env, wantErr: []string{"trigger 0 (mongodb)", "is required"}},
		{name: "activationQueryValue not a number", meta: base("activationQueryValue", "aa", "connectionStringFromEnv", "MongoDB_CONN_STR", "dbName", "test"), env: env, wantErr: []string{"activationQueryValue", "not a valid number"}},
		{name: "TLS cert without key", meta: base("connectionStringFromEnv", "MongoDB_CONN_STR", "dbName", "test"), env: env, auth: map[string]string{"tls": "enable", "cert": certPEM}, wantErr: []string{"metadata.key", "is required when cert is set"}},
		{name: "TLS key without cert", meta: base("connectionStringFromEnv", "MongoDB_CONN_STR", "dbName", "test"), env: env, auth: map[string]string{"tls": "enable", "key": keyPEM}, wantErr: []string{"metadata.cert", "is required when key is set"}},
		{name: "TLS without any certificate", meta: base("connectionStringFromEnv", "MongoDB_CONN_STR", "dbName", "test"), env: env, auth: map[string]string{"tls": "enable"}, wantErr: []string{"metadata.tls", "without ca, cert or key"}},
		{name: "TLS value not enable or disable", meta: base(), auth: with(parts, "tls", "true"), wantErr: []string{"metadata.tls", "enable, disable"}},
		{name: "CA not PEM", meta: base(), auth: with(parts, "tls", "enable", "ca", "cavalue"), wantErr: []string{"metadata.ca", "no PEM certificate"}},
		{name: "missing host", meta: base(), auth: with(parts, "host", ""), wantErr: []string{"metadata.host", "is required without connectionString"}},
		{name: "missing port", meta: base(), auth: with(parts, "port", ""), wantErr: []string{"metadata.port", "is required"}},
		{name: "port not a port", meta: base(), auth: with(parts, "port", "99999"), wantErr: []string{"metadata.port", "1 to 65535"}},
		{name: "missing username", meta: base(), auth: with(parts, "username", ""), wantErr: []string{"metadata.username", "is required"}},
		{name: "missing password", meta: base(), auth: with(parts, "password", ""), wantErr: []string{"metadata.password", "is required"}},
		{name: "missing dbName", meta: base(), auth: with(parts, "dbName", ""), wantErr: []string{"metadata.dbName", "is required"}},
		{name: "missing collection", meta: base("collection", ""), auth: parts, wantErr: []string{"metadata.collection", "is required"}},
		{name: "missing queryValue", meta: base("queryValue", ""), auth: parts, wantErr: []string{"metadata.queryValue", "is required"}},
		{name: "queryValue 0", meta: base("queryValue", "0"), auth: parts, wantErr: []string{"metadata.queryValue", "above 0"}},
		{name: "queryValue negative", meta: base("queryValue", "-1"), auth: parts, wantErr: []string{"metadata.queryValue", "above 0"}},
		{name: "scheme unknown", meta: base("scheme", "http"), auth: parts, wantErr: []string{"metadata.scheme", `"http"`, "mongodb+srv"}},
		{name: "query not JSON", meta: base("query", "status: queued"), auth: parts, wantErr: []string{"metadata.query", "not a JSON document"}},
		{name: "query an array", meta: base("query", `[{"a":1}]`), auth: parts, wantErr: []string{"metadata.query", "not a JSON document"}},
		{name: "query two documents", meta: base("query", `{"a":1} {"b":2}`), auth: parts, wantErr: []string{"metadata.query", "more than one JSON value"}},
		{name: "query empty", meta: base("query", `{}`), auth: parts, wantErr: []string{"metadata.query", "empty document", `"$exists"`}},
		{name: "connection string of another scheme", meta: base("dbName", "q"), auth: map[string]string{"connectionString": "postgres://u:" + password + "@h/db"}, wantErr: []string{"metadata.connectionString", "not a MongoDB connection string"}},
		{name: "offline: connection may come later", meta: base("dbName", "q"), offline: true, check: func(t *testing.T, m *meta.MongoDBMetadata) {
			if m.URI != "" {
				t.Errorf("URI %q", m.URI)
			}
		}},
		{name: "offline still checks the query", meta: base("dbName", "q", "query", "{}"), offline: true, wantErr: []string{"metadata.query"}},
	}
	runParseCases(t, "mongodb", tests, password, "test@password", "sec@ure", "sec%40ure")
	// As a metric source, queryValue may be 0 (the HPA reads the formula's composite metric).
	cfg := &Config{TriggerType: "mongodb", AsMetricSource: true, TriggerMetadata: base("queryValue", "0"), AuthParams: parts}
	if err := ValidateTrigger(cfg); err != nil {
		t.Errorf("as a metric source: %v", err)
	}
}

// TestMongoDBBuildRefuses: what only the driver's parsers refuse fails when the trigger is
// built, naming the parameter and never showing the password.
func TestMongoDBBuildRefuses(t *testing.T) {
	const password = "Mongo-build-secret"
	for _, tt := range []struct {
		name, query, conn string
		want              []string
	}{
		{"relaxed Extended JSON date", `{"d": {"$date": "2020-01-01T00:00:00Z"}}`, "mongodb://h/q", []string{"metadata.query", "canonical Extended JSON"}},
		{"bad $numberInt", `{"n": {"$numberInt": "x"}}`, "mongodb://h/q", []string{"metadata.query", "canonical Extended JSON"}},
		{"port out of range", `{"a": 1}`, "mongodb://u:" + password + "@h:99999/db", []string{"metadata.connectionString", "not a MongoDB connection string"}},
		{"bad escape", `{"a": 1}`, "mongodb://u:" + password + "%ZZ@h/db", []string{"metadata.connectionString", "not a MongoDB connection string"}},
		{"SRV records not found", `{"a": 1}`, "mongodb+srv://u:" + password + "@cluster.invalid/db", []string{"could not look up the DNS SRV records", "cluster.invalid", "check host"}},
		{"unknown option value", `{"a": 1}`, "mongodb://u:" + password + "@h/db?readPreference=nearest-ish", []string{"metadata.connectionString"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &Config{TriggerType: "mongodb", TriggerMetadata: map[string]string{"query": tt.query, "collection": "c", "queryValue": "1", "dbName": "q"},
				AuthParams: map[string]string{"connectionString": tt.conn}}
			if err := ValidateTrigger(cfg); err != nil {
				t.Fatalf("metadata refused: %v", err)
			}
			s, err := New(context.Background(), cfg)
			if err == nil {
				_ = s.Close(context.Background())
				t.Fatal("built")
			}
			for _, w := range append(tt.want, "trigger 0 (mongodb)") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

// TestMongoDBMetricSpec: KEDA's metric name s<index>-mongodb-<collection>, normalized, and the
// target queryValue.
func TestMongoDBMetricSpec(t *testing.T) {
	for _, tt := range []struct {
		index      int
		collection string
		queryValue string
		name       string
		target     string
	}{
		{0, "demo", "12", "s0-mongodb-demo", "12"},
		{1, "demo", "0.9", "s1-mongodb-demo", "900m"},
		{2, "jobs.eu", "5", "s2-mongodb-jobs-eu", "5"},
	} {
		s, err := New(context.Background(), &Config{TriggerType: "mongodb", TriggerIndex: tt.index,
			TriggerMetadata: map[string]string{"query": `{"a":1}`, "collection": tt.collection, "queryValue": tt.queryValue, "dbName": "q"},
			AuthParams:      map[string]string{"connectionString": "mongodb://127.0.0.1:1"}})
		if err != nil {
			t.Fatal(err)
		}
		specs := s.GetMetricSpecForScaling(context.Background())
		if len(specs) != 1 || specs[0].External.Metric.Name != tt.name || specs[0].External.Target.AverageValue.String() != tt.target {
			t.Errorf("%s: spec %+v", tt.collection, specs)
		}
		_ = s.Close(context.Background())
	}
}

// TestMongoDBSharesOneClient: triggers with the same connection share one client, closed after
// the last leaves; another password is another client.
func TestMongoDBSharesOneClient(t *testing.T) {
	pool := NewClientPool()
	build := func(collection, password string) *mongoDBScaler {
		t.Helper()
		s, err := New(context.Background(), &Config{TriggerType: "mongodb", Clients: pool,
			TriggerMetadata: map[string]string{"query": `{"a":1}`, "collection": collection, "queryValue": "1", "dbName": "q", "host": "127.0.0.1", "port": "1"},
			AuthParams:      map[string]string{"username": "u", "password": password}})
		if err != nil {
			t.Fatal(err)
		}
		return s.(*mongoDBScaler)
	}
	a, b, c := build("a", "p1"), build("b", "p1"), build("a", "p2")
	if a.client != b.client || a.client == c.client || pool.Len() != 2 {
		t.Fatalf("%d clients; a and b share: %v", pool.Len(), a.client == b.client)
	}
	for _, s := range []Scaler{a, b, c} {
		_ = s.Close(context.Background())
	}
	if pool.Len() != 0 {
		t.Errorf("%d clients left after every Close", pool.Len())
	}
}

// TestMongoDBUnreachable: a poll of a port nothing listens on fails within the timeout, naming
// the trigger, the collection and the refused connection (not the driver's deadline), never the
// password.
func TestMongoDBUnreachable(t *testing.T) {
	const password = "Mongo-unreachable-secret"
	s, err := New(context.Background(), &Config{TriggerType: "mongodb", Timeout: time.Second,
		TriggerMetadata: map[string]string{"query": `{"a":1}`, "collection": "jobs", "queryValue": "1", "dbName": "q"},
		AuthParams:      map[string]string{"connectionString": "mongodb://keda:" + password + "@127.0.0.1:1/q"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	start := time.Now()
	_, _, err = s.GetMetricsAndActivity(context.Background(), "s0-mongodb-jobs")
	if err == nil {
		t.Fatal("the poll succeeded")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the poll took %s", took)
	}
	for _, w := range []string{"trigger 0 (mongodb)", `collection "jobs" of database "q" on 127.0.0.1:1`, "could not reach the server", "connection refused", "check host and port"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "deadline exceeded") {
		t.Errorf("error %q shows the password or the driver's deadline", err)
	}
}

// TestMongoDBFailure: the driver's errors are worded with their cause and what to check.
func TestMongoDBFailure(t *testing.T) {
	refused := errors.New("dial tcp 10.0.0.9:27017: connect: connection refused")
	selection := func(last error) error {
		return topology.ServerSelectionError{Wrapped: context.DeadlineExceeded, Desc: description.Topology{
			Servers: []description.Server{{Addr: address.Address("mongo:27017"), LastError: last}}}}
	}
	for _, tt := range []struct {
		name     string
		err      error
		timedOut bool
		want     []string
		not      []string
	}{
		{"nothing listens", selection(refused), true, []string{"could not reach the server: mongo:27017: dial tcp", "connection refused", "check host and port"}, []string{"deadline"}},
		{"no server answered yet", selection(nil), true, []string{"no answer within the trigger's timeout of 3s", "no server was ready"}, nil},
		{"client certificate wanted", selection(errors.New("connection(mongo:27017[-50]) incomplete read of message header: remote error: tls: certificate required")), true, []string{"wants credentials", "certificate required", "cert and key"}, nil},
		{"certificate", selection(errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority")), true, []string{"TLS failed", "x509:", "parameter ca"}, nil},
		{"wrong password", fmt.Errorf("connection() error occurred during connection handshake: auth error: %w", mongo.CommandError{Code: 18, Name: "AuthenticationFailed", Message: "Authentication failed."}), false,
			[]string{"MongoDB refused the credentials", "Authentication failed", "authSource"}, nil},
		{"handshake refusal as text", errors.New(`connection() error occurred during connection handshake: auth error: unable to authenticate using mechanism "SCRAM-SHA-256"`), false, []string{"MongoDB refused the credentials"}, nil},
		{"no credentials", mongo.CommandError{Code: 13, Name: "Unauthorized", Message: "Command aggregate requires authentication"}, false, []string{"not authorized", "requires authentication", "give credentials"}, nil},
		{"slow", fmt.Errorf("operation: %w", context.DeadlineExceeded), true, []string{"no answer within the trigger's timeout of 3s", "an index"}, nil},
		{"refused query", mongo.CommandError{Code: 2, Name: "BadValue", Message: "unknown operator: $foo"}, false, []string{"MongoDB refused the query", "unknown operator: $foo", "metadata.query"}, nil},
		{"other", errors.New("something else"), false, []string{"something else"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := mongoDBFailure(tt.err, tt.timedOut, 3*time.Second)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q does not mention %q", got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("%q mentions %q", got, n)
				}
			}
		})
	}
}

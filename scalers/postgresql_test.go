package scalers

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kedactl/kedactl/scalers/meta"
)

// pgConf is the driver's reading of the connection Validate settled on.
func pgConf(t *testing.T, m *meta.PostgresqlMetadata) *pgx.ConnConfig {
	t.Helper()
	cc, err := postgresqlConnConfig(m)
	if err != nil || cc == nil {
		t.Fatalf("connection config %v, %v", cc, err)
	}
	return cc
}

func TestParsePostgreSQLMetadata(t *testing.T) {
	parts := func(extra map[string]string) map[string]string {
		m := map[string]string{"host": "db.example", "port": "5432", "userName": "keda", "dbName": "jobs", "sslmode": "disable", "query": "SELECT COUNT(*) FROM jobs", "targetQueryValue": "5"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []parseCase[meta.PostgresqlMetadata]{
		{name: "parts and defaults", meta: parts(nil), check: func(t *testing.T, m *meta.PostgresqlMetadata) {
			cc := pgConf(t, m)
			if cc.Host != "db.example" || cc.Port != 5432 || cc.User != "keda" || cc.Database != "jobs" || cc.Password != "" || cc.TLSConfig != nil {
				t.Errorf("conn config = %s:%d %s/%s tls=%v", cc.Host, cc.Port, cc.User, cc.Database, cc.TLSConfig != nil)
			}
			if m.TargetQueryValue != 5 || m.ActivationTargetQueryValue != 0 {
				t.Errorf("target %g activation %g", m.TargetQueryValue, m.ActivationTargetQueryValue)
			}
		}},
		{name: "float thresholds", meta: parts(map[string]string{"targetQueryValue": "2.5", "activationTargetQueryValue": "0.5"}), check: func(t *testing.T, m *meta.PostgresqlMetadata) {
			if m.TargetQueryValue != 2.5 || m.ActivationTargetQueryValue != 0.5 {
				t.Errorf("target %g activation %g", m.TargetQueryValue, m.ActivationTargetQueryValue)
			}
		}},
		{name: "password from env, quoted", meta: parts(map[string]string{"passwordFromEnv": "PG_PASSWORD"}), env: map[string]string{"PG_PASSWORD": `it's a pass\word`}, check: func(t *testing.T, m *meta.PostgresqlMetadata) {
			if pgConf(t, m).Password != `it's a pass\word` {
				t.Errorf("password = %q", pgConf(t, m).Password)
			}
		}},
		{name: "password from a TriggerAuthentication", meta: parts(nil), auth: map[string]string{"password": "from-auth"}, check: func(t *testing.T, m *meta.PostgresqlMetadata) {
			if pgConf(t, m).Password != "from-auth" {
				t.Errorf("password = %q", pgConf(t, m).Password)
			}
		}},
		{name: "password in metadata is not read", meta: parts(map[string]string{"password": "in-plain-sight"}), check: func(t *testing.T, m *meta.PostgresqlMetadata) {
			if m.Password != "" {
				t.Errorf("password taken from metadata, KEDA reads it only from env or a TriggerAuthentication")
			}
		}},
		{name: "auth params win over metadata", meta: parts(nil), auth: map[string]string{"host": "auth-host", "dbName": "authdb"}, check: func(t *testing.T, m *meta.PostgresqlMetadata) {
			if pgConf(t, m).Host != "auth-host" || pgConf(t, m).Database != "authdb" {
				t.Errorf("host %s db %s, want the TriggerAuthentication's", pgConf(t, m).Host, pgConf(t, m).Database)
			}
		}},
		{name: "connection from env", meta: map[string]string{"connectionFromEnv": "PG_CONN", "query": "SELECT 1", "targetQueryValue": "1"},
			env: map[string]string{"PG_CONN": "postgres://u:secret@10.0.0.1:6543/app?sslmode=require"}, check: func(t *testing.T, m *meta.PostgresqlMetadata) {
				cc := pgConf(t, m)
				if cc.Host != "10.0.0.1" || cc.Port != 6543 || cc.User != "u" || cc.Password != "secret" || cc.Database != "app" || cc.TLSConfig == nil {
					t.Errorf("conn config = %s:%d %s/%s", cc.Host, cc.Port, cc.User, cc.Database)
				}
			}},
		{name: "connection key=value from a TriggerAuthentication wins over parts", meta: parts(nil),
			auth: map[string]string{"connection": "host=other port=1 user=x dbname=y sslmode=disable password=z"}, check: func(t *testing.T, m *meta.PostgresqlMetadata) {
				if pgConf(t, m).Host != "other" || pgConf(t, m).Database != "y" {
					t.Errorf("host %s db %s, want the connection string's", pgConf(t, m).Host, pgConf(t, m).Database)
				}
			}},
		{name: "missing query", meta: map[string]string{"host": "h", "port": "1", "userName": "u", "dbName": "d", "sslmode": "disable", "targetQueryValue": "1"}, wantErr: []string{"trigger 0 (postgresql)", "metadata.query", "is required"}},
		{name: "missing targetQueryValue", meta: map[string]string{"host": "h", "port": "1", "userName": "u", "dbName": "d", "sslmode": "disable", "query": "q"}, wantErr: []string{"metadata.targetQueryValue", "is missing"}},
		{name: "targetQueryValue not a number", meta: parts(map[string]string{"targetQueryValue": "lots"}), wantErr: []string{"metadata.targetQueryValue", `"lots" is not a valid number`}},
		{name: "activation not a number", meta: parts(map[string]string{"activationTargetQueryValue": "x"}), wantErr: []string{"metadata.activationTargetQueryValue", "number"}},
		{name: "missing host", meta: parts(map[string]string{"host": ""}), wantErr: []string{"metadata.host", "is required when no connection string", "connectionFromEnv"}},
		{name: "missing sslmode", meta: parts(map[string]string{"sslmode": ""}), wantErr: []string{"metadata.sslmode", "is required"}},
		{name: "bad sslmode", meta: parts(map[string]string{"sslmode": "sometimes"}), wantErr: []string{"metadata.sslmode", `"sometimes" is not an sslmode`, "verify-full"}},
		{name: "bad port", meta: parts(map[string]string{"port": "54x"}), wantErr: []string{"metadata.port", `"54x" is not a port`}},
		{name: "env var missing", meta: parts(map[string]string{"passwordFromEnv": "NOPE"}), wantErr: []string{"metadata.password", `"NOPE"`}},
		{name: "bad connection string hides it", meta: map[string]string{"connectionFromEnv": "C", "query": "q", "targetQueryValue": "1"},
			env: map[string]string{"C": "postgres://u:hunter2-secret@h:notaport/db"}, wantErr: []string{"metadata.connection", "not a valid PostgreSQL connection string"}},
		{name: "offline without connection details", offline: true, meta: map[string]string{"connectionFromEnv": "C", "query": "q", "targetQueryValue": "1"}, check: func(t *testing.T, m *meta.PostgresqlMetadata) {
			if m.ConnString != "" {
				t.Errorf("offline: no connection should have been settled")
			}
		}},
		{name: "offline still checks the target", offline: true, meta: map[string]string{"query": "q"}, wantErr: []string{"metadata.targetQueryValue"}},
	}
	runParseCases(t, "postgresql", tests, "hunter2-secret")
}

func TestPostgreSQLScalerSpec(t *testing.T) {
	cfg := &Config{TriggerType: "postgresql", TriggerIndex: 2, Timeout: time.Second,
		TriggerMetadata: map[string]string{"host": "127.0.0.1", "port": "1", "userName": "u", "dbName": "my.db", "sslmode": "disable", "query": "SELECT 1", "targetQueryValue": "2.5"}}
	s, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(t.Context())
	specs := s.GetMetricSpecForScaling(t.Context())
	if len(specs) != 1 || specs[0].External.Metric.Name != "s2-postgresql" || specs[0].External.Target.AverageValue.MilliValue() != 2500 {
		t.Fatalf("metric spec = %+v", specs)
	}
	cfg.MetricType = "Value"
	if specs := s.GetMetricSpecForScaling(t.Context()); specs[0].External.Target.Value.MilliValue() != 2500 {
		t.Fatalf("Value metric spec = %+v", specs)
	}
}

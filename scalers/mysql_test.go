package scalers

import (
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/kedactl/kedactl/scalers/meta"
)

// myConf is the driver's reading of the connection Validate accepted.
func myConf(t *testing.T, m *meta.MysqlMetadata) *mysql.Config {
	t.Helper()
	dsn, err := mysqlConfig(m)
	if err != nil || dsn == nil {
		t.Fatalf("connection config %v, %v", dsn, err)
	}
	return dsn
}

func TestParseMySQLMetadata(t *testing.T) {
	parts := func(extra map[string]string) map[string]string {
		m := map[string]string{"host": "db.example", "port": "3306", "username": "keda", "dbName": "jobs", "query": "SELECT COUNT(*) FROM jobs", "queryValue": "5"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []parseCase[meta.MysqlMetadata]{
		{name: "parts and defaults", meta: parts(nil), check: func(t *testing.T, m *meta.MysqlMetadata) {
			if myConf(t, m).Addr != "db.example:3306" || myConf(t, m).User != "keda" || myConf(t, m).DBName != "jobs" || myConf(t, m).Passwd != "" || myConf(t, m).Net != "tcp" {
				t.Errorf("dsn = %+v", myConf(t, m))
			}
			if m.QueryValue != 5 || m.ActivationQueryValue != 0 {
				t.Errorf("queryValue %g activation %g", m.QueryValue, m.ActivationQueryValue)
			}
		}},
		{name: "float thresholds", meta: parts(map[string]string{"queryValue": "1.5", "activationQueryValue": "3.25"}), check: func(t *testing.T, m *meta.MysqlMetadata) {
			if m.QueryValue != 1.5 || m.ActivationQueryValue != 3.25 {
				t.Errorf("queryValue %g activation %g", m.QueryValue, m.ActivationQueryValue)
			}
		}},
		{name: "password and username from env", meta: parts(map[string]string{"passwordFromEnv": "DB_PW", "username": "", "usernameFromEnv": "DB_USER"}),
			env: map[string]string{"DB_PW": "s3cret", "DB_USER": "envuser"}, check: func(t *testing.T, m *meta.MysqlMetadata) {
				if myConf(t, m).Passwd != "s3cret" || myConf(t, m).User != "envuser" {
					t.Errorf("user %q password %q", myConf(t, m).User, myConf(t, m).Passwd)
				}
			}},
		{name: "metadata username wins over env", meta: parts(map[string]string{"usernameFromEnv": "DB_USER"}), env: map[string]string{"DB_USER": "envuser"}, check: func(t *testing.T, m *meta.MysqlMetadata) {
			if myConf(t, m).User != "keda" {
				t.Errorf("user %q, want metadata's (KEDA's order)", myConf(t, m).User)
			}
		}},
		{name: "password and host from a TriggerAuthentication", meta: parts(map[string]string{"host": ""}), auth: map[string]string{"password": "from-auth", "host": "auth-host"}, check: func(t *testing.T, m *meta.MysqlMetadata) {
			if myConf(t, m).Passwd != "from-auth" || myConf(t, m).Addr != "auth-host:3306" {
				t.Errorf("addr %s password %q", myConf(t, m).Addr, myConf(t, m).Passwd)
			}
		}},
		{name: "metricName accepted and ignored", meta: parts(map[string]string{"metricName": "custom"}), check: func(t *testing.T, m *meta.MysqlMetadata) {}},
		{name: "connection string from env wins over parts", meta: parts(map[string]string{"connectionStringFromEnv": "DSN"}),
			env: map[string]string{"DSN": "app:pw@tcp(10.0.0.1:3307)/orders?tls=skip-verify"}, check: func(t *testing.T, m *meta.MysqlMetadata) {
				if myConf(t, m).Addr != "10.0.0.1:3307" || myConf(t, m).User != "app" || myConf(t, m).Passwd != "pw" || myConf(t, m).DBName != "orders" {
					t.Errorf("dsn = %+v", myConf(t, m))
				}
			}},
		{name: "connection string from a TriggerAuthentication", meta: map[string]string{"query": "q", "queryValue": "1"},
			auth: map[string]string{"connectionString": "app:pw@tcp(h:1)/d"}, check: func(t *testing.T, m *meta.MysqlMetadata) {
				if myConf(t, m).DBName != "d" {
					t.Errorf("dsn = %+v", myConf(t, m))
				}
			}},
		{name: "missing query", meta: parts(map[string]string{"query": ""}), wantErr: []string{"trigger 0 (mysql)", "metadata.query", "is required"}},
		{name: "missing queryValue", meta: parts(map[string]string{"queryValue": ""}), wantErr: []string{"metadata.queryValue", "is required"}},
		{name: "queryValue zero", meta: parts(map[string]string{"queryValue": "0"}), wantErr: []string{"metadata.queryValue", "above 0"}},
		{name: "queryValue not a number", meta: parts(map[string]string{"queryValue": "many"}), wantErr: []string{"metadata.queryValue", `"many" is not a valid number`}},
		{name: "missing host", meta: parts(map[string]string{"host": ""}), wantErr: []string{"metadata.host", "is required when no connectionString", "connectionStringFromEnv"}},
		{name: "missing port", meta: parts(map[string]string{"port": ""}), wantErr: []string{"metadata.port", "is required"}},
		{name: "bad port", meta: parts(map[string]string{"port": "0"}), wantErr: []string{"metadata.port", `"0" is not a port`}},
		{name: "env var missing", meta: parts(map[string]string{"passwordFromEnv": "NOPE"}), wantErr: []string{"metadata.password", `"NOPE"`}},
		{name: "bad DSN hides it", meta: map[string]string{"connectionStringFromEnv": "DSN", "query": "q", "queryValue": "1"},
			env: map[string]string{"DSN": "root:hunter2-secret@tcp(h:1)"}, wantErr: []string{"metadata.connectionString", "not a valid MySQL DSN", "missing the slash"}},
		{name: "network without an address", meta: map[string]string{"connectionStringFromEnv": "DSN", "query": "q", "queryValue": "1"},
			env: map[string]string{"DSN": "root:hunter2-secret@udp/orders"}, wantErr: []string{"metadata.connectionString", "not a valid MySQL DSN", "tcp or unix"}},
		{name: "unix socket at the default path", meta: map[string]string{"connectionStringFromEnv": "DSN", "query": "q", "queryValue": "1"},
			env: map[string]string{"DSN": "root:hunter2-secret@unix/orders"}, check: func(t *testing.T, m *meta.MysqlMetadata) {
				if dsn, err := mysqlConfig(m); err != nil || dsn.Net != "unix" || dsn.Addr != "/tmp/mysql.sock" {
					t.Errorf("got %+v, %v", dsn, err)
				}
			}},
		{name: "offline without connection details", offline: true, meta: map[string]string{"connectionStringFromEnv": "DSN", "query": "q", "queryValue": "1"}, check: func(t *testing.T, m *meta.MysqlMetadata) {
			if dsn, err := mysqlConfig(m); dsn != nil || err != nil {
				t.Errorf("offline: no DSN should have been parsed, got %v, %v", dsn, err)
			}
		}},
		{name: "offline still checks queryValue", offline: true, meta: map[string]string{"query": "q", "queryValue": "-1"}, wantErr: []string{"metadata.queryValue"}},
	}
	runParseCases(t, "mysql", tests, "hunter2-secret")
}

func TestMySQLMetricName(t *testing.T) {
	tests := []struct {
		meta map[string]string
		env  map[string]string
		want string
	}{
		{meta: map[string]string{"host": "h", "port": "1", "dbName": "jobs"}, want: "s1-mysql-jobs"},
		{meta: map[string]string{"host": "h", "port": "1", "dbName": "jobs", "metricName": "ignored"}, want: "s1-mysql-jobs"},
		{meta: map[string]string{"connectionStringFromEnv": "DSN", "dbName": "not-this"}, env: map[string]string{"DSN": "u:p@tcp(h:1)/orders.v2"}, want: "s1-mysql-orders-v2"},
		{meta: map[string]string{"connectionStringFromEnv": "DSN"}, env: map[string]string{"DSN": "u:p@tcp(h:1)/orders?timeout=5s"}, want: "s1-mysql-orders"},
	}
	for _, tt := range tests {
		tt.meta["query"], tt.meta["queryValue"] = "SELECT 1", "4"
		s, err := New(t.Context(), &Config{TriggerType: "mysql", TriggerIndex: 1, TriggerMetadata: tt.meta, ResolvedEnv: tt.env, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		specs := s.GetMetricSpecForScaling(t.Context())
		_ = s.Close(t.Context())
		if len(specs) != 1 || specs[0].External.Metric.Name != tt.want || specs[0].External.Target.AverageValue.Value() != 4 {
			t.Errorf("%v: metric spec = %+v, want %s", tt.meta, specs, tt.want)
		}
	}
}

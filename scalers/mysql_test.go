package scalers

import (
	"testing"
	"time"
)

func TestParseMySQLMetadata(t *testing.T) {
	parts := func(extra map[string]string) map[string]string {
		m := map[string]string{"host": "db.example", "port": "3306", "username": "keda", "dbName": "jobs", "query": "SELECT COUNT(*) FROM jobs", "queryValue": "5"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []parseCase[mysqlMetadata]{
		{name: "parts and defaults", meta: parts(nil), check: func(t *testing.T, m *mysqlMetadata) {
			if m.dsn.Addr != "db.example:3306" || m.dsn.User != "keda" || m.dsn.DBName != "jobs" || m.dsn.Passwd != "" || m.dsn.Net != "tcp" {
				t.Errorf("dsn = %+v", m.dsn)
			}
			if m.QueryValue != 5 || m.ActivationQueryValue != 0 {
				t.Errorf("queryValue %g activation %g", m.QueryValue, m.ActivationQueryValue)
			}
		}},
		{name: "float thresholds", meta: parts(map[string]string{"queryValue": "1.5", "activationQueryValue": "3.25"}), check: func(t *testing.T, m *mysqlMetadata) {
			if m.QueryValue != 1.5 || m.ActivationQueryValue != 3.25 {
				t.Errorf("queryValue %g activation %g", m.QueryValue, m.ActivationQueryValue)
			}
		}},
		{name: "password and username from env", meta: parts(map[string]string{"passwordFromEnv": "DB_PW", "username": "", "usernameFromEnv": "DB_USER"}),
			env: map[string]string{"DB_PW": "s3cret", "DB_USER": "envuser"}, check: func(t *testing.T, m *mysqlMetadata) {
				if m.dsn.Passwd != "s3cret" || m.dsn.User != "envuser" {
					t.Errorf("user %q password %q", m.dsn.User, m.dsn.Passwd)
				}
			}},
		{name: "metadata username wins over env", meta: parts(map[string]string{"usernameFromEnv": "DB_USER"}), env: map[string]string{"DB_USER": "envuser"}, check: func(t *testing.T, m *mysqlMetadata) {
			if m.dsn.User != "keda" {
				t.Errorf("user %q, want metadata's (KEDA's order)", m.dsn.User)
			}
		}},
		{name: "password and host from a TriggerAuthentication", meta: parts(map[string]string{"host": ""}), auth: map[string]string{"password": "from-auth", "host": "auth-host"}, check: func(t *testing.T, m *mysqlMetadata) {
			if m.dsn.Passwd != "from-auth" || m.dsn.Addr != "auth-host:3306" {
				t.Errorf("addr %s password %q", m.dsn.Addr, m.dsn.Passwd)
			}
		}},
		{name: "metricName accepted and ignored", meta: parts(map[string]string{"metricName": "custom"}), check: func(t *testing.T, m *mysqlMetadata) {}},
		{name: "connection string from env wins over parts", meta: parts(map[string]string{"connectionStringFromEnv": "DSN"}),
			env: map[string]string{"DSN": "app:pw@tcp(10.0.0.1:3307)/orders?tls=skip-verify"}, check: func(t *testing.T, m *mysqlMetadata) {
				if m.dsn.Addr != "10.0.0.1:3307" || m.dsn.User != "app" || m.dsn.Passwd != "pw" || m.dsn.DBName != "orders" {
					t.Errorf("dsn = %+v", m.dsn)
				}
			}},
		{name: "connection string from a TriggerAuthentication", meta: map[string]string{"query": "q", "queryValue": "1"},
			auth: map[string]string{"connectionString": "app:pw@tcp(h:1)/d"}, check: func(t *testing.T, m *mysqlMetadata) {
				if m.dsn.DBName != "d" {
					t.Errorf("dsn = %+v", m.dsn)
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
		{name: "offline without connection details", offline: true, meta: map[string]string{"connectionStringFromEnv": "DSN", "query": "q", "queryValue": "1"}, check: func(t *testing.T, m *mysqlMetadata) {
			if m.dsn != nil {
				t.Errorf("offline: no DSN should have been parsed")
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

// Package scalers_test runs scalers against real event sources started for the test, keeping
// the scalers package's own tests free of servers.
package scalers_test

import (
	"context"
	"database/sql"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	"github.com/kedactl/kedactl/test/cluster"
	mariadbserver "github.com/kedactl/kedactl/test/servers/mariadb"
	postgresserver "github.com/kedactl/kedactl/test/servers/postgres"
)

// sqlBackend is one SQL trigger type with a real server behind it.
type sqlBackend struct {
	typ        string
	metricName string
	// target and activation are the names of the trigger's two thresholds.
	target, activation string
	// authParam is the TriggerAuthentication parameter holding a full connection string.
	authParam string
	// admin is a handle on the server for setting up data.
	admin *sql.DB
	// parts are the connection metadata without the password; connString is a full connection
	// string with password.
	parts      map[string]string
	password   string
	connString string
	// forPort returns parts pointing at another port of 127.0.0.1.
	forPort func(port int) map[string]string
}

const sqlTestPassword = "Pa55-never-in-errors-7f3a"

func startPostgres(t *testing.T) *sqlBackend {
	srv := postgresserver.Start(t, postgresserver.Options{Password: sqlTestPassword})
	admin, err := srv.DB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	parts := func(port int) map[string]string {
		return map[string]string{"host": srv.Host, "port": strconv.Itoa(port), "userName": srv.User, "dbName": srv.Database, "sslmode": "disable"}
	}
	return &sqlBackend{typ: "postgresql", metricName: "s0-postgresql", target: "targetQueryValue", activation: "activationTargetQueryValue",
		authParam: "connection", admin: admin, parts: parts(srv.Port), password: srv.Password, connString: srv.ConnString(), forPort: parts}
}

func startMariaDB(t *testing.T) *sqlBackend {
	srv := mariadbserver.Start(t, mariadbserver.Options{Password: sqlTestPassword})
	admin, err := srv.DB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	parts := func(port int) map[string]string {
		return map[string]string{"host": srv.Host, "port": strconv.Itoa(port), "username": srv.User, "dbName": srv.Database}
	}
	return &sqlBackend{typ: "mysql", metricName: "s0-mysql-" + srv.Database, target: "queryValue", activation: "activationQueryValue",
		authParam: "connectionString", admin: admin, parts: parts(srv.Port), password: srv.Password, connString: srv.DSN(), forPort: parts}
}

// TestSQLScalersAgainstRealServers runs the postgresql scaler against PostgreSQL and the mysql
// scaler against MariaDB: values and activation, the ways a password arrives, and every failure
// a poll can meet, each bounded by the trigger's timeout and free of the password.
func TestSQLScalersAgainstRealServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts postgres and mariadbd")
	}
	for _, backend := range []struct {
		name  string
		start func(*testing.T) *sqlBackend
	}{{"postgresql", startPostgres}, {"mysql", startMariaDB}} {
		t.Run(backend.name, func(t *testing.T) {
			t.Parallel()
			testSQLBackend(t, backend.start(t))
		})
	}
}

// pollTimeout is the triggers' timeout in these tests.
const pollTimeout = time.Second

func testSQLBackend(t *testing.T, b *sqlBackend) {
	ctx := context.Background()
	if _, err := b.admin.ExecContext(ctx, "CREATE TABLE jobs (id INT)"); err != nil {
		t.Fatal(err)
	}
	build := func(t *testing.T, meta, auth, env map[string]string) scalers.Scaler {
		t.Helper()
		s, err := scalers.New(ctx, &scalers.Config{TriggerType: b.typ, TriggerMetadata: meta, AuthParams: auth, ResolvedEnv: env, Timeout: pollTimeout})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(ctx) })
		return s
	}
	trigger := func(parts map[string]string, query string, extra ...string) map[string]string {
		m := map[string]string{"query": query, b.target: "2"}
		for k, v := range parts {
			m[k] = v
		}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	read := func(s scalers.Scaler) (int64, bool, error) {
		vals, active, err := s.GetMetricsAndActivity(ctx, b.metricName)
		if err != nil {
			return 0, false, err
		}
		return vals[0].Value.MilliValue(), active, nil
	}
	// failing polls the scaler once and checks the error: it happens within the timeout, names
	// the trigger type, says what went wrong and never shows the password.
	failing := func(t *testing.T, s scalers.Scaler, wants ...string) {
		t.Helper()
		start := time.Now()
		_, _, err := read(s)
		took := time.Since(start)
		if err == nil {
			t.Fatal("want an error")
		}
		t.Logf("error after %s: %v", took.Round(time.Millisecond), err)
		if took > pollTimeout+time.Second {
			t.Errorf("failed after %s, the trigger's timeout is %s", took, pollTimeout)
		}
		for _, w := range append([]string{b.typ}, wants...) {
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(w)) {
				t.Errorf("error %q does not mention %q", err, w)
			}
		}
		if strings.Contains(err.Error(), sqlTestPassword) || strings.Contains(err.Error(), "wrong-"+sqlTestPassword) {
			t.Errorf("error %q shows the password", err)
		}
	}
	countJobs := "SELECT COUNT(*) FROM jobs"

	t.Run("value and activation", func(t *testing.T) {
		s := build(t, trigger(b.parts, countJobs, b.activation, "2", "passwordFromEnv", "DB_PASSWORD"), nil, map[string]string{"DB_PASSWORD": b.password})
		specs := s.GetMetricSpecForScaling(ctx)
		if len(specs) != 1 || specs[0].External.Metric.Name != b.metricName || specs[0].External.Target.AverageValue.Value() != 2 {
			t.Fatalf("metric spec = %+v", specs)
		}
		for _, step := range []struct {
			insert int
			value  int64
			active bool
		}{{0, 0, false}, {2, 2, false}, {1, 3, true}, {7, 10, true}} {
			for range step.insert {
				if _, err := b.admin.ExecContext(ctx, "INSERT INTO jobs (id) VALUES (1)"); err != nil {
					t.Fatal(err)
				}
			}
			v, active, err := read(s)
			if err != nil {
				t.Fatal(err)
			}
			if v != step.value*1000 || active != step.active {
				t.Errorf("%d rows: value=%dm active=%v, want %d %v", step.value, v, active, step.value, step.active)
			}
		}
		if _, err := b.admin.ExecContext(ctx, "DELETE FROM jobs"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("connection string from a TriggerAuthentication, fractional value", func(t *testing.T) {
		s := build(t, map[string]string{"query": "SELECT 2.5", b.target: "1", b.activation: "2.4"}, map[string]string{b.authParam: b.connString}, nil)
		v, active, err := read(s)
		if err != nil {
			t.Fatal(err)
		}
		if v != 2500 || !active {
			t.Errorf("value=%dm active=%v, want 2500m true", v, active)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		s := build(t, trigger(b.parts, countJobs), map[string]string{"password": "wrong-" + sqlTestPassword}, nil)
		failing(t, s, map[string]string{"postgresql": "password authentication failed", "mysql": "access denied"}[b.typ])
	})

	t.Run("wrong password in a connection string", func(t *testing.T) {
		bad := strings.Replace(b.connString, sqlTestPassword, "wrong-"+sqlTestPassword, 1)
		s := build(t, map[string]string{"query": countJobs, b.target: "1"}, map[string]string{b.authParam: bad}, nil)
		failing(t, s)
	})

	t.Run("nothing listens on the port", func(t *testing.T) {
		ports, err := cluster.FreePorts(1)
		if err != nil {
			t.Fatal(err)
		}
		s := build(t, trigger(b.forPort(ports[0]), countJobs), map[string]string{"password": b.password}, nil)
		failing(t, s, "refused")
	})

	t.Run("server accepts and never answers", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		accepted := make(chan net.Conn, 16)
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					close(accepted)
					return
				}
				accepted <- c
			}
		}()
		defer func() {
			l.Close()
			for c := range accepted {
				c.Close()
			}
		}()
		s := build(t, trigger(b.forPort(l.Addr().(*net.TCPAddr).Port), countJobs), map[string]string{"password": b.password}, nil)
		failing(t, s, "no answer within the trigger's timeout of 1s")
	})

	for _, q := range []struct{ name, query, want string }{
		{"no row", "SELECT id FROM jobs WHERE id < 0", "returned no row"},
		{"text", "SELECT 'abc'", `returned "abc", which is not a number`},
		{"NULL", "SELECT MAX(id) FROM jobs", "NULL"},
		{"two columns", "SELECT 1, 2", "2 columns"},
		{"missing table", "SELECT COUNT(*) FROM nope", "could not run the query"},
	} {
		t.Run("query "+q.name, func(t *testing.T) {
			s := build(t, trigger(b.parts, q.query), map[string]string{"password": b.password}, nil)
			failing(t, s, q.want)
		})
	}

	t.Run("closed scaler", func(t *testing.T) {
		s := build(t, trigger(b.parts, countJobs), map[string]string{"password": b.password}, nil)
		if _, _, err := read(s); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := read(s); err == nil || !strings.Contains(err.Error(), "closed") {
			t.Errorf("poll after Close: %v, want a closed-database error", err)
		}
	})
}

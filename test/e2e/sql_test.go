package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	mariadbserver "github.com/kedactl/kedactl/test/servers/mariadb"
	postgresserver "github.com/kedactl/kedactl/test/servers/postgres"
)

// sqlSource is a database server started for one test, described as a SQL trigger reads it.
type sqlSource struct {
	admin    *sql.DB
	password string
	// metadata is the trigger's metadata without the password; metric is its metric name.
	metadata string
	metric   string
}

func startPostgresSource(t *testing.T) *sqlSource {
	srv := postgresserver.Start(t, postgresserver.Options{Password: "e2e-postgres-secret"})
	admin, err := srv.DB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	return &sqlSource{admin: admin, password: srv.Password, metric: "s0-postgresql", metadata: fmt.Sprintf(`
        host: %s
        port: "%d"
        userName: %s
        dbName: %s
        sslmode: disable
        query: SELECT COUNT(*) FROM jobs
        targetQueryValue: "2"`, srv.Host, srv.Port, srv.User, srv.Database)}
}

func startMariaDBSource(t *testing.T) *sqlSource {
	srv := mariadbserver.Start(t, mariadbserver.Options{Password: "e2e-mariadb-secret"})
	admin, err := srv.DB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	return &sqlSource{admin: admin, password: srv.Password, metric: "s0-mysql-" + srv.Database, metadata: fmt.Sprintf(`
        host: %s
        port: "%d"
        username: %s
        dbName: %s
        query: SELECT COUNT(*) FROM jobs
        queryValue: "2"`, srv.Host, srv.Port, srv.User, srv.Database)}
}

// TestSQLScalersScaleZeroToMaxToZero: a postgresql trigger on a real PostgreSQL and a mysql
// trigger on a real MariaDB, each with its password from a Secret through a
// TriggerAuthentication, keep a worker at 0 while the table is empty, activate it on the first
// row, let the real HPA scale it to max on a backlog and return it to 0 after the cooldown once
// the rows are gone.
func TestSQLScalersScaleZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	for _, c := range []struct {
		typ   string
		start func(*testing.T) *sqlSource
	}{{"postgresql", startPostgresSource}, {"mysql", startMariaDBSource}} {
		t.Run(c.typ, func(t *testing.T) {
			t.Parallel()
			src := c.start(t)
			ctx := context.Background()
			if _, err := src.admin.ExecContext(ctx, "CREATE TABLE jobs (id INT)"); err != nil {
				t.Fatal(err)
			}
			ns := s.newNamespace(t, c.typ)
			s.apply(t, ns, deployment("worker", 0, nil))
			s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: db-secret
stringData:
  password: %q
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: db-auth
spec:
  secretTargetRef:
    - parameter: password
      name: db-secret
      key: password
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  cooldownPeriod: 5
  maxReplicaCount: 4
  triggers:
    - type: %s
      authenticationRef:
        name: db-auth
      metadata:%s
`, src.password, c.typ, src.metadata))

			so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
			if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != src.metric {
				t.Fatalf("status.externalMetricNames = %v, want [%s]", got, src.metric)
			}
			hpa, err := s.hpa(ctx, ns, "keda-hpa-worker")
			if err != nil {
				t.Fatalf("HPA keda-hpa-worker: %v", err)
			}
			checkHPA(t, hpa, src.metric)

			// An empty table keeps the worker at zero.
			s.holdReplicas(t, ns, "worker", 0, 3*time.Second)

			insert := func(n int) {
				t.Helper()
				rows := strings.TrimSuffix(strings.Repeat("(1),", n), ",")
				if _, err := src.admin.ExecContext(ctx, "INSERT INTO jobs (id) VALUES "+rows); err != nil {
					t.Fatal(err)
				}
			}
			// One row activates it.
			insert(1)
			s.waitReplicas(t, ns, "worker", 1, 20*time.Second)
			s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
			if v := s.externalMetric(t, ns, src.metric, "worker"); v != 1 {
				t.Errorf("external metric %s = %d, want 1", src.metric, v)
			}

			// A backlog makes the real HPA scale it to max (20 rows / 2 per replica = 10 > max 4).
			insert(19)
			s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
			if v := s.externalMetric(t, ns, src.metric, "worker"); v != 20 {
				t.Errorf("external metric %s = %d, want 20", src.metric, v)
			}

			// Deleting the rows returns it to zero after the cooldown.
			if _, err := src.admin.ExecContext(ctx, "DELETE FROM jobs"); err != nil {
				t.Fatal(err)
			}
			drained := time.Now()
			s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
			checkCooldown(t, drained, 5*time.Second, time.Second)
			s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")
		})
	}
}

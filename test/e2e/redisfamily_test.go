package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	redisserver "github.com/kedactl/kedactl/test/servers/redis"
)

// redisFamilyCase is one trigger type of the Redis family on real servers.
type redisFamilyCase struct {
	typ string
	// metadata is the trigger's metadata (YAML lines) without passwords, metric its metric name.
	metadata string
	metric   string
	// password and sentinelPassword go into a Secret read through a TriggerAuthentication.
	password, sentinelPassword string
	// fill adds n items the trigger counts; drain makes the count 0.
	fill  func(ctx context.Context, n int) error
	drain func(ctx context.Context) error
}

// listCase is a list trigger on the server behind c.
func listCase(typ, conn string, c goredis.UniversalClient, password, sentinelPassword string) redisFamilyCase {
	list := "jobs-" + rand.String(5)
	return redisFamilyCase{typ: typ, metric: "s0-redis-" + list, password: password, sentinelPassword: sentinelPassword,
		metadata: conn + "\n        listName: " + list + "\n        listLength: \"2\"",
		fill: func(ctx context.Context, n int) error {
			items := make([]any, n)
			for i := range items {
				items[i] = "job"
			}
			return c.RPush(ctx, list, items...).Err()
		},
		drain: func(ctx context.Context) error { return c.Del(ctx, list).Err() },
	}
}

// streamCase is a stream trigger on the server behind c, reading what mode says: "lag" (XINFO
// GROUPS, drained by delivering every entry), "pending" (XPENDING, filled by delivering, drained
// by acknowledging) or "length" (XLEN, drained by deleting the stream).
func streamCase(typ, conn, mode string, c goredis.UniversalClient, password, sentinelPassword string) redisFamilyCase {
	stream, group := "events-"+rand.String(5), "workers"
	target := map[string]string{
		"lag":     "consumerGroup: workers\n        lagCount: \"2\"\n        activationLagCount: \"0\"",
		"pending": "consumerGroup: workers\n        pendingEntriesCount: \"2\"",
		"length":  "streamLength: \"2\"",
	}[mode]
	deliver := func(ctx context.Context, n int64) ([]goredis.XStream, error) {
		if err := c.XGroupCreateMkStream(ctx, stream, group, "0").Err(); err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
			return nil, err
		}
		return c.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: group, Consumer: "w", Streams: []string{stream, ">"}, Count: n}).Result()
	}
	return redisFamilyCase{typ: typ, metric: "s0-redis-streams-" + stream, password: password, sentinelPassword: sentinelPassword,
		metadata: conn + "\n        stream: " + stream + "\n        " + target,
		fill: func(ctx context.Context, n int) error {
			if mode == "lag" {
				// The group exists before the entries arrive, so that they count as its lag.
				if err := c.XGroupCreateMkStream(ctx, stream, group, "$").Err(); err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
					return err
				}
			}
			for i := range n {
				if err := c.XAdd(ctx, &goredis.XAddArgs{Stream: stream, Values: []string{"n", fmt.Sprint(i)}}).Err(); err != nil {
					return err
				}
			}
			if mode == "pending" {
				_, err := deliver(ctx, int64(n))
				return err
			}
			return nil
		},
		drain: func(ctx context.Context) error {
			switch mode {
			case "lag":
				_, err := deliver(ctx, 1000)
				return err
			case "pending":
				pending, err := c.XPendingExt(ctx, &goredis.XPendingExtArgs{Stream: stream, Group: group, Start: "-", End: "+", Count: 1000}).Result()
				if err != nil {
					return err
				}
				ids := make([]string, len(pending))
				for i, p := range pending {
					ids[i] = p.ID
				}
				return c.XAck(ctx, stream, group, ids...).Err()
			default:
				return c.Del(ctx, stream).Err()
			}
		},
	}
}

// TestRedisFamilyScalesZeroToMaxToZero: each of redis-streams (on the suite's redis-server),
// redis-cluster and redis-cluster-streams (on a three-master Redis Cluster), redis-sentinel and
// redis-sentinel-streams (on a master behind a sentinel), with passwords from a Secret through a
// TriggerAuthentication, keeps a worker at 0 while its source is empty, activates it on the
// first item, lets the real HPA scale it to max on a backlog and returns it to 0 after the
// cooldown once the source is drained.
func TestRedisFamilyScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	start := time.Now()
	cluster := redisserver.StartCluster(t, redisserver.ClusterOptions{Password: "e2e-cluster-secret"})
	sentinel := redisserver.StartSentinel(t, redisserver.SentinelOptions{Password: "e2e-sentinel-data-secret", SentinelPassword: "e2e-sentinel-secret", MasterName: "e2e-master"})
	t.Logf("cluster and sentinel ready in %s", time.Since(start).Round(100*time.Millisecond))
	standalone, clustered, failover := s.redis.Client(), cluster.Client(), sentinel.Client()
	t.Cleanup(func() { standalone.Close(); clustered.Close(); failover.Close() })

	clusterConn := "addresses: " + strings.Join(cluster.Addrs, ",")
	sentinelConn := fmt.Sprintf("addresses: %s\n        sentinelMaster: %s", sentinel.Addr, sentinel.MasterName)
	dataPW, sentinelPW := sentinel.Master.Password, sentinel.SentinelPassword
	for _, c := range []redisFamilyCase{
		streamCase("redis-streams", "address: "+s.redis.Addr, "lag", standalone, redisPassword, ""),
		listCase("redis-cluster", clusterConn, clustered, cluster.Password, ""),
		streamCase("redis-cluster-streams", clusterConn, "pending", clustered, cluster.Password, ""),
		listCase("redis-sentinel", sentinelConn, failover, dataPW, sentinelPW),
		streamCase("redis-sentinel-streams", sentinelConn, "length", failover, dataPW, sentinelPW),
	} {
		t.Run(c.typ, func(t *testing.T) {
			t.Parallel()
			testRedisFamilyCase(t, s, c)
		})
	}
}

func testRedisFamilyCase(t *testing.T, s *suite, c redisFamilyCase) {
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ns := s.newNamespace(t, c.typ)
	// The webhook refuses a ScaledObject whose target does not exist: the Deployment comes first.
	s.apply(t, ns, deployment("worker", 0, nil))
	refs := "    - parameter: password\n      name: redis-secret\n      key: password\n"
	if c.sentinelPassword != "" {
		refs += "    - parameter: sentinelPassword\n      name: redis-secret\n      key: sentinelPassword\n"
	}
	s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: redis-secret
stringData:
  password: %q
  sentinelPassword: %q
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: redis-auth
spec:
  secretTargetRef:
%s---
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
        name: redis-auth
      metadata:
        %s
`, c.password, c.sentinelPassword, refs, c.typ, c.metadata))

	so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != c.metric {
		t.Fatalf("status.externalMetricNames = %v, want [%s]", got, c.metric)
	}
	hpa, err := s.hpa(ctx, ns, "keda-hpa-worker")
	if err != nil {
		t.Fatalf("HPA keda-hpa-worker: %v", err)
	}
	checkHPA(t, hpa, c.metric)

	// An empty source keeps the worker at zero.
	s.holdReplicas(t, ns, "worker", 0, 3*time.Second)

	// One item activates it.
	must(c.fill(ctx, 1))
	s.waitReplicas(t, ns, "worker", 1, 20*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
	if v := s.externalMetric(t, ns, c.metric, "worker"); v != 1 {
		t.Errorf("external metric %s = %d, want 1", c.metric, v)
	}

	// A backlog makes the real HPA scale it to max (20 items / 2 per replica = 10 > max 4).
	must(c.fill(ctx, 19))
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	if v := s.externalMetric(t, ns, c.metric, "worker"); v != 20 {
		t.Errorf("external metric %s = %d, want 20", c.metric, v)
	}

	// Draining returns it to zero after the cooldown. The cooldown runs from the last poll that
	// saw items, which may come up to one polling interval (1s) before the drain ends.
	draining := time.Now()
	must(c.drain(ctx))
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
	checkCooldown(t, draining, 5*time.Second, time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")
}

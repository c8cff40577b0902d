package scalers_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/kedactl/kedactl/scalers"
	"github.com/kedactl/kedactl/test/cluster"
	natsserver "github.com/kedactl/kedactl/test/servers/nats"
)

// jetStreamQueue is a stream "jobs" with a durable pull consumer "workers" that acknowledges
// explicitly, on a real server, with helpers to publish, fetch and acknowledge.
type jetStreamQueue struct {
	js  natsgo.JetStreamContext
	sub *natsgo.Subscription
}

func newJetStreamQueue(t *testing.T, url string, replicas int) *jetStreamQueue {
	t.Helper()
	nc, err := natsgo.Connect(url, natsgo.Timeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := nc.JetStream(natsgo.MaxWait(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AddStream(&natsgo.StreamConfig{Name: "jobs", Subjects: []string{"jobs.>"}, Replicas: replicas}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.AddConsumer("jobs", &natsgo.ConsumerConfig{Durable: "workers", AckPolicy: natsgo.AckExplicitPolicy, AckWait: time.Hour, Replicas: replicas}); err != nil {
		t.Fatal(err)
	}
	sub, err := js.PullSubscribe("jobs.>", "workers", natsgo.Bind("jobs", "workers"))
	if err != nil {
		t.Fatal(err)
	}
	return &jetStreamQueue{js: js, sub: sub}
}

func (q *jetStreamQueue) publish(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		if _, err := q.js.Publish("jobs.new", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
}

// fetch takes n messages without acknowledging them.
func (q *jetStreamQueue) fetch(t *testing.T, n int) []*natsgo.Msg {
	t.Helper()
	var got []*natsgo.Msg
	for len(got) < n {
		msgs, err := q.sub.Fetch(n-len(got), natsgo.MaxWait(5*time.Second))
		if err != nil {
			t.Fatalf("fetching %d messages (got %d): %v", n, len(got), err)
		}
		got = append(got, msgs...)
	}
	return got
}

func ack(t *testing.T, msgs []*natsgo.Msg) {
	t.Helper()
	for _, m := range msgs {
		if err := m.AckSync(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestNATSJetStreamScalerAgainstRealServer runs the nats-jetstream scaler against Debian's
// nats-server: the lag is the consumer's undelivered plus unacknowledged messages, activation
// is above activationLagThreshold, and an unknown account, stream or consumer, a wrong port and
// an unreachable server are errors naming the trigger and what to check, bounded by the
// trigger's timeout.
func TestNATSJetStreamScalerAgainstRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nats-server")
	}
	ctx := context.Background()
	srv := natsserver.Start(t)
	q := newJetStreamQueue(t, srv.URL, 1)

	build := func(t *testing.T, extra ...string) scalers.Scaler {
		t.Helper()
		meta := map[string]string{"natsServerMonitoringEndpoint": srv.MonitoringAddr, "account": "$G", "stream": "jobs", "consumer": "workers", "lagThreshold": "2"}
		for i := 0; i+1 < len(extra); i += 2 {
			meta[extra[i]] = extra[i+1]
		}
		s, err := scalers.New(ctx, &scalers.Config{TriggerType: "nats-jetstream", TriggerMetadata: meta, Timeout: pollTimeout})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(ctx) })
		return s
	}
	read := func(s scalers.Scaler) (int64, bool, error) {
		vals, active, err := s.GetMetricsAndActivity(ctx, "s0-nats-jetstream-jobs")
		if err != nil {
			return 0, false, err
		}
		return vals[0].Value.Value(), active, nil
	}
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
		for _, w := range append([]string{"trigger 0 (nats-jetstream)"}, wants...) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not mention %q", err, w)
			}
		}
	}

	t.Run("lag and activation", func(t *testing.T) {
		s := build(t, "activationLagThreshold", "3")
		specs := s.GetMetricSpecForScaling(ctx)
		if len(specs) != 1 || specs[0].External.Metric.Name != "s0-nats-jetstream-jobs" || specs[0].External.Target.AverageValue.Value() != 2 {
			t.Fatalf("metric spec = %+v", specs)
		}
		check := func(step string, wantLag int64, wantActive bool) {
			t.Helper()
			lag, active, err := read(s)
			if err != nil {
				t.Fatal(err)
			}
			if lag != wantLag || active != wantActive {
				t.Errorf("%s: lag=%d active=%v, want %d %v", step, lag, active, wantLag, wantActive)
			}
		}
		check("empty stream", 0, false)
		q.publish(t, 3)
		check("3 published", 3, false)
		q.publish(t, 2)
		check("5 published", 5, true)
		// Delivered but not acknowledged still counts: the work is not done.
		inFlight := q.fetch(t, 4)
		check("4 delivered, none acknowledged", 5, true)
		ack(t, inFlight[:2])
		check("2 acknowledged", 3, false)
		ack(t, inFlight[2:])
		check("4 acknowledged", 1, false)
		ack(t, q.fetch(t, 1))
		check("all acknowledged", 0, false)
	})

	t.Run("accountID", func(t *testing.T) {
		if _, _, err := read(build(t, "account", "", "accountID", "$G")); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("unknown account", func(t *testing.T) {
		failing(t, build(t, "account", "billing"), `no JetStream account "billing"`, "check metadata.account")
	})

	t.Run("unknown stream", func(t *testing.T) {
		failing(t, build(t, "stream", "job"), `account "$G" has no stream "job" (it has "jobs")`, "check metadata.stream")
	})

	t.Run("unknown consumer", func(t *testing.T) {
		failing(t, build(t, "consumer", "worker"), `stream "jobs" has no consumer "worker" (it has "workers")`, "check metadata.consumer")
	})

	t.Run("client port instead of monitoring port", func(t *testing.T) {
		clientAddr := strings.TrimPrefix(srv.URL, "nats://")
		failing(t, build(t, "natsServerMonitoringEndpoint", clientAddr), "metadata.natsServerMonitoringEndpoint")
	})

	t.Run("nothing listens on the port", func(t *testing.T) {
		ports, err := cluster.FreePorts(1)
		if err != nil {
			t.Fatal(err)
		}
		failing(t, build(t, "natsServerMonitoringEndpoint", "127.0.0.1:"+strconv.Itoa(ports[0])), "could not reach the server", "metadata.natsServerMonitoringEndpoint", "refused")
	})

	t.Run("server accepts and never answers", func(t *testing.T) {
		failing(t, build(t, "natsServerMonitoringEndpoint", silentServer(t)), "no answer within the trigger's timeout of 1s")
	})
}

// TestNATSJetStreamScalerReadsTheConsumerLeader: in a three-node cluster, a trigger pointed at a
// node that does not lead the consumer reads the lag from the leader, and follows the
// leadership when it moves to another node.
func TestNATSJetStreamScalerReadsTheConsumerLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a nats-server cluster")
	}
	ctx := context.Background()
	c := natsserver.StartCluster(t, 3)
	q := newJetStreamQueue(t, c.Nodes[0].URL, 3)
	// leader is the consumer's leader, or "" while the cluster cannot say (during an election).
	leader := func() string {
		info, err := q.js.ConsumerInfo("jobs", "workers", natsgo.MaxWait(2*time.Second))
		if err != nil || info.Cluster == nil {
			return ""
		}
		return info.Cluster.Leader
	}
	var first string
	waitUntil(t, 20*time.Second, "a consumer leader", func() bool { first = leader(); return first != "" })
	var follower *natsserver.Server
	for _, n := range c.Nodes {
		if n.Name != first {
			follower = n
			break
		}
	}
	s, err := scalers.New(ctx, &scalers.Config{TriggerType: "nats-jetstream", Timeout: 5 * time.Second, TriggerMetadata: map[string]string{
		"natsServerMonitoringEndpoint": follower.MonitoringAddr, "account": "$G", "stream": "jobs", "consumer": "workers",
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(ctx) })
	read := func(step string, want int64) {
		t.Helper()
		vals, active, err := s.GetMetricsAndActivity(ctx, "s0-nats-jetstream-jobs")
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if got := vals[0].Value.Value(); got != want || active != (want > 0) {
			t.Errorf("%s: lag=%d active=%v, want %d", step, got, active, want)
		}
	}

	q.publish(t, 6)
	inFlight := q.fetch(t, 2)
	read("6 published, 2 delivered", 6)
	ack(t, inFlight)
	read("2 acknowledged", 4)

	// Move the consumer's leadership and read again through the same follower.
	before := first
	stepDown(t, c.Nodes[0].URL)
	waitUntil(t, 20*time.Second, "a new consumer leader", func() bool { l := leader(); return l != "" && l != before })
	q.publish(t, 1)
	read("leader moved, 1 more published", 5)
}

// stepDown asks the consumer jobs/workers' leader to step down, through the JetStream API.
func stepDown(t *testing.T, url string) {
	t.Helper()
	nc, err := natsgo.Connect(url, natsgo.Timeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	msg, err := nc.Request("$JS.API.CONSUMER.LEADER.STEPDOWN.jobs.workers", nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Success bool `json:"success"`
		Error   *struct {
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil || !resp.Success {
		t.Fatalf("step down: %s (%v)", msg.Data, err)
	}
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

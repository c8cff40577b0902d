package scalers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/metrics/pkg/apis/external_metrics"

	"github.com/kedactl/kedactl/scalers"
	nsqserver "github.com/kedactl/kedactl/test/servers/nsq"
)

// TestNSQScalerAgainstRealServer follows a topic through its life on a real nsqlookupd and two
// nsqd nodes (nsq v1.3.0): a topic no node has reads 0 (nsqlookupd answers 404); messages
// published before any consumer wait in the topic and count; once the channel exists they count
// there, summed over the nodes; a paused channel counts nothing; consumed messages leave; two
// triggers share one transport; a node announcing an address the scaler cannot reach fails the poll, naming it.
func TestNSQScalerAgainstRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nsqlookupd and nsqd")
	}
	srv := nsqserver.Start(t, 2)
	ctx := context.Background()
	pool := scalers.NewClientPool()
	defer pool.Close()
	build := func(extra ...string) scalers.Scaler {
		meta := map[string]string{"nsqLookupdHTTPAddresses": srv.LookupdHTTPAddr, "topic": "orders", "channel": "billing", "depthThreshold": "5", "activationDepthThreshold": "2"}
		for i := 0; i+1 < len(extra); i += 2 {
			meta[extra[i]] = extra[i+1]
		}
		s, err := scalers.New(ctx, &scalers.Config{TriggerType: "nsq", TriggerMetadata: meta, Clients: pool, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(ctx) })
		return s
	}
	s, other := build(), build("channel", "audit")
	if pool.Len() != 1 {
		t.Errorf("two triggers of one nsqlookupd hold %d transports, want 1", pool.Len())
	}
	if specs := s.GetMetricSpecForScaling(ctx); specs[0].External.Metric.Name != "s0-nsq-orders-billing" {
		t.Errorf("metric %s, want s0-nsq-orders-billing", specs[0].External.Metric.Name)
	}
	// Messages move from a topic to its channels asynchronously: wait for the expected depth.
	eventually := func(step string, s scalers.Scaler, want int64, wantActive bool) {
		t.Helper()
		var got int64
		var active bool
		var err error
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			var m []external_metrics.ExternalMetricValue
			m, active, err = s.GetMetricsAndActivity(ctx, "s0-nsq-orders-billing")
			if err == nil {
				got = m[0].Value.Value()
				if got == want && active == wantActive {
					return
				}
			}
		}
		t.Fatalf("%s: depth %d (active %v, error %v), want %d (active %v)", step, got, active, err, want, wantActive)
	}
	n0, n1 := srv.Nodes[0], srv.Nodes[1]

	eventually("a topic no node has", s, 0, false)

	if err := n0.Publish(ctx, "orders", 3); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitRegistered(ctx, "orders", 1); err != nil {
		t.Fatal(err)
	}
	eventually("three messages in the topic, no channel yet", s, 3, true)

	if err := n0.CreateChannel(ctx, "orders", "billing"); err != nil {
		t.Fatal(err)
	}
	eventually("the three moved to the channel", s, 3, true)
	eventually("another channel: the topic's depth, now 0", other, 0, false)

	if err := n1.CreateChannel(ctx, "orders", "billing"); err != nil {
		t.Fatal(err)
	}
	if err := n1.Publish(ctx, "orders", 4); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitRegistered(ctx, "orders", 2); err != nil {
		t.Fatal(err)
	}
	eventually("3 + 4 over two nodes", s, 7, true)

	if err := n1.PauseChannel(ctx, "orders", "billing", true); err != nil {
		t.Fatal(err)
	}
	eventually("paused on the second node", s, 3, true)
	if err := n1.PauseChannel(ctx, "orders", "billing", false); err != nil {
		t.Fatal(err)
	}
	eventually("resumed", s, 7, true)

	for _, n := range srv.Nodes {
		if err := n.EmptyChannel(ctx, "orders", "billing"); err != nil {
			t.Fatal(err)
		}
	}
	eventually("consumed", s, 0, false)

	// A node announcing an address the scaler cannot reach.
	lost, err := srv.AddNode(ctx, "127.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	if err := lost.Publish(ctx, "orders", 1); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitRegistered(ctx, "orders", 3); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.GetMetricsAndActivity(ctx, "s0-nsq-orders-billing")
	if err == nil || !strings.Contains(err.Error(), lost.Announced) || !strings.Contains(err.Error(), "announced to nsqlookupd") {
		t.Fatalf("an unreachable node: error %v, want one naming %s and where its address came from", err, lost.Announced)
	}
	t.Logf("an unreachable node: %v", err)
}

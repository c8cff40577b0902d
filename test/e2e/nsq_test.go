package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	nsqserver "github.com/kedactl/kedactl/test/servers/nsq"
)

// TestNSQScalesZeroToMaxToZero: an nsq trigger on a real nsqlookupd and two nsqd nodes (nsq
// v1.3.0), for a topic no node has yet (nsqlookupd answers 404: depth 0, the consumers stay at
// 0). NSQ has no credentials, and KEDA's nsq trigger no authentication parameter: plain
// metadata. One message waiting in the topic before any consumer subscribed activates the
// consumers (the first one must start); the channel's depth summed over both nodes takes the
// real HPA to the maximum of 4; once the channel is drained the consumers go back to 0 after the
// cooldown.
func TestNSQScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	srv := nsqserver.Start(t, 2)
	ctx := context.Background()

	n0, n1 := srv.Nodes[0], srv.Nodes[1]
	s.runScalerJourney(t, scalerJourney{
		namespace:   "nsq",
		target:      "consumer",
		triggerType: "nsq",
		metadata: fmt.Sprintf(`nsqLookupdHTTPAddresses: %s
			topic: orders
			channel: billing
			depthThreshold: "3"
			activationDepthThreshold: "0"`, srv.LookupdHTTPAddr),
		metric:       "s0-nsq-orders-billing",
		averageValue: 3,
		// The topic does not exist yet: the trigger is ready and inactive, not failing.
		idleHold: 3 * time.Second,
		set: func(t *testing.T, n int) {
			t.Helper()
			if n == 1 {
				// One message, before any consumer created the channel: it waits in the
				// topic and counts.
				if err := n0.Publish(ctx, "orders", 1); err != nil {
					t.Fatal(err)
				}
				return
			}
			// The consumer subscribes on both nodes; thirty messages in all (1 + 14 + 15).
			for _, n := range srv.Nodes {
				if err := n.CreateChannel(ctx, "orders", "billing"); err != nil {
					t.Fatal(err)
				}
			}
			if err := n0.Publish(ctx, "orders", 14); err != nil {
				t.Fatal(err)
			}
			if err := n1.Publish(ctx, "orders", 15); err != nil {
				t.Fatal(err)
			}
		},
		// 30 / 3 per consumer = 10, more than the maximum of 4; the depth is summed over both
		// nodes.
		one: 1, max: 30, maxSettles: true,
		// The consumers drain the channel.
		drain: func(t *testing.T) {
			for _, n := range srv.Nodes {
				if err := n.EmptyChannel(ctx, "orders", "billing"); err != nil {
					t.Fatal(err)
				}
			}
		},
	})
}

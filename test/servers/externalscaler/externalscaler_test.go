package externalscaler

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/kedactl/kedactl/scalers/externalscaler"
)

// TestServerAnswersAndPushes: a plain generated client reads the spec, value and activity the
// test set, and a StreamIsActive stream gets the current activity and then every push.
func TestServerAnswersAndPushes(t *testing.T) {
	s := Start(t, Options{MetricName: "queue", Target: 5})
	conn, err := grpc.NewClient(s.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := pb.NewExternalScalerClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ref := &pb.ScaledObjectRef{Name: "w", Namespace: "ns", ScalerMetadata: map[string]string{"k": "v"}}

	spec, err := c.GetMetricSpec(ctx, ref)
	if err != nil || len(spec.MetricSpecs) != 1 || spec.MetricSpecs[0].MetricName != "queue" || spec.MetricSpecs[0].TargetSizeFloat != 5 {
		t.Fatalf("GetMetricSpec = %v, %v", spec, err)
	}
	s.Set(7.5, true)
	m, err := c.GetMetrics(ctx, &pb.GetMetricsRequest{ScaledObjectRef: ref, MetricName: "queue"})
	if err != nil || m.MetricValues[0].MetricValueFloat != 7.5 {
		t.Fatalf("GetMetrics = %v, %v", m, err)
	}
	if a, err := c.IsActive(ctx, ref); err != nil || !a.Result {
		t.Fatalf("IsActive = %v, %v", a, err)
	}
	if s.LastRef().GetScalerMetadata()["k"] != "v" || s.Calls("IsActive") != 1 {
		t.Errorf("recorded %v, %d IsActive calls", s.LastRef(), s.Calls("IsActive"))
	}

	stream, err := c.StreamIsActive(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		if i == 1 {
			if n := s.Push(false); n != 1 {
				t.Fatalf("push reached %d streams, want 1", n)
			}
		}
		resp, err := stream.Recv()
		if err != nil || resp.Result != want {
			t.Fatalf("stream message %d = %v, %v; want %v", i, resp, err, want)
		}
	}
}

package scalers

import (
	"context"
	"math"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	pb "github.com/kedactl/kedactl/scalers/externalscaler"
)

// fuzzExternalServer answers the externalscaler calls with the current fuzz input's messages.
type fuzzExternalServer struct {
	pb.UnimplementedExternalScalerServer
	mu      sync.Mutex
	spec    *pb.GetMetricSpecResponse
	metrics *pb.GetMetricsResponse
	active  bool
}

func (s *fuzzExternalServer) set(spec *pb.GetMetricSpecResponse, metrics *pb.GetMetricsResponse, active bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spec, s.metrics, s.active = spec, metrics, active
}

func (s *fuzzExternalServer) GetMetricSpec(context.Context, *pb.ScaledObjectRef) (*pb.GetMetricSpecResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.spec, nil
}

func (s *fuzzExternalServer) GetMetrics(context.Context, *pb.GetMetricsRequest) (*pb.GetMetricsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.metrics, nil
}

func (s *fuzzExternalServer) IsActive(context.Context, *pb.ScaledObjectRef) (*pb.IsActiveResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &pb.IsActiveResponse{Result: s.active}, nil
}

func marshalSeed(f *testing.F, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzExternalResponse feeds arbitrary GetMetricSpec and GetMetrics answers (protobuf bytes) to
// the functions that read them and, through a gRPC server on 127.0.0.1, to an external
// trigger's build and poll: every target is above 0 and every value finite, or the trigger
// fails with an error.
func FuzzExternalResponse(f *testing.F) {
	specs := []*pb.GetMetricSpecResponse{
		{MetricSpecs: []*pb.MetricSpec{{MetricName: "queue", TargetSize: 10}}},
		{MetricSpecs: []*pb.MetricSpec{{MetricName: "queue", TargetSizeFloat: 2.5}, {MetricName: "other", TargetSize: 1}}},
		{MetricSpecs: []*pb.MetricSpec{{MetricName: "zero"}}},
		{MetricSpecs: []*pb.MetricSpec{{MetricName: "neg", TargetSize: -3}}},
		{MetricSpecs: []*pb.MetricSpec{{MetricName: "nan", TargetSizeFloat: math.NaN()}}},
		{MetricSpecs: []*pb.MetricSpec{{MetricName: "inf", TargetSizeFloat: math.Inf(1)}}},
		{MetricSpecs: []*pb.MetricSpec{{MetricName: "huge", TargetSizeFloat: 1e300}}},
		{MetricSpecs: []*pb.MetricSpec{{MetricName: "max", TargetSize: math.MaxInt64}}},
		{},
	}
	metrics := []*pb.GetMetricsResponse{
		{MetricValues: []*pb.MetricValue{{MetricName: "queue", MetricValue: 42}}},
		{MetricValues: []*pb.MetricValue{{MetricName: "other", MetricValue: 1}, {MetricName: "queue", MetricValueFloat: 0.5}}},
		{MetricValues: []*pb.MetricValue{{MetricName: "queue", MetricValueFloat: math.NaN()}}},
		{MetricValues: []*pb.MetricValue{{MetricName: "queue", MetricValueFloat: math.Inf(1)}}},
		{MetricValues: []*pb.MetricValue{{MetricName: "queue", MetricValueFloat: 1e300}}},
		{MetricValues: []*pb.MetricValue{{MetricName: "queue", MetricValue: -5}}},
		{},
	}
	for i, spec := range specs {
		f.Add(marshalSeed(f, spec), marshalSeed(f, metrics[i%len(metrics)]), i%2 == 0)
	}
	for i, m := range metrics {
		f.Add(marshalSeed(f, specs[0]), marshalSeed(f, m), i%2 == 1)
	}
	f.Add([]byte{0x0a, 0x80}, []byte{0xff}, false)

	srv := &fuzzExternalServer{}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	g := grpc.NewServer()
	pb.RegisterExternalScalerServer(g, srv)
	go func() { _ = g.Serve(lis) }()
	f.Cleanup(g.Stop)

	f.Fuzz(func(t *testing.T, specBytes, metricsBytes []byte, active bool) {
		var spec pb.GetMetricSpecResponse
		var values pb.GetMetricsResponse
		if proto.Unmarshal(specBytes, &spec) != nil || proto.Unmarshal(metricsBytes, &values) != nil {
			return // gRPC refuses what does not decode before the scaler sees it
		}
		cfg := &Config{TriggerType: "external", TriggerIndex: 5, Timeout: fuzzPollTimeout, TriggerMetadata: map[string]string{"scalerAddress": lis.Addr().String()}}
		wantSpecs, specErr := externalMetricSpecs(cfg, lis.Addr().String(), &spec)
		for _, ms := range wantSpecs {
			if q := ms.External.Target.AverageValue; q == nil || q.Sign() <= 0 {
				t.Fatalf("metric %s has the target %v", ms.External.Metric.Name, q)
			}
		}
		if specErr != nil {
			checkErr(t, specErr, "trigger 5 (external)")
		}
		want, valueErr := externalMetricValue(&values, "queue")
		if valueErr == nil && (math.IsNaN(want) || math.IsInf(want, 0)) {
			t.Fatalf("read %g", want)
		}

		srv.set(&spec, &values, active)
		s, err := New(context.Background(), cfg)
		if specErr != nil {
			if err == nil {
				s.Close(context.Background())
				t.Fatalf("externalMetricSpecs failed (%v), the build did not", specErr)
			}
			checkErr(t, err, specErr.Error())
			return
		}
		if err != nil {
			t.Fatalf("externalMetricSpecs gave %d specs, the build failed: %v", len(wantSpecs), err)
		}
		defer s.Close(context.Background())
		vals, gotActive, err := poll(t, s, "s5-queue")
		if valueErr != nil {
			if err == nil {
				t.Fatalf("externalMetricValue failed (%v), the poll did not", valueErr)
			}
			checkErr(t, err, "trigger 5 (external)", valueErr.Error())
			return
		}
		if err != nil {
			t.Fatalf("externalMetricValue read %g, the poll failed: %v", want, err)
		}
		if len(vals) != 1 || vals[0].MetricName != "s5-queue" || gotActive != active {
			t.Fatalf("poll gave %+v, %t", vals, gotActive)
		}
		checkQuantity(t, vals[0].Value.AsApproximateFloat64(), want)
	})
}

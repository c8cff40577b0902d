// Package externalscaler is an external scaler for tests: a gRPC server of KEDA's
// externalscaler protocol on a free loopback port, serving one metric whose value and activity
// the test sets, and pushing activity to the StreamIsActive streams the operator keeps open.
package externalscaler

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	pb "github.com/kedactl/kedactl/scalers/externalscaler"
)

// Options configures a server.
type Options struct {
	// MetricName is the metric the server names in GetMetricSpec (default "jobs").
	MetricName string
	// Target is the metric's target per replica (default 2).
	Target float64
	// TLS, when set, makes the server speak TLS only.
	TLS *tls.Config
	// Addr is the address to listen on; empty picks a free 127.0.0.1 port. Restarting a server on
	// the address of one that stopped tests reconnection.
	Addr string
}

// Server is a running external scaler.
type Server struct {
	pb.UnimplementedExternalScalerServer

	// Addr is host:port, what scalerAddress names.
	Addr string

	opts Options
	grpc *grpc.Server

	mu      sync.Mutex
	value   float64
	active  bool
	streams map[chan bool]struct{}
	// lastRef is the ScaledObjectRef of the latest call, to check what the trigger hands over.
	lastRef *pb.ScaledObjectRef
	calls   map[string]int
}

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := StartServer(opts)
	if err != nil {
		t.Fatalf("failed to start the external scaler: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartServer starts a server; the caller stops it.
func StartServer(opts Options) (*Server, error) {
	if opts.MetricName == "" {
		opts.MetricName = "jobs"
	}
	if opts.Target <= 0 {
		opts.Target = 2
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on %s: %w", opts.Addr, err)
	}
	var serverOpts []grpc.ServerOption
	if opts.TLS != nil {
		serverOpts = append(serverOpts, grpc.Creds(credentials.NewTLS(opts.TLS)))
	}
	s := &Server{Addr: l.Addr().String(), opts: opts, grpc: grpc.NewServer(serverOpts...),
		streams: map[chan bool]struct{}{}, calls: map[string]int{}}
	pb.RegisterExternalScalerServer(s.grpc, s)
	go func() { _ = s.grpc.Serve(l) }()
	return s, nil
}

// Stop ends every call and closes the listener.
func (s *Server) Stop() {
	s.grpc.Stop()
}

// Set sets the metric's value and whether IsActive answers true, without pushing.
func (s *Server) Set(value float64, active bool) {
	s.mu.Lock()
	s.value, s.active = value, active
	s.mu.Unlock()
}

// Push sets the activity and sends it on every open StreamIsActive stream; it returns how many
// streams it reached.
func (s *Server) Push(active bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active = active
	for ch := range s.streams {
		select {
		case ch <- active:
		default:
			// The stream has an undelivered push already; the newest activity is what counts.
			select {
			case <-ch:
			default:
			}
			ch <- active
		}
	}
	return len(s.streams)
}

// Streams is how many StreamIsActive streams are open.
func (s *Server) Streams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.streams)
}

// Calls is how many times method was called.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// LastRef is the ScaledObjectRef of the latest call, or nil.
func (s *Server) LastRef() *pb.ScaledObjectRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastRef
}

func (s *Server) record(method string, ref *pb.ScaledObjectRef) {
	s.mu.Lock()
	s.calls[method]++
	s.lastRef = ref
	s.mu.Unlock()
}

func (s *Server) IsActive(_ context.Context, ref *pb.ScaledObjectRef) (*pb.IsActiveResponse, error) {
	s.record("IsActive", ref)
	s.mu.Lock()
	defer s.mu.Unlock()
	return &pb.IsActiveResponse{Result: s.active}, nil
}

func (s *Server) GetMetricSpec(_ context.Context, ref *pb.ScaledObjectRef) (*pb.GetMetricSpecResponse, error) {
	s.record("GetMetricSpec", ref)
	return &pb.GetMetricSpecResponse{MetricSpecs: []*pb.MetricSpec{{MetricName: s.opts.MetricName, TargetSizeFloat: s.opts.Target}}}, nil
}

func (s *Server) GetMetrics(_ context.Context, req *pb.GetMetricsRequest) (*pb.GetMetricsResponse, error) {
	s.record("GetMetrics", req.GetScaledObjectRef())
	s.mu.Lock()
	defer s.mu.Unlock()
	return &pb.GetMetricsResponse{MetricValues: []*pb.MetricValue{{MetricName: req.GetMetricName(), MetricValueFloat: s.value}}}, nil
}

// StreamIsActive sends the current activity, then every Push, until the client goes away or
// the server stops.
func (s *Server) StreamIsActive(ref *pb.ScaledObjectRef, stream grpc.ServerStreamingServer[pb.IsActiveResponse]) error {
	s.record("StreamIsActive", ref)
	ch := make(chan bool, 1)
	s.mu.Lock()
	s.streams[ch] = struct{}{}
	ch <- s.active
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.streams, ch)
		s.mu.Unlock()
	}()
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case active := <-ch:
			if err := stream.Send(&pb.IsActiveResponse{Result: active}); err != nil {
				return err
			}
		}
	}
}

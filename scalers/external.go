package scalers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	pb "github.com/kedactl/kedactl/scalers/externalscaler"
	"github.com/kedactl/kedactl/scalers/meta"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// externalScaler asks a gRPC server that speaks KEDA's externalscaler protocol.
type externalScaler struct {
	cfg    *Config
	meta   meta.ExternalMetadata
	conn   *grpc.ClientConn
	client pb.ExternalScalerClient
	ref    *pb.ScaledObjectRef
	specs  []autoscalingv2.MetricSpec
}

func newExternalScaler(ctx context.Context, cfg *Config) (Scaler, error) {
	return buildExternalScaler(ctx, cfg)
}

// buildExternalScaler parses the metadata, opens the (lazy) connection and asks the server for
// its metric specs once: without them the trigger has nothing to scale on, so a server that
// cannot answer fails the build, which the controller retries.
func buildExternalScaler(ctx context.Context, cfg *Config) (*externalScaler, error) {
	s := &externalScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	creds := insecure.NewCredentials()
	if s.meta.TLSConfig != nil {
		creds = credentials.NewTLS(s.meta.TLSConfig)
	}
	conn, err := grpc.NewClient(s.meta.ScalerAddress, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, fmt.Errorf("%s: metadata.scalerAddress %q: %w", triggerWho(cfg), s.meta.ScalerAddress, err)
	}
	s.conn, s.client = conn, pb.NewExternalScalerClient(conn)
	s.ref = &pb.ScaledObjectRef{Name: cfg.ScalableObjectName, Namespace: cfg.ScalableObjectNamespace, ScalerMetadata: scalerMetadata(cfg)}

	callCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	resp, err := s.client.GetMetricSpec(callCtx, s.ref)
	if err != nil {
		conn.Close()
		return nil, s.callError("GetMetricSpec", err)
	}
	if s.specs, err = externalMetricSpecs(cfg, s.meta.ScalerAddress, resp); err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

// externalMetricSpecs turns the server's GetMetricSpec answer into the HPA's metric specs.
func externalMetricSpecs(cfg *Config, addr string, resp *pb.GetMetricSpecResponse) ([]autoscalingv2.MetricSpec, error) {
	var specs []autoscalingv2.MetricSpec
	for _, spec := range resp.GetMetricSpecs() {
		target := spec.GetTargetSizeFloat()
		if !(target > 0) { // NaN too
			target = float64(spec.GetTargetSize())
		}
		// The HPA refuses a target that is not above 0 (in thousandths), and a NaN or infinite
		// one is no target.
		if !(target >= 0.001) || math.IsInf(target, 0) {
			return nil, fmt.Errorf("%s: the external scaler at metadata.scalerAddress %s answered GetMetricSpec with metric %q whose targetSize is %d and targetSizeFloat %g: one of them must be a finite number of at least 0.001",
				triggerWho(cfg), addr, meta.Clip(spec.GetMetricName(), 80), spec.GetTargetSize(), spec.GetTargetSizeFloat())
		}
		// KEDA names it s<index>-<the server's metric name>, unchanged.
		ms, err := ExternalMetricSpec(cfg, fmt.Sprintf("s%d-%s", cfg.TriggerIndex, spec.GetMetricName()), target)
		if err != nil {
			return nil, err
		}
		specs = append(specs, ms)
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("%s: the external scaler at metadata.scalerAddress %s answered GetMetricSpec with no metric: it must name at least one metric to scale on",
			triggerWho(cfg), addr)
	}
	return specs, nil
}

// scalerMetadata is what the server gets as ScaledObjectRef.scalerMetadata: the trigger's
// metadata as written, with each ...FromEnv key's value replaced by the env var it names, as
// KEDA hands it over (a FromEnv key whose variable is missing or empty is left out).
func scalerMetadata(cfg *Config) map[string]string {
	out := make(map[string]string, len(cfg.TriggerMetadata))
	for k, v := range cfg.TriggerMetadata {
		if strings.HasSuffix(k, "FromEnv") {
			if resolved := cfg.ResolvedEnv[v]; resolved != "" {
				out[k] = resolved
			}
			continue
		}
		out[k] = v
	}
	return out
}

func (s *externalScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return s.specs
}

// GetMetricsAndActivity asks the server for the metric's value (GetMetrics, with the metric name
// it gave, without the s<index>- prefix) and for the trigger's activity (IsActive).
func (s *externalScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	name := withoutIndex(metricName)
	resp, err := s.client.GetMetrics(ctx, &pb.GetMetricsRequest{ScaledObjectRef: s.ref, MetricName: name})
	if err != nil {
		return nil, false, s.callError("GetMetrics", err)
	}
	value, err := externalMetricValue(resp, name)
	if err != nil {
		return nil, false, fmt.Errorf("%s: the external scaler at metadata.scalerAddress %s answered GetMetrics(%q) with %w", triggerWho(s.cfg), s.meta.ScalerAddress, name, err)
	}
	active, err := s.client.IsActive(ctx, s.ref)
	if err != nil {
		return nil, false, s.callError("IsActive", err)
	}
	return oneMetricValue(metricName, value), active.GetResult(), nil
}

func (s *externalScaler) Close(context.Context) error {
	return s.conn.Close()
}

// callError words a failed call with the trigger, the method and what to check. gRPC's
// messages carry no credential of ours (the client key never leaves the TLS handshake).
func (s *externalScaler) callError(method string, err error) error {
	st, _ := status.FromError(err)
	hint := "check that the external scaler runs at metadata.scalerAddress " + s.meta.ScalerAddress
	if s.meta.TLSConfig == nil {
		hint += " (if it speaks TLS, set metadata.enableTLS or the TriggerAuthentication's caCert)"
	}
	switch st.Code() {
	case codes.DeadlineExceeded:
		hint = fmt.Sprintf("no answer within the trigger's timeout of %s: %s", s.cfg.Timeout, hint)
	case codes.Unimplemented:
		hint = "the server at metadata.scalerAddress does not implement KEDA's externalscaler.ExternalScaler service"
	case codes.Unavailable:
		if strings.Contains(st.Message(), "certificate") || strings.Contains(st.Message(), "tls:") || strings.Contains(st.Message(), "handshake") {
			hint = "the TLS handshake failed: check caCert, tlsClientCert and tlsClientKey in the TriggerAuthentication (or unsafeSsl), and that the server speaks TLS"
		}
	}
	return fmt.Errorf("%s: %s: %s: %w", triggerWho(s.cfg), method, hint, err)
}

// externalMetricValue is the value of metric name in a GetMetrics answer: the value of that
// name, else the first one.
func externalMetricValue(resp *pb.GetMetricsResponse, name string) (float64, error) {
	values := resp.GetMetricValues()
	if len(values) == 0 {
		return 0, errors.New("no value")
	}
	picked := values[0]
	for _, v := range values {
		if v.GetMetricName() == name {
			picked = v
			break
		}
	}
	value := picked.GetMetricValueFloat()
	if !(value > 0) { // NaN too
		value = float64(picked.GetMetricValue())
	}
	if math.IsInf(value, 0) {
		return 0, fmt.Errorf("metricValueFloat %g for metric %s, not a finite number", value, meta.Quote(picked.GetMetricName(), 80))
	}
	return value, nil
}

// withoutIndex removes the s<index>- prefix: the server knows its metric by its own name.
func withoutIndex(metricName string) string {
	if rest, ok := strings.CutPrefix(metricName, "s"); ok {
		if dash := strings.IndexByte(rest, '-'); dash > 0 && strings.Trim(rest[:dash], "0123456789") == "" {
			return rest[dash+1:]
		}
	}
	return metricName
}

// externalPushScaler is an external scaler that also keeps a StreamIsActive stream open, so the
// server can say when to look again (the engine then polls it at once).
type externalPushScaler struct {
	*externalScaler
	// retryMin and retryMax bound the wait before reopening a broken stream; the wait doubles
	// after each attempt that got nothing, as KEDA's does (2s up to a minute).
	retryMin, retryMax time.Duration
}

func newExternalPushScaler(ctx context.Context, cfg *Config) (Scaler, error) {
	s, err := buildExternalScaler(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &externalPushScaler{externalScaler: s, retryMin: 2 * time.Second, retryMax: time.Minute}, nil
}

// Run keeps a StreamIsActive stream open until ctx ends, calling push with every activity the
// server sends, and reopens the stream after a backoff when it breaks or cannot be opened.
func (s *externalPushScaler) Run(ctx context.Context, push func(active bool)) {
	wait := s.retryMin
	for ctx.Err() == nil {
		got, err := s.stream(ctx, push)
		if got || errors.Is(err, io.EOF) {
			// The stream worked or ended cleanly: try again soon.
			wait = s.retryMin
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(wait*2, s.retryMax)
	}
}

// stream runs one StreamIsActive call; got reports whether it delivered anything.
func (s *externalPushScaler) stream(ctx context.Context, push func(active bool)) (got bool, err error) {
	st, err := s.client.StreamIsActive(ctx, s.ref)
	if err != nil {
		return false, err
	}
	for {
		resp, err := st.Recv()
		if err != nil {
			return got, err
		}
		got = true
		push(resp.GetResult())
	}
}

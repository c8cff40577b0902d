// Package scalers turns a trigger's metadata into values read from an event source. It knows nothing
// of controllers: parse metadata -> query the source -> (value, active, error).
package scalers

import (
	"context"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// Scaler is one trigger's connection to its event source. It is created from a Config once, polled
// many times, and closed when the trigger goes away or changes.
type Scaler interface {
	// GetMetricSpecForScaling returns the External metric specs the HPA should use, named with the
	// trigger index as KEDA names them (s<index>-<scaler>-<detail>).
	GetMetricSpecForScaling(ctx context.Context) []autoscalingv2.MetricSpec
	// GetMetricsAndActivity reads the source once and returns the value of metricName and whether the
	// trigger is active (value above the activation threshold).
	GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error)
	// Close releases connections.
	Close(ctx context.Context) error
}

// Config is everything a scaler is built from.
type Config struct {
	// ScalableObjectName, ScalableObjectNamespace and ScalableObjectType identify the owner
	// (ScaledObject or ScaledJob).
	ScalableObjectName      string
	ScalableObjectNamespace string
	ScalableObjectType      string

	// TriggerIndex is the trigger's position in spec.triggers; it prefixes metric names.
	TriggerIndex int
	TriggerName  string
	TriggerType  string
	// TriggerMetadata is spec.triggers[].metadata as written.
	TriggerMetadata map[string]string
	// AuthParams are parameters resolved from a TriggerAuthentication; they may hold secrets.
	AuthParams map[string]string
	// ResolvedEnv is the scale target container's environment, for the ...FromEnv parameters.
	ResolvedEnv map[string]string
	// MetricType is spec.triggers[].metricType; empty means AverageValue.
	MetricType autoscalingv2.MetricTargetType
	// Timeout bounds every call to the event source.
	Timeout time.Duration
	// Pods reads pods of the object's namespace, for the kubernetes-workload trigger; the operator
	// passes its cached client. Nil where there is no cluster.
	Pods PodLister
	// AsMetricSource is set for the triggers of a ScaledObject with advanced.scalingModifiers: the
	// HPA scales on the formula's composite metric, so a trigger only supplies a value, and the
	// scalers whose target KEDA then makes optional (metrics-api's targetValue, postgresql's
	// targetQueryValue, kubernetes-workload's value) accept it missing, as KEDA's do.
	AsMetricSource bool
	// Offline is set when validating a manifest without a cluster (kubectl keda check): parameters
	// that a TriggerAuthentication or the target's env could supply are not required.
	Offline bool
	// HasAuthenticationRef tells, offline, that the trigger names a TriggerAuthentication, which
	// may supply the parameters a scaler reads from authParams. Without one they cannot come.
	HasAuthenticationRef bool
	// Clients shares connections between triggers that reach the same source as the same
	// identity; the operator passes one pool to every trigger. Nil shares nothing.
	Clients *ClientPool
}

// PushScaler is a Scaler whose source can say when to look again (external-push, cron at its
// window's boundaries, kubernetes-workload on pod changes, ...): Run blocks until ctx ends, calling
// push whenever the source reports a change, and keeps its connection to the source alive
// (reconnecting with a backoff) on its own. The engine answers a push by polling the trigger soon
// (pushes coalesce, at most one poll a second), so activation from zero does not wait for the next
// poll. A source that turns out unable to push (a server without notifications) makes Run return:
// it is not called again, and the trigger is polled as before.
type PushScaler interface {
	Scaler
	Run(ctx context.Context, push func(active bool))
}

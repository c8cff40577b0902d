// Package observability exposes the operator's Prometheus metrics under KEDA's names and labels,
// so that dashboards and alerts written for KEDA keep working.
package observability

import (
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
)

// Metrics holds the collectors. Create it once per process and register it with Register.
type Metrics struct {
	objects          *objectSeries
	http             *httpSeries
	registered       *prometheus.GaugeVec
	triggers         *prometheus.GaugeVec
	buildInfo        *prometheus.GaugeVec
	validations      *prometheus.CounterVec
	validationErrors *prometheus.CounterVec
	cloudEvents      *prometheus.CounterVec
	cloudEventsQueue *prometheus.GaugeVec

	mu sync.Mutex
	// handled is what Handled last recorded of each object, by resource/namespace/name, so that
	// the counts change by what changed, without listing anything.
	handled map[string][]string
}

var scalerLabels = []string{"namespace", "metric", "scaledObject", "scaler", "triggerIndex", "type"}

// Option configures New.
type Option func(*options)

type options struct{ highCardinality bool }

// WithHighCardinalityLabels labels keda_scaler_http_request_duration_seconds by object, trigger
// and metric too (KEDA's --enable-high-cardinality-metrics-labels): a histogram per trigger.
func WithHighCardinalityLabels(on bool) Option {
	return func(o *options) { o.highCardinality = on }
}

// New creates the collectors.
func New(opts ...Option) *Metrics {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return &Metrics{
		objects: newObjectSeries(),
		http:    newHTTPSeries(o.highCardinality),
		registered: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "keda", Subsystem: "resource", Name: "registered_total",
			Help: "KEDA resources the operator handles, by type and namespace."}, []string{"type", "namespace"}),
		triggers: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "keda", Subsystem: "trigger", Name: "registered_total",
			Help: "Triggers of the ScaledObjects and ScaledJobs the operator handles, by trigger type."}, []string{"type"}),
		validations: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "keda", Subsystem: "webhook", Name: "scaled_object_validations_total",
			Help: "ScaledObjects the admission webhook validated, by namespace and action (create, update)."}, []string{"namespace", "action"}),
		validationErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "keda", Subsystem: "webhook", Name: "scaled_object_validation_errors_total",
			Help: "ScaledObjects the admission webhook refused, by namespace, action and reason."}, []string{"namespace", "action", "reason"}),
		cloudEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "keda", Subsystem: "cloudeventsource", Name: "events_emitted_total",
			Help: "CloudEvents delivered (state emitted) and delivery attempts that failed (state failed), by namespace of the event's object, CloudEventSource and destination (http, azureEventGridTopic)."},
			[]string{"namespace", "cloudeventsource", "eventsink", "state"}),
		cloudEventsQueue: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "keda", Subsystem: "cloudeventsource", Name: "events_queued",
			Help: "CloudEvents waiting for delivery, by namespace of the CloudEventSource (empty for a ClusterCloudEventSource)."}, []string{"namespace"}),
		buildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "keda", Name: "build_info",
			Help: "The operator's build: version, commit and Go version."}, []string{"version", "git_commit", "goversion", "goos", "goarch"}),
	}
}

// Register adds the collectors to reg and sets build info.
func (m *Metrics) Register(reg prometheus.Registerer, version, commit string) error {
	for _, c := range []prometheus.Collector{m.objects, m.http, m.registered, m.triggers, m.buildInfo, m.validations, m.validationErrors, m.cloudEvents, m.cloudEventsQueue} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	m.buildInfo.WithLabelValues(version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH).Set(1)
	return nil
}

// Values of the "type" label: which kind of object a series is about. KEDA labels the scaler series
// of a ScaledJob "scaledObject" too, and tells the kinds apart by this label.
const (
	TypeScaledObject = "scaledobject"
	TypeScaledJob    = "scaledjob"
)

// Poll records one poll of one trigger of a ScaledObject or ScaledJob (objType is TypeScaledObject
// or TypeScaledJob). Labels carry names only, never values of metadata, so no secret can reach them.
func (m *Metrics) Poll(key types.NamespacedName, objType string, index int, scaler, metric string, value float64, active bool, err error, latency, lateness time.Duration) {
	m.objects.poll(keyOf(key, objType), index, scaler, metric, value, active, err != nil, latency.Seconds(), lateness.Seconds())
}

// Paused records whether a ScaledObject is paused.
func (m *Metrics) Paused(key types.NamespacedName, paused bool) {
	m.objects.setPaused(keyOf(key, TypeScaledObject), boolValue(paused))
}

// Values of keda_resource_registered_total's "type" label, as KEDA names its kinds.
const (
	ResourceScaledObject                 = "scaled_object"
	ResourceScaledJob                    = "scaled_job"
	ResourceTriggerAuthentication        = "trigger_authentication"
	ResourceClusterTriggerAuthentication = "cluster_trigger_authentication"
	// ResourceCloudEventSource counts CloudEventSources and ClusterCloudEventSources, as KEDA does.
	ResourceCloudEventSource = "cloudevent_source"
)

// Handled records that the operator handles one object of resource (a Resource constant) with
// these trigger types, for keda_resource_registered_total and keda_trigger_registered_total.
// Calling it again for the same object replaces what it said before.
func (m *Metrics) Handled(resource string, key types.NamespacedName, triggerTypes []string) {
	m.record(resource, key, true, triggerTypes)
}

// Gone records that an object Handled recorded is gone.
func (m *Metrics) Gone(resource string, key types.NamespacedName) {
	m.record(resource, key, false, nil)
}

func (m *Metrics) record(resource string, key types.NamespacedName, exists bool, triggerTypes []string) {
	id := resource + "/" + key.Namespace + "/" + key.Name
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.handled == nil {
		m.handled = map[string][]string{}
	}
	before, had := m.handled[id]
	if had {
		m.registered.WithLabelValues(resource, key.Namespace).Dec()
		for _, t := range before {
			m.triggers.WithLabelValues(t).Dec()
		}
		delete(m.handled, id)
	}
	if !exists {
		return
	}
	m.registered.WithLabelValues(resource, key.Namespace).Inc()
	for _, t := range triggerTypes {
		m.triggers.WithLabelValues(t).Inc()
	}
	m.handled[id] = append([]string(nil), triggerTypes...)
}

// Validated records one ScaledObject the admission webhook validated (action create or update),
// and the reason it refused it, if it did (KEDA's reasons, e.g. incorrect-replicas).
func (m *Metrics) Validated(namespace, action, refusal string) {
	m.validations.WithLabelValues(namespace, action).Inc()
	if refusal != "" {
		m.validationErrors.WithLabelValues(namespace, action, refusal).Inc()
	}
}

// Forget removes the series of a deleted ScaledObject or ScaledJob (objType as in Poll).
func (m *Metrics) Forget(key types.NamespacedName, objType string) {
	m.objects.forget(keyOf(key, objType))
	m.http.forget(keyOf(key, objType))
}

// HTTPRequest records one HTTP request a scaler made while polling a trigger of an object (objType
// as in Poll): how long it took and its status code (error when err is set).
func (m *Metrics) HTTPRequest(key types.NamespacedName, objType, scaler, trigger, metric string, took time.Duration, code int, err error) {
	m.http.request(keyOf(key, objType), scaler, trigger, metric, took, code, err)
}

// EmptyResponse records a source's answer with no value for a trigger of an object; resourceType
// is the object's kind as KEDA labels it (ScaledObject, ScaledJob).
func (m *Metrics) EmptyResponse(key types.NamespacedName, objType, trigger, metric, resourceType string, ignoreNullValues bool) {
	m.http.emptyResponse(keyOf(key, objType), trigger, metric, resourceType, ignoreNullValues)
}

// CloudEventSent records one delivery attempt of a CloudEvent by a CloudEventSource (name) to its
// sink (http or azureEventGridTopic): state emitted when it was delivered, failed when not.
func (m *Metrics) CloudEventSent(namespace, source, sink string, delivered bool) {
	state := "failed"
	if delivered {
		state = "emitted"
	}
	m.cloudEvents.WithLabelValues(namespace, source, sink, state).Inc()
}

// CloudEventsQueued records how many CloudEvents of the sources of a namespace wait.
func (m *Metrics) CloudEventsQueued(namespace string, n int) {
	m.cloudEventsQueue.WithLabelValues(namespace).Set(float64(n))
}

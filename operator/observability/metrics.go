// Package observability exposes the operator's Prometheus metrics under KEDA's names and labels,
// so that dashboards and alerts written for KEDA keep working.
package observability

import (
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
)

// Metrics holds the collectors. Create it once per process and register it with Register.
type Metrics struct {
	scalerValue      *prometheus.GaugeVec
	scalerLatency    *prometheus.GaugeVec
	scalerActive     *prometheus.GaugeVec
	scalerErrors     *prometheus.CounterVec
	objectErrors     *prometheus.CounterVec
	jobErrors        *prometheus.CounterVec
	objectPaused     *prometheus.GaugeVec
	registered       *prometheus.GaugeVec
	triggers         *prometheus.GaugeVec
	scaleLoopLatency *prometheus.GaugeVec
	buildInfo        *prometheus.GaugeVec
	validations      *prometheus.CounterVec
	validationErrors *prometheus.CounterVec

	mu sync.Mutex
	// handled is what Handled last recorded of each object, by resource/namespace/name, so that
	// the counts change by what changed, without listing anything.
	handled map[string][]string
}

var scalerLabels = []string{"namespace", "metric", "scaledObject", "scaler", "triggerIndex", "type"}

// New creates the collectors.
func New() *Metrics {
	return &Metrics{
		scalerValue: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "keda", Subsystem: "scaler", Name: "metrics_value",
			Help: "The current value of each scaler's metric, as served to the HPA."}, scalerLabels),
		scalerLatency: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "keda", Subsystem: "scaler", Name: "metrics_latency_seconds",
			Help: "The time the last read of each scaler's source took."}, scalerLabels),
		scalerActive: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "keda", Subsystem: "scaler", Name: "active",
			Help: "1 when the scaler is active, else 0."}, scalerLabels),
		scalerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "keda", Subsystem: "scaler", Name: "detail_errors_total",
			Help: "Errors met by each scaler."}, scalerLabels),
		objectErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "keda", Subsystem: "scaled_object", Name: "errors_total",
			Help: "Errors met while scaling each ScaledObject."}, []string{"namespace", "scaledObject"}),
		jobErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "keda", Subsystem: "scaled_job", Name: "errors_total",
			Help: "Errors met while scaling each ScaledJob."}, []string{"namespace", "scaledJob"}),
		objectPaused: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "keda", Subsystem: "scaled_object", Name: "paused",
			Help: "1 when the ScaledObject is paused, else 0."}, []string{"namespace", "scaledObject"}),
		registered: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "keda", Subsystem: "resource", Name: "registered_total",
			Help: "KEDA resources the operator handles, by type and namespace."}, []string{"type", "namespace"}),
		triggers: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "keda", Subsystem: "trigger", Name: "registered_total",
			Help: "Triggers of the ScaledObjects and ScaledJobs the operator handles, by trigger type."}, []string{"type"}),
		validations: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "keda", Subsystem: "webhook", Name: "scaled_object_validations_total",
			Help: "ScaledObjects the admission webhook validated, by namespace and action (create, update)."}, []string{"namespace", "action"}),
		validationErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "keda", Subsystem: "webhook", Name: "scaled_object_validation_errors_total",
			Help: "ScaledObjects the admission webhook refused, by namespace, action and reason."}, []string{"namespace", "action", "reason"}),
		scaleLoopLatency: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "keda", Subsystem: "internal_scale_loop", Name: "latency_seconds",
			Help: "How late the last poll of each object ran against its schedule."}, []string{"namespace", "type", "resource"}),
		buildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "keda", Name: "build_info",
			Help: "The operator's build: version, commit and Go version."}, []string{"version", "git_commit", "goversion", "goos", "goarch"}),
	}
}

// Register adds the collectors to reg and sets build info.
func (m *Metrics) Register(reg prometheus.Registerer, version, commit string) error {
	for _, c := range []prometheus.Collector{m.scalerValue, m.scalerLatency, m.scalerActive, m.scalerErrors, m.objectErrors, m.jobErrors, m.objectPaused, m.registered, m.triggers, m.scaleLoopLatency, m.buildInfo, m.validations, m.validationErrors} {
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
	labels := prometheus.Labels{"namespace": key.Namespace, "metric": metric, "scaledObject": key.Name, "scaler": scaler + "Scaler", "triggerIndex": strconv.Itoa(index), "type": objType}
	m.scalerLatency.With(labels).Set(latency.Seconds())
	m.scaleLoopLatency.WithLabelValues(key.Namespace, objType, key.Name).Set(lateness.Seconds())
	if err != nil {
		m.scalerErrors.With(labels).Inc()
		if objType == TypeScaledJob {
			m.jobErrors.WithLabelValues(key.Namespace, key.Name).Inc()
		} else {
			m.objectErrors.WithLabelValues(key.Namespace, key.Name).Inc()
		}
		return
	}
	m.scalerErrors.With(labels).Add(0)
	m.scalerValue.With(labels).Set(value)
	activeValue := 0.0
	if active {
		activeValue = 1
	}
	m.scalerActive.With(labels).Set(activeValue)
}

// Paused records whether a ScaledObject is paused.
func (m *Metrics) Paused(key types.NamespacedName, paused bool) {
	v := 0.0
	if paused {
		v = 1
	}
	m.objectPaused.WithLabelValues(key.Namespace, key.Name).Set(v)
}

// Values of keda_resource_registered_total's "type" label, as KEDA names its kinds.
const (
	ResourceScaledObject                 = "scaled_object"
	ResourceScaledJob                    = "scaled_job"
	ResourceTriggerAuthentication        = "trigger_authentication"
	ResourceClusterTriggerAuthentication = "cluster_trigger_authentication"
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
	match := prometheus.Labels{"namespace": key.Namespace, "scaledObject": key.Name, "type": objType}
	for _, v := range []*prometheus.GaugeVec{m.scalerValue, m.scalerLatency, m.scalerActive} {
		v.DeletePartialMatch(match)
	}
	m.scalerErrors.DeletePartialMatch(match)
	m.scaleLoopLatency.DeletePartialMatch(prometheus.Labels{"namespace": key.Namespace, "type": objType, "resource": key.Name})
	if objType == TypeScaledJob {
		m.jobErrors.DeletePartialMatch(prometheus.Labels{"namespace": key.Namespace, "scaledJob": key.Name})
		return
	}
	m.objectPaused.DeletePartialMatch(prometheus.Labels{"namespace": key.Namespace, "scaledObject": key.Name})
	m.objectErrors.DeletePartialMatch(prometheus.Labels{"namespace": key.Namespace, "scaledObject": key.Name})
}

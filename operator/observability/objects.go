package observability

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
)

// objectSeries holds what the per-object series say (the keda_scaler_* series, each object's
// errors, pause and scale-loop lateness) as plain values and turns them into metrics only when
// Prometheus scrapes. A GaugeVec child costs a few hundred bytes of label pairs and hashing per
// series; with six series a trigger, 10,000 ScaledObjects held about 37 MB of them, more than
// anything else in the operator. Kept here, a trigger costs one small struct.
type objectSeries struct {
	value, latency, active, scalerErrors *prometheus.Desc
	objectErrors, jobErrors, paused      *prometheus.Desc
	loopLatency                          *prometheus.Desc

	mu      sync.Mutex
	objects map[objectKey]*objectState
}

type objectKey struct {
	namespace, name, objType string
}

type objectState struct {
	triggers []triggerState // by trigger index; entries never polled have scaler ""
	errors   float64        // keda_scaled_object_errors_total or keda_scaled_job_errors_total
	hasError bool           // the errors series exists once an error was counted, as with a CounterVec
	lateness float64
	polled   bool
	paused   float64
	hasPause bool
}

type triggerState struct {
	scaler, metric string // scaler without KEDA's "Scaler" suffix, which is added when scraped
	value          float64
	active         bool
	hasValue       bool // value and active exist once a poll succeeded
	latency        float64
	errors         float64
}

func newObjectSeries() *objectSeries {
	desc := func(subsystem, name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName("keda", subsystem, name), help, labels, nil)
	}
	return &objectSeries{
		value:        desc("scaler", "metrics_value", "The current value of each scaler's metric, as served to the HPA.", scalerLabels...),
		latency:      desc("scaler", "metrics_latency_seconds", "The time the last read of each scaler's source took.", scalerLabels...),
		active:       desc("scaler", "active", "1 when the scaler is active, else 0.", scalerLabels...),
		scalerErrors: desc("scaler", "detail_errors_total", "Errors met by each scaler.", scalerLabels...),
		objectErrors: desc("scaled_object", "errors_total", "Errors met while scaling each ScaledObject.", "namespace", "scaledObject"),
		jobErrors:    desc("scaled_job", "errors_total", "Errors met while scaling each ScaledJob.", "namespace", "scaledJob"),
		paused:       desc("scaled_object", "paused", "1 when the ScaledObject is paused, else 0.", "namespace", "scaledObject"),
		loopLatency:  desc("internal_scale_loop", "latency_seconds", "How late the last poll of each object ran against its schedule.", "namespace", "type", "resource"),
		objects:      map[objectKey]*objectState{},
	}
}

// object returns key's state, creating it; the caller holds mu.
func (s *objectSeries) object(key objectKey) *objectState {
	o := s.objects[key]
	if o == nil {
		o = &objectState{}
		s.objects[key] = o
	}
	return o
}

func (s *objectSeries) poll(key objectKey, index int, scaler, metric string, value float64, active bool, failed bool, latency, lateness float64) {
	if index < 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.object(key)
	if index >= len(o.triggers) {
		o.triggers = append(o.triggers, make([]triggerState, index+1-len(o.triggers))...)
	}
	t := &o.triggers[index]
	if t.scaler != scaler || t.metric != metric {
		// A spec change gave this index another trigger: its series start again, as KEDA's do
		// when it rebuilds the object's scalers.
		*t = triggerState{scaler: scaler, metric: metric}
	}
	t.latency = latency
	o.lateness, o.polled = lateness, true
	if failed {
		t.errors++
		o.errors++
		o.hasError = true
		return
	}
	t.value, t.active, t.hasValue = value, active, true
}

func (s *objectSeries) setPaused(key objectKey, paused float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.object(key)
	o.paused, o.hasPause = paused, true
}

func (s *objectSeries) forget(key objectKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, key)
}

// Describe implements prometheus.Collector.
func (s *objectSeries) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{s.value, s.latency, s.active, s.scalerErrors, s.objectErrors, s.jobErrors, s.paused, s.loopLatency} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. It copies the states under the lock and builds the
// metrics after releasing it, so that polls never wait for a scrape.
func (s *objectSeries) Collect(ch chan<- prometheus.Metric) {
	type snapshot struct {
		key objectKey
		objectState
	}
	s.mu.Lock()
	all := make([]snapshot, 0, len(s.objects))
	for k, o := range s.objects {
		c := *o
		c.triggers = append([]triggerState(nil), o.triggers...)
		all = append(all, snapshot{key: k, objectState: c})
	}
	s.mu.Unlock()

	for _, o := range all {
		k := o.key
		for i, t := range o.triggers {
			if t.scaler == "" {
				continue
			}
			labels := []string{k.namespace, t.metric, k.name, t.scaler + "Scaler", strconv.Itoa(i), k.objType}
			ch <- prometheus.MustNewConstMetric(s.latency, prometheus.GaugeValue, t.latency, labels...)
			ch <- prometheus.MustNewConstMetric(s.scalerErrors, prometheus.CounterValue, t.errors, labels...)
			if t.hasValue {
				ch <- prometheus.MustNewConstMetric(s.value, prometheus.GaugeValue, t.value, labels...)
				ch <- prometheus.MustNewConstMetric(s.active, prometheus.GaugeValue, boolValue(t.active), labels...)
			}
		}
		if o.polled {
			ch <- prometheus.MustNewConstMetric(s.loopLatency, prometheus.GaugeValue, o.lateness, k.namespace, k.objType, k.name)
		}
		if o.hasError {
			errs := s.objectErrors
			if k.objType == TypeScaledJob {
				errs = s.jobErrors
			}
			ch <- prometheus.MustNewConstMetric(errs, prometheus.CounterValue, o.errors, k.namespace, k.name)
		}
		if o.hasPause {
			ch <- prometheus.MustNewConstMetric(s.paused, prometheus.GaugeValue, o.paused, k.namespace, k.name)
		}
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func keyOf(key types.NamespacedName, objType string) objectKey {
	return objectKey{namespace: key.Namespace, name: key.Name, objType: objType}
}

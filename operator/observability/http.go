package observability

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// httpSeries holds keda_scaler_http_requests_total and keda_scaler_empty_upstream_responses_total
// as plain counts by object, turned into metrics when Prometheus scrapes (as objectSeries does),
// and keda_scaler_http_request_duration_seconds, a histogram by scaler and status code (by object
// too with high-cardinality labels, as KEDA's --enable-high-cardinality-metrics-labels).
type httpSeries struct {
	requests, empty *prometheus.Desc
	duration        *prometheus.HistogramVec
	highCardinality bool

	mu      sync.Mutex
	objects map[objectKey]*httpCounts
}

// httpCounts are one object's counts, by their other labels: a trigger has one or two status codes
// and rarely empty answers, so short slices searched in order cost a fraction of two maps (at
// 10,000 objects maps held 11 MB).
type httpCounts struct {
	requests []counted[httpRequestLabels]
	empty    []counted[emptyLabels]
}

type counted[L comparable] struct {
	labels L
	value  float64
}

// increment adds one to labels' count in list.
func increment[L comparable](list []counted[L], labels L) []counted[L] {
	for i := range list {
		if list[i].labels == labels {
			list[i].value++
			return list
		}
	}
	return append(list, counted[L]{labels: labels, value: 1})
}

type httpRequestLabels struct{ scaler, trigger, metric, code string }

type emptyLabels struct{ trigger, metric, resourceType, ignoreNull string }

var (
	httpDurationLabels                = []string{"scaler", "status_code"}
	httpDurationHighCardinalityLabels = []string{"namespace", "scaled_resource", "scaler", "trigger_name", "metric_name", "status_code"}
)

func newHTTPSeries(highCardinality bool) *httpSeries {
	labels := httpDurationLabels
	if highCardinality {
		labels = httpDurationHighCardinalityLabels
	}
	return &httpSeries{
		requests: prometheus.NewDesc("keda_scaler_http_requests_total", "HTTP requests the scalers made while reading their sources, by object, trigger and status code (error when no answer came).",
			[]string{"namespace", "scaled_resource", "scaler", "trigger_name", "metric_name", "status_code"}, nil),
		empty: prometheus.NewDesc("keda_scaler_empty_upstream_responses_total", "Answers of a source that held no value (a Prometheus query with no sample).",
			[]string{"namespace", "scaledResource", "triggerName", "metricName", "resourceType", "ignoreNullValues"}, nil),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "keda", Subsystem: "scaler_http", Name: "request_duration_seconds",
			Help: "How long the scalers' HTTP requests to their sources took."}, labels),
		highCardinality: highCardinality,
		objects:         map[objectKey]*httpCounts{},
	}
}

// statusCode is the status_code label: the code, or error when the request got no answer.
func statusCode(code int, err error) string {
	if err != nil {
		return "error"
	}
	return strconv.Itoa(code)
}

func (s *httpSeries) counts(key objectKey) *httpCounts {
	c := s.objects[key]
	if c == nil {
		c = &httpCounts{}
		s.objects[key] = c
	}
	return c
}

func (s *httpSeries) request(key objectKey, scaler, trigger, metric string, took time.Duration, code int, err error) {
	status := statusCode(code, err)
	if s.highCardinality {
		s.duration.WithLabelValues(key.namespace, key.name, scaler, trigger, metric, status).Observe(took.Seconds())
	} else {
		s.duration.WithLabelValues(scaler, status).Observe(took.Seconds())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counts(key)
	c.requests = increment(c.requests, httpRequestLabels{scaler: scaler, trigger: trigger, metric: metric, code: status})
}

func (s *httpSeries) emptyResponse(key objectKey, trigger, metric, resourceType string, ignoreNull bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counts(key)
	c.empty = increment(c.empty, emptyLabels{trigger: trigger, metric: metric, resourceType: resourceType, ignoreNull: strconv.FormatBool(ignoreNull)})
}

func (s *httpSeries) forget(key objectKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, key)
	if s.highCardinality {
		s.duration.DeletePartialMatch(prometheus.Labels{"namespace": key.namespace, "scaled_resource": key.name})
	}
}

// Describe implements prometheus.Collector.
func (s *httpSeries) Describe(ch chan<- *prometheus.Desc) {
	ch <- s.requests
	ch <- s.empty
	s.duration.Describe(ch)
}

// Collect implements prometheus.Collector.
func (s *httpSeries) Collect(ch chan<- prometheus.Metric) {
	type row struct {
		desc   *prometheus.Desc
		value  float64
		labels []string
	}
	s.mu.Lock()
	var rows []row
	for k, c := range s.objects {
		for _, r := range c.requests {
			l := r.labels
			rows = append(rows, row{s.requests, r.value, []string{k.namespace, k.name, l.scaler, l.trigger, l.metric, l.code}})
		}
		for _, e := range c.empty {
			l := e.labels
			rows = append(rows, row{s.empty, e.value, []string{k.namespace, k.name, l.trigger, l.metric, l.resourceType, l.ignoreNull}})
		}
	}
	s.mu.Unlock()
	for _, r := range rows {
		ch <- prometheus.MustNewConstMetric(r.desc, prometheus.CounterValue, r.value, r.labels...)
	}
	s.duration.Collect(ch)
}

package scalers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The artemis-queue and activemq triggers read one MBean attribute, a queue's message count,
// through Jolokia's REST API (the agent both brokers' consoles embed): GET <agent>/read/<mbean>/
// <attribute> with basic credentials and an Origin header. This file is that read; the two
// triggers differ only in their metadata.

// jolokiaAnswer is Jolokia's JSON envelope of one read: the value and status 200, or an error
// (status, error_type and error) with the HTTP status usually still 200.
type jolokiaAnswer struct {
	Status    *int            `json:"status"`
	Value     json.RawMessage `json:"value"`
	ErrorType string          `json:"error_type"`
	Error     string          `json:"error"`
}

// jolokiaError is a read Jolokia answered with an error in its envelope.
type jolokiaError struct {
	status          int
	errorType, text string
}

func (e *jolokiaError) Error() string {
	msg := fmt.Sprintf("Jolokia answered status %d", e.status)
	if e.errorType != "" {
		msg += " " + e.errorType
	}
	if e.text != "" {
		msg += ": " + meta.Clip(strings.Join(strings.Fields(e.text), " "), 200)
	}
	return msg
}

// errNotJolokia is an answer that is no Jolokia envelope.
var errNotJolokia = errors.New("the answer is not a Jolokia response: check that the URL is the broker's Jolokia read endpoint")

// jolokiaCount reads the queue's message count from a Jolokia read answer: a whole number of
// at least 0 with status 200. An error envelope comes back as a *jolokiaError.
func jolokiaCount(body []byte) (int64, error) {
	var a jolokiaAnswer
	if err := json.Unmarshal(body, &a); err != nil || a.Status == nil {
		return 0, errNotJolokia
	}
	if *a.Status != http.StatusOK {
		return 0, &jolokiaError{status: *a.Status, errorType: a.ErrorType, text: a.Error}
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(a.Value))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil {
		return 0, fmt.Errorf("the attribute's value %s is not a number: check that the URL reads a queue's message count", meta.Clip(string(a.Value), 80))
	}
	v, err := n.Int64()
	if err != nil || v < 0 {
		return 0, fmt.Errorf("the attribute's value %s is not a message count", meta.Clip(n.String(), 80))
	}
	return v, nil
}

// jolokiaQueue is one trigger's read of a queue's size.
type jolokiaQueue struct {
	cfg    *Config
	read   meta.JolokiaRead
	client *httpClient
	// broker names the broker in errors (Artemis, ActiveMQ); names are the parameters that
	// name the queue's MBean, for a read of an MBean that does not exist.
	broker, names, templateParam string
}

func newJolokiaQueue(cfg *Config, read meta.JolokiaRead, unsafeSSL bool, broker, names, templateParam string) *jolokiaQueue {
	p := read.Creds
	// KEDA's triggers have no timeout of their own: the operator's HTTP timeout bounds a read.
	return &jolokiaQueue{cfg: cfg, read: read, broker: broker, names: names, templateParam: templateParam,
		client: newHTTPClient(cfg, &p, read.Auth, templateParam, read.URL, 0, unsafeSSL)}
}

// count reads the queue's size now.
func (q *jolokiaQueue) count(ctx context.Context) (int64, error) {
	header := http.Header{"Origin": {q.read.Origin}, "Content-Type": {"application/json"}}
	status, body, err := q.client.send(ctx, http.MethodGet, q.read.URL, header, nil)
	if err != nil {
		return 0, err
	}
	if status < 200 || status > 299 {
		return 0, q.client.fail(q.read.URL, q.statusError(status, body))
	}
	n, err := jolokiaCount(body)
	var je *jolokiaError
	switch {
	case errors.As(err, &je):
		return 0, q.client.fail(q.read.URL, q.envelopeError(je))
	case err != nil:
		return 0, q.client.fail(q.read.URL, fmt.Errorf("%w (metadata.%s)", err, q.templateParam))
	}
	return n, nil
}

// statusError words an HTTP answer outside 2xx: the console's authentication (401), a refusal
// by the console or Jolokia's policy (403), no Jolokia agent at that path (404).
func (q *jolokiaQueue) statusError(status int, body []byte) error {
	// The console's own refusals answer with an HTML page: the status says it all.
	switch status {
	case http.StatusUnauthorized:
		return fmt.Errorf("%w: the %s console refused username and password: check them in the TriggerAuthentication", &httpStatusError{code: status}, q.broker)
	case http.StatusForbidden:
		return fmt.Errorf("%w: the %s console refused the request: check the user's role and metadata.corsHeader (the Origin it allows)", &httpStatusError{code: status}, q.broker)
	}
	return q.client.statusError(&httpStatusError{code: status, body: body})
}

// envelopeError words an error Jolokia put in its envelope.
func (q *jolokiaQueue) envelopeError(je *jolokiaError) error {
	switch {
	case je.status == http.StatusNotFound:
		return fmt.Errorf("%w: the queue's MBean was not found: check %s", je, q.names)
	case je.status == http.StatusForbidden:
		return fmt.Errorf("%w: Jolokia's access policy refused the read: check metadata.corsHeader (the Origin it allows) and the policy", je)
	case je.status == http.StatusUnauthorized:
		return fmt.Errorf("%w: the %s console refused username and password", je, q.broker)
	}
	return je
}

func (q *jolokiaQueue) close() { q.client.close() }

// jolokiaScaler is a trigger whose value is one queue's size read through Jolokia.
type jolokiaScaler struct {
	cfg        *Config
	queue      *jolokiaQueue
	metricName string
	target     int64
	activation int64
}

func (s *jolokiaScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, float64(s.target))
}

// GetMetricsAndActivity reads the queue's size; the trigger is active above the activation
// threshold.
func (s *jolokiaScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	n, err := s.queue.count(ctx)
	if err != nil {
		return nil, false, err
	}
	return oneMetricValue(metricName, float64(n)), n > s.activation, nil
}

func (s *jolokiaScaler) Close(context.Context) error {
	s.queue.close()
	return nil
}

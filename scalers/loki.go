package scalers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// lokiDialect words the answers of Loki's query API.
var lokiDialect = &queryDialect{
	server:    "Loki",
	notAnswer: errors.New("the answer is not a Loki query API response: check that metadata.serverAddress is Loki's (or its gateway's) address"),
	noSample:  "did no log line match in the query's range?",
	notFinite: "make metadata.query return a number (e.g. add `or vector(0)`)",
	streams:   `make metadata.query a metric query, such as sum(count_over_time({app="worker"}[1m]))`,
}

// lokiAnswerValue is the query's value in a 2xx answer of Loki's query API, as a poll reads it.
func lokiAnswerValue(body []byte, ignoreNullValues bool) (float64, error) {
	resp, err := parseQueryAnswer(body, lokiDialect)
	if err != nil {
		return 0, err
	}
	return queryValue(resp, ignoreNullValues, lokiDialect)
}

// lokiScaler runs one LogQL instant query per poll.
type lokiScaler struct {
	cfg        *Config
	meta       meta.LokiMetadata
	client     *httpClient
	metricName string
}

func newLokiScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &lokiScaler{cfg: cfg, metricName: MetricName(cfg.TriggerIndex, "loki")}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	p := s.meta.HTTPAuthParams
	// Loki's trigger has no timeout parameter: the operator's HTTP timeout bounds each query.
	s.client = newHTTPClient(cfg, &p, s.meta.Auth, "serverAddress", s.meta.QueryURL, 0, s.meta.UnsafeSsl)
	return s, nil
}

func (s *lokiScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	spec, err := ExternalMetricSpec(s.cfg, s.metricName, s.meta.Threshold)
	if err != nil {
		return nil
	}
	return []autoscalingv2.MetricSpec{spec}
}

// GetMetricsAndActivity runs the query once; the trigger is active when its value is above
// activationThreshold.
func (s *lokiScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	v, err := s.query(ctx)
	if err != nil {
		return nil, false, err
	}
	return []external_metrics.ExternalMetricValue{{MetricName: metricName, Value: *floatQuantity(v)}}, v > s.meta.ActivationThreshold, nil
}

func (s *lokiScaler) Close(context.Context) error {
	s.client.close()
	return nil
}

// query asks Loki's query endpoint for the query's value now. Loki answers a refused query
// with a plain-text reason, which the status error quotes.
func (s *lokiScaler) query(ctx context.Context) (float64, error) {
	u := *s.meta.QueryURL
	// No time parameter: Loki evaluates at its own now, as KEDA asks it to.
	u.RawQuery = url.Values{"query": {s.meta.Query}}.Encode()
	status, body, err := s.client.send(ctx, http.MethodGet, &u, s.meta.Headers, nil)
	if err != nil {
		return 0, err
	}
	if status < 200 || status > 299 {
		return 0, s.client.fail(&u, s.statusError(status, body))
	}
	v, err := lokiAnswerValue(body, s.meta.IgnoreNullValues)
	if err != nil {
		return 0, s.client.redactErr(fmt.Errorf("%s: query %q on %s: %s", triggerWho(s.cfg), s.meta.Query, s.meta.QueryURL.Redacted(), err))
	}
	return v, nil
}

// statusError words an answer outside 2xx: Loki's own reasons get Loki's fixes.
func (s *lokiScaler) statusError(status int, body []byte) error {
	err := s.client.statusError(&httpStatusError{code: status, body: body})
	switch {
	case status == http.StatusBadRequest:
		return fmt.Errorf("%w: Loki refused the query: check metadata.query (a LogQL metric query)", err)
	case status == http.StatusUnauthorized && s.meta.TenantName == "" && strings.Contains(string(body), "no org id"):
		// A multi-tenant Loki wants the tenant in every request.
		return fmt.Errorf("%w: Loki runs with multi-tenancy: set metadata.tenantName", err)
	}
	return err
}

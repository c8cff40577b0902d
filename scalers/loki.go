package scalers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// lokiQueryPath is Loki's instant query endpoint.
const lokiQueryPath = "/loki/api/v1/query"

// lokiTenantHeader carries the tenant of a multi-tenant Loki.
const lokiTenantHeader = "X-Scope-OrgID"

// lokiMetadata is the loki trigger's metadata, with KEDA's parameter names.
type lokiMetadata struct {
	ServerAddress       string  `keda:"name=serverAddress, order=triggerMetadata"`
	Query               string  `keda:"name=query, order=triggerMetadata"`
	Threshold           float64 `keda:"name=threshold, order=triggerMetadata"`
	ActivationThreshold float64 `keda:"name=activationThreshold, order=triggerMetadata, default=0"`
	TenantName          string  `keda:"name=tenantName, order=triggerMetadata, optional"`
	IgnoreNullValues    bool    `keda:"name=ignoreNullValues, order=triggerMetadata, default=true"`
	UnsafeSsl           bool    `keda:"name=unsafeSsl, order=triggerMetadata, default=false"`

	// The authentication parameters every HTTP scaler shares.
	httpAuthParams
	metricSource

	// Set by Validate.
	queryURL *url.URL
	headers  http.Header
	auth     *httpAuth
}

// Validate checks the parameters and prepares the request. Parameters only the metadata holds
// are checked first: offline, a missing credential ends validation.
func (m *lokiMetadata) Validate() error {
	u, err := httpURL("serverAddress", m.ServerAddress, "http://loki-gateway.monitoring:80")
	if err != nil {
		return err
	}
	m.queryURL = lokiQueryURL(u)
	if m.AsMetricSource() {
		// A metric source of scalingModifiers: the HPA sees the formula's composite metric, not
		// this one, so the threshold is required (as KEDA requires it) but its value unused.
		m.Threshold = 0
	} else if m.Threshold <= 0 {
		return &ParamError{Param: "threshold", Problem: fmt.Sprintf("is %g", m.Threshold), Fix: "must be above 0: it is the query value per replica the HPA aims at"}
	}
	m.headers = http.Header{}
	if m.TenantName != "" {
		if strings.ContainsAny(m.TenantName, "\r\n") {
			return &ParamError{Param: "tenantName", Problem: "holds a line break", Fix: "use the tenant ID Loki knows, such as team-a"}
		}
		m.headers.Set(lokiTenantHeader, m.TenantName)
	}
	p := m.httpAuthParams
	m.auth, err = p.validate()
	return err
}

// lokiQueryURL is the query endpoint under the server's address. Like KEDA, it accepts the
// endpoint itself and any leading part of its path (http://loki/loki), so that addresses copied
// from a browser or a Grafana data source work.
func lokiQueryURL(server *url.URL) *url.URL {
	u := *server
	u.RawPath = ""
	p := strings.TrimRight(u.Path, "/")
	switch {
	case strings.HasSuffix(p, lokiQueryPath):
		u.Path = p
	case strings.HasPrefix(lokiQueryPath, p+"/"):
		u.Path = lokiQueryPath
	default:
		u.Path = path.Join(p, lokiQueryPath)
	}
	return &u
}

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
	meta       lokiMetadata
	client     *httpClient
	metricName string
}

func newLokiScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &lokiScaler{cfg: cfg, metricName: MetricName(cfg.TriggerIndex, "loki")}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	p := s.meta.httpAuthParams
	// Loki's trigger has no timeout parameter: the operator's HTTP timeout bounds each query.
	s.client = newHTTPClient(cfg, &p, s.meta.auth, "serverAddress", s.meta.queryURL, 0, s.meta.UnsafeSsl)
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
	u := *s.meta.queryURL
	// No time parameter: Loki evaluates at its own now, as KEDA asks it to.
	u.RawQuery = url.Values{"query": {s.meta.Query}}.Encode()
	status, body, err := s.client.send(ctx, http.MethodGet, &u, s.meta.headers, nil)
	if err != nil {
		return 0, err
	}
	if status < 200 || status > 299 {
		return 0, s.client.fail(&u, s.statusError(status, body))
	}
	v, err := lokiAnswerValue(body, s.meta.IgnoreNullValues)
	if err != nil {
		return 0, s.client.redactErr(fmt.Errorf("%s: query %q on %s: %s", triggerWho(s.cfg), s.meta.Query, s.meta.queryURL.Redacted(), err))
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

package scalers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/metrics/pkg/apis/external_metrics"

	"github.com/kedactl/kedactl/scalers/meta"
)

// The datadog trigger reads a metric in one of two ways, as KEDA's does: a metrics query through
// Datadog's public API (GET /api/v1/query, the API and application keys in headers), or, with
// useClusterAgentProxy, a DatadogMetric through the Datadog Cluster Agent's external metrics API.

// datadogQueryPath is the path of Datadog's v1 timeseries query endpoint.
const datadogQueryPath = "/api/v1/query"

// datadogSites (read only) are the Datadog sites KEDA's API client knows; each serves the API at
// https://api.<site>.
var datadogSites = []string{
	"datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "ap1.datadoghq.com", "ap2.datadoghq.com",
	"uk1.datadoghq.com", "datadoghq.eu", "ddog-gov.com", "us2.ddog-gov.com",
}

// datadogMetadata is the datadog trigger's metadata, with KEDA's parameter names and sources.
type datadogMetadata struct {
	// Datadog API mode.
	Query                    string  `keda:"name=query, order=triggerMetadata, optional"`
	QueryAggregator          string  `keda:"name=queryAggregator, order=triggerMetadata, optional, enum=average;max"`
	ActivationQueryValue     float64 `keda:"name=activationQueryValue, order=triggerMetadata, default=0"`
	Age                      int     `keda:"name=age, order=triggerMetadata, default=90"`
	TimeWindowOffset         int     `keda:"name=timeWindowOffset, order=triggerMetadata, default=0"`
	LastAvailablePointOffset int     `keda:"name=lastAvailablePointOffset, order=triggerMetadata, default=0"`
	AppKey                   string  `keda:"name=appKey, order=authParams, optional, secret"`
	DatadogSite              string  `keda:"name=datadogSite, order=authParams, default=datadoghq.com"`

	// Cluster Agent mode.
	UseClusterAgentProxy      bool    `keda:"name=useClusterAgentProxy, order=triggerMetadata, default=false"`
	DatadogMetricName         string  `keda:"name=datadogMetricName, order=triggerMetadata, optional"`
	DatadogMetricNamespace    string  `keda:"name=datadogMetricNamespace, order=triggerMetadata, optional"`
	ActivationTargetValue     float64 `keda:"name=activationTargetValue, order=triggerMetadata, default=0"`
	DatadogNamespace          string  `keda:"name=datadogNamespace, order=authParams, optional"`
	DatadogMetricsService     string  `keda:"name=datadogMetricsService, order=authParams, optional"`
	DatadogMetricsServicePort int     `keda:"name=datadogMetricsServicePort, order=authParams, default=8443"`
	UnsafeSsl                 bool    `keda:"name=unsafeSsl, order=authParams, default=false"`

	// Both modes. KEDA reads the target from targetValue, else queryValue; hpaMetricName is
	// accepted and, as in KEDA, replaced by the name KEDA derives.
	TargetValue            float64  `keda:"name=targetValue, order=triggerMetadata, default=-1"`
	QueryValue             float64  `keda:"name=queryValue, order=triggerMetadata, default=-1"`
	MetricUnavailableValue *float64 `keda:"name=metricUnavailableValue, order=triggerMetadata, optional"`
	HpaMetricName          string   `keda:"name=hpaMetricName, order=triggerMetadata, optional"`
	Timeout                string   `keda:"name=timeout, order=triggerMetadata, optional"`

	// KEDA's authentication parameters: apiKey is Datadog's API key in API mode; authModes
	// bearer (with bearerToken) authenticates to the Cluster Agent.
	httpAuthParams
	metricSource

	// Set by Validate.
	target     float64
	timeout    time.Duration
	auth       *httpAuth
	baseURL    *url.URL
	metricName string // without the s<index>- prefix in API mode
}

// Validate checks the parameters of the mode useClusterAgentProxy picks.
func (m *datadogMetadata) Validate() error {
	switch {
	case m.Age < 0:
		return &ParamError{Param: "age", Problem: fmt.Sprintf("is %d", m.Age), Fix: "use the query's window in seconds, 0 or more (90 by default; under 60 Datadog may have no point)"}
	case m.TimeWindowOffset < 0:
		return &ParamError{Param: "timeWindowOffset", Problem: fmt.Sprintf("is %d", m.TimeWindowOffset), Fix: "use seconds to shift the window back, 0 or more"}
	case m.LastAvailablePointOffset < 0:
		return &ParamError{Param: "lastAvailablePointOffset", Problem: fmt.Sprintf("is %d", m.LastAvailablePointOffset), Fix: "use how many points to skip from the last one, 0 or more"}
	}
	if m.Query != "" && !datadogQueryHasScope(m.Query) {
		return &ParamError{Param: "query", Problem: "has no scope in braces", Fix: "write a Datadog metric query with its scope, such as sum:trace.redis.command.hits{env:prod}.as_count()"}
	}
	var err error
	if m.timeout, err = parseTriggerTimeout(m.Timeout); err != nil {
		return err
	}
	// The Cluster Agent takes a bearer token, and KEDA allows no other mode for this trigger.
	for _, list := range []struct {
		param string
		modes []string
	}{{"authModes", m.AuthModes}, {"authMode", m.AuthMode}} {
		for _, mode := range list.modes {
			if mode != authModeBearer {
				return &ParamError{Param: list.param, Problem: strconv.Quote(mode) + " is not allowed for this trigger",
					Fix: "use bearer (with bearerToken) for the Cluster Agent, or no authModes for Datadog's API (apiKey and appKey)"}
			}
		}
	}
	m.target = m.TargetValue
	if m.target == -1 {
		m.target = m.QueryValue
	}
	if m.target == -1 {
		if !m.AsMetricSource() {
			// Worded "is not set": offline, "is required" would pass for a parameter a
			// TriggerAuthentication could still supply, which this one cannot.
			return &ParamError{Param: "queryValue", Problem: "is not set", Fix: "set metadata.queryValue (or targetValue), the metric value per replica the HPA aims at"}
		}
		m.target = 0
	}
	if m.UseClusterAgentProxy {
		return m.validateClusterAgent()
	}
	return m.validateAPI()
}

// validateAPI checks Datadog API mode: a query, the site and both keys.
func (m *datadogMetadata) validateAPI() error {
	if m.Query == "" {
		return &ParamError{Param: "query", Problem: "is not set", Fix: "set metadata.query, a Datadog metric query such as avg:nginx.net.request_per_s{service:web}"}
	}
	base, err := datadogAPIBase(m.DatadogSite)
	if err != nil {
		return err
	}
	m.baseURL = base
	m.metricName = "datadog-" + m.Query[:strings.Index(m.Query, "{")]
	p := m.httpAuthParams
	// The keys travel in Datadog's own headers, never through authModes.
	p.AuthModes, p.AuthMode = nil, nil
	if m.auth, err = p.validate(); err != nil {
		return err
	}
	if m.AppKey == "" {
		return &ParamError{Param: "appKey", Problem: "is required", Fix: "set parameter appKey (a Datadog application key) in a TriggerAuthentication (secretTargetRef)"}
	}
	if m.APIKey == "" {
		return &ParamError{Param: "apiKey", Problem: "is required", Fix: "set parameter apiKey (a Datadog API key) in a TriggerAuthentication (secretTargetRef)"}
	}
	return nil
}

// validateClusterAgent checks Cluster Agent mode: where the agent's service is and which
// DatadogMetric to read.
func (m *datadogMetadata) validateClusterAgent() error {
	// The metadata's own parameters are "not set"; those a TriggerAuthentication holds are
	// "required", which offline validation lets pass.
	for _, req := range []struct{ param, value, problem, fix string }{
		{"datadogMetricName", m.DatadogMetricName, "is not set", "set metadata.datadogMetricName, the name of the DatadogMetric object"},
		{"datadogMetricNamespace", m.DatadogMetricNamespace, "is not set", "set metadata.datadogMetricNamespace, the namespace of the DatadogMetric object"},
		{"datadogMetricsService", m.DatadogMetricsService, "is required", "set parameter datadogMetricsService (the Cluster Agent's metrics service, such as datadog-cluster-agent-metrics-api) in a TriggerAuthentication"},
		{"datadogNamespace", m.DatadogNamespace, "is required", "set parameter datadogNamespace (the Cluster Agent's namespace) in a TriggerAuthentication"},
	} {
		if req.value == "" {
			return &ParamError{Param: req.param, Problem: req.problem + " with useClusterAgentProxy", Fix: req.fix}
		}
	}
	if m.DatadogMetricsServicePort < 1 || m.DatadogMetricsServicePort > 65535 {
		return &ParamError{Param: "datadogMetricsServicePort", Problem: fmt.Sprintf("is %d", m.DatadogMetricsServicePort), Fix: "use the metrics service's port, 8443 by default"}
	}
	for _, name := range []struct{ param, value string }{
		{"datadogMetricsService", m.DatadogMetricsService}, {"datadogNamespace", m.DatadogNamespace},
		{"datadogMetricNamespace", m.DatadogMetricNamespace}, {"datadogMetricName", m.DatadogMetricName},
	} {
		if strings.ContainsAny(name.value, "/?#@: \t\r\n") {
			return &ParamError{Param: name.param, Problem: strconv.Quote(clip(name.value, 80)) + " is not a Kubernetes name", Fix: "use the object's name, such as datadog"}
		}
	}
	m.baseURL = &url.URL{Scheme: "https", Host: fmt.Sprintf("%s.%s:%d", m.DatadogMetricsService, m.DatadogNamespace, m.DatadogMetricsServicePort),
		Path: "/apis/external.metrics.k8s.io/v1beta1"}
	// The Cluster Agent's name for a DatadogMetric, which KEDA also gives the HPA as it is.
	m.metricName = "datadogmetric@" + m.DatadogMetricNamespace + ":" + m.DatadogMetricName
	var err error
	m.auth, err = m.httpAuthParams.validate()
	return err
}

// ValidateConfig checks KEDA's deprecated metadata.type (average or global) as KEDA 2.21 does:
// it may not be set along with spec.triggers[].metricType. Like KEDA 2.21, it does not change
// the HPA's target type, which metricType alone sets.
func (m *datadogMetadata) ValidateConfig(cfg *meta.Trigger) error {
	v, ok := cfg.Metadata["type"]
	if !ok {
		return nil
	}
	perr := func(problem, fix string) error {
		return &ParamError{TriggerIndex: cfg.Index, TriggerType: cfg.Type, TriggerName: cfg.Name, Param: "type", Problem: problem, Fix: fix}
	}
	if cfg.MetricType != "" {
		return perr("is set along with spec.triggers[].metricType", "remove metadata.type, which metricType replaces")
	}
	if t := strings.ToLower(v); t != "average" && t != "global" {
		return perr("is "+strconv.Quote(clip(v, 40)), "must be average or global; better, remove it and set spec.triggers[].metricType (AverageValue or Value)")
	}
	return nil
}

// datadogQueryHasScope reports whether q has a scope in braces, which every Datadog metric query
// needs ({*} for all).
func datadogQueryHasScope(q string) bool {
	open := strings.Index(q, "{")
	return open >= 0 && strings.Contains(q[open+1:], "}")
}

// datadogAPIBase is the API's address for a site: https://api.<site> for the sites Datadog
// runs. A site given as an http(s) URL is taken as the API's address itself (a proxy in front of
// Datadog, or a test's fake).
func datadogAPIBase(site string) (*url.URL, error) {
	if strings.HasPrefix(site, "http://") || strings.HasPrefix(site, "https://") {
		u, err := httpURL("datadogSite", site, "https://api.datadoghq.eu")
		if err != nil {
			return nil, err
		}
		u.Path = strings.TrimRight(u.Path, "/")
		return u, nil
	}
	if !slices.Contains(datadogSites, site) {
		return nil, &ParamError{Param: "datadogSite", Problem: strconv.Quote(clip(site, 80)) + " is not a Datadog site",
			Fix: "use the site of your Datadog account: one of " + strings.Join(datadogSites, ", ")}
	}
	return &url.URL{Scheme: "https", Host: "api." + site}, nil
}

// datadogQueryAnswer is the part of Datadog's MetricsQueryResponse the trigger reads.
type datadogQueryAnswer struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Series []struct {
		// Each point is [timestamp in ms, value]; the value is null where the series has no data.
		Pointlist [][]*float64 `json:"pointlist"`
	} `json:"series"`
}

// errDatadogNoData is an answer without a value in the window; metricUnavailableValue, when set,
// stands in for it.
var errDatadogNoData = errors.New("Datadog returned no point for the query in the time window: check metadata.query, or widen metadata.age, or set metadata.metricUnavailableValue")

// datadogPickValue is the value of a 200 answer of /api/v1/query: each series' last point that
// has a value, skip points further back, then the series combined by aggregator (max unless
// "average"). Answers with no such point give errDatadogNoData.
func datadogPickValue(body []byte, skip int, aggregator string) (float64, error) {
	var a datadogQueryAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, fmt.Errorf("the answer is not Datadog's query response: %s", clip(err.Error(), 120))
	}
	if a.Status == "error" {
		msg := a.Error
		if msg == "" {
			msg = "no reason given"
		}
		return 0, fmt.Errorf("Datadog refused the query: %s: check metadata.query", clip(msg, 200))
	}
	if len(a.Series) == 0 {
		return 0, errDatadogNoData
	}
	if len(a.Series) > 1 && aggregator == "" {
		return 0, fmt.Errorf("the query returned %d series: make metadata.query return one (aggregate it, such as sum:...{...}) or set metadata.queryAggregator to average or max", len(a.Series))
	}
	values := make([]float64, 0, len(a.Series))
	for _, series := range a.Series {
		points := series.Pointlist
		last := len(points) - 1
		for i := last; i >= 0; i-- {
			if len(points[i]) >= 2 && points[i][1] != nil {
				last = i
				break
			}
		}
		if len(points) > 0 && last < skip {
			return 0, fmt.Errorf("a series has %d points up to its last value, fewer than metadata.lastAvailablePointOffset %d: lower it or widen metadata.age", last+1, skip)
		}
		at := last - skip
		if at < 0 || len(points[at]) < 2 || points[at][1] == nil {
			return 0, errDatadogNoData
		}
		v := *points[at][1]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("the query's value is %g: make metadata.query return a finite number", v)
		}
		values = append(values, v)
	}
	if aggregator == "average" {
		sum := 0.0
		for _, v := range values {
			sum += v
		}
		return sum / float64(len(values)), nil
	}
	return slices.Max(values), nil
}

// datadogAgentValue is the value of a 200 answer of the Cluster Agent's external metrics API:
// the first item's value, a number or a Kubernetes quantity.
func datadogAgentValue(body []byte) (float64, error) {
	var list struct {
		Items []struct {
			Value json.RawMessage `json:"value"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return 0, fmt.Errorf("the answer is not an external metric value list: %s", clip(err.Error(), 120))
	}
	if len(list.Items) == 0 {
		return 0, errDatadogNoData
	}
	raw := bytes.TrimSpace(list.Items[0].Value)
	var v float64
	var text string
	switch {
	case json.Unmarshal(raw, &v) == nil:
	case json.Unmarshal(raw, &text) == nil:
		q, err := resource.ParseQuantity(text)
		if err != nil {
			return 0, fmt.Errorf("the metric's value %q is not a quantity", clip(text, 40))
		}
		v = q.AsApproximateFloat64()
	default:
		return 0, fmt.Errorf("the metric's value is not a number or a quantity but %s", clip(string(raw), 40))
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("the metric's value is %g", v)
	}
	return v, nil
}

// datadogScaler polls Datadog's API or the Cluster Agent once a poll.
type datadogScaler struct {
	cfg        *Config
	meta       datadogMetadata
	client     *httpClient
	metricName string
	// now is the clock the query window is taken from.
	now func() time.Time
}

func newDatadogScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &datadogScaler{cfg: cfg, now: time.Now}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	s.metricName = s.meta.metricName
	if !s.meta.UseClusterAgentProxy {
		s.metricName = MetricName(cfg.TriggerIndex, s.meta.metricName)
	}
	p := s.meta.httpAuthParams
	// KEDA skips certificate checks only towards the Cluster Agent.
	unsafeSSL := s.meta.UnsafeSsl && s.meta.UseClusterAgentProxy
	s.client = newHTTPClient(cfg, &p, s.meta.auth, "datadogSite", s.meta.baseURL, s.meta.timeout, unsafeSSL)
	if s.meta.AppKey != "" {
		s.client.secrets = append(s.client.secrets, s.meta.AppKey)
		slices.SortFunc(s.client.secrets, func(a, b string) int { return len(b) - len(a) })
	}
	if s.meta.UseClusterAgentProxy {
		s.client.addrParam = "datadogMetricsService"
	}
	return s, nil
}

func (s *datadogScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, s.meta.target)
}

// GetMetricsAndActivity reads the value once; the trigger is active above
// activationQueryValue (activationTargetValue with the Cluster Agent).
func (s *datadogScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	var v float64
	var err error
	activation := s.meta.ActivationQueryValue
	if s.meta.UseClusterAgentProxy {
		v, err = s.readAgent(ctx)
		activation = s.meta.ActivationTargetValue
	} else {
		v, err = s.query(ctx)
	}
	if err != nil {
		return nil, false, err
	}
	return oneMetricValue(metricName, v), v > activation, nil
}

func (s *datadogScaler) Close(context.Context) error {
	s.client.close()
	return nil
}

// fillOr returns metricUnavailableValue for an answer without data, when it is set.
func (s *datadogScaler) fillOr(err error) (float64, error) {
	if s.meta.MetricUnavailableValue != nil {
		return *s.meta.MetricUnavailableValue, nil
	}
	return 0, err
}

// query runs the metric query over the window [now-timeWindowOffset-age, now-timeWindowOffset].
func (s *datadogScaler) query(ctx context.Context) (float64, error) {
	to := s.now().Unix() - int64(s.meta.TimeWindowOffset)
	from := to - int64(s.meta.Age)
	u := *s.meta.baseURL
	u.Path += datadogQueryPath
	u.RawQuery = url.Values{"from": {strconv.FormatInt(from, 10)}, "to": {strconv.FormatInt(to, 10)}, "query": {s.meta.Query}}.Encode()
	header := http.Header{"Accept": {"application/json"}, "DD-API-KEY": {s.meta.APIKey}, "DD-APPLICATION-KEY": {s.meta.AppKey}}
	status, answer, body, err := s.client.sendFull(ctx, http.MethodGet, &u, header, nil)
	if err != nil {
		return 0, err
	}
	if status == http.StatusUnprocessableEntity && s.meta.MetricUnavailableValue != nil {
		return *s.meta.MetricUnavailableValue, nil
	}
	if status != http.StatusOK {
		return 0, s.client.fail(&u, s.apiStatusError(status, answer, body))
	}
	v, err := datadogPickValue(body, s.meta.LastAvailablePointOffset, s.meta.QueryAggregator)
	if errors.Is(err, errDatadogNoData) {
		return s.fillOr(s.client.fail(&u, err))
	}
	if err != nil {
		return 0, s.client.fail(&u, err)
	}
	return v, nil
}

// apiStatusError words an answer of Datadog's API outside 200 with Datadog's own reasons: its
// {"errors":[...]} body, and for 429 the rate limit its X-RateLimit headers describe.
func (s *datadogScaler) apiStatusError(status int, answer http.Header, body []byte) error {
	e := &httpStatusError{code: status}
	var err error
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		err = fmt.Errorf("%w: Datadog refused the keys: check apiKey and appKey in the TriggerAuthentication (the application key needs the timeseries_query scope) and that datadogSite is your account's site", e)
	case http.StatusTooManyRequests:
		header := func(name string) string {
			if v := answer.Get(name); v != "" {
				return clip(v, 20)
			}
			return "?"
		}
		err = fmt.Errorf("%w: the Datadog account reached its rate limit of %s queries per %s seconds, which resets in %s seconds: raise pollingInterval or share queries between triggers",
			e, header("X-RateLimit-Limit"), header("X-RateLimit-Period"), header("X-RateLimit-Reset"))
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		err = fmt.Errorf("%w: Datadog refused the query: check metadata.query", e)
	default:
		err = e
	}
	if reason := datadogErrors(body); reason != "" {
		err = fmt.Errorf("%w (Datadog: %s)", err, reason)
	}
	return err
}

// datadogErrors is the reasons of an error answer of Datadog's API ({"errors": ["..."]}), or the
// start of an answer of another shape.
func datadogErrors(body []byte) string {
	var answer struct {
		Errors []string `json:"errors"`
	}
	text := string(body)
	if json.Unmarshal(body, &answer) == nil && len(answer.Errors) > 0 {
		text = strings.Join(answer.Errors, "; ")
	}
	return clip(strings.Join(strings.Fields(text), " "), 200)
}

// readAgent reads the DatadogMetric's value from the Cluster Agent.
func (s *datadogScaler) readAgent(ctx context.Context) (float64, error) {
	u := *s.meta.baseURL
	u.Path += "/namespaces/" + s.meta.DatadogMetricNamespace + "/" + s.metricName
	status, body, err := s.client.send(ctx, http.MethodGet, &u, http.Header{"Accept": {"application/json"}}, nil)
	if err != nil {
		return 0, err
	}
	if status == http.StatusUnprocessableEntity && s.meta.MetricUnavailableValue != nil {
		return *s.meta.MetricUnavailableValue, nil
	}
	if status != http.StatusOK {
		e := s.client.statusError(&httpStatusError{code: status, body: body})
		if status == http.StatusNotFound {
			e = fmt.Errorf("%w: check that the DatadogMetric %s/%s exists and the Cluster Agent serves external metrics", e, s.meta.DatadogMetricNamespace, s.meta.DatadogMetricName)
		}
		return 0, s.client.fail(&u, e)
	}
	v, err := datadogAgentValue(body)
	if errors.Is(err, errDatadogNoData) {
		return s.fillOr(s.client.fail(&u, errors.New("the Cluster Agent returned no value for the DatadogMetric: check its status, or set metadata.metricUnavailableValue")))
	}
	if err != nil {
		return 0, s.client.fail(&u, err)
	}
	return v, nil
}

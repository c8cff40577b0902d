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

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The datadog trigger reads a metric in one of two ways, as KEDA's does: a metrics query through
// Datadog's public API (GET /api/v1/query, the API and application keys in headers), or, with
// useClusterAgentProxy, a DatadogMetric through the Datadog Cluster Agent's external metrics API.

// datadogQueryPath is the path of Datadog's v1 timeseries query endpoint.
const datadogQueryPath = "/api/v1/query"

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
		return 0, fmt.Errorf("the answer is not Datadog's query response: %s", meta.Clip(err.Error(), 120))
	}
	if a.Status == "error" {
		msg := a.Error
		if msg == "" {
			msg = "no reason given"
		}
		return 0, fmt.Errorf("Datadog refused the query: %s: check metadata.query", meta.Clip(msg, 200))
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
		return 0, fmt.Errorf("the answer is not an external metric value list: %s", meta.Clip(err.Error(), 120))
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
			return 0, fmt.Errorf("the metric's value %s is not a quantity", meta.Quote(text, 40))
		}
		v = q.AsApproximateFloat64()
	default:
		return 0, fmt.Errorf("the metric's value is not a number or a quantity but %s", meta.Clip(string(raw), 40))
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("the metric's value is %g", v)
	}
	return v, nil
}

// datadogScaler polls Datadog's API or the Cluster Agent once a poll.
type datadogScaler struct {
	cfg        *Config
	meta       meta.DatadogMetadata
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
	s.metricName = s.meta.MetricName
	if !s.meta.UseClusterAgentProxy {
		s.metricName = MetricName(cfg.TriggerIndex, s.meta.MetricName)
	}
	p := s.meta.HTTPAuthParams
	// KEDA skips certificate checks only towards the Cluster Agent.
	unsafeSSL := s.meta.UnsafeSsl && s.meta.UseClusterAgentProxy
	s.client = newHTTPClient(cfg, &p, s.meta.Auth, "datadogSite", s.meta.BaseURL, s.meta.ResolvedTimeout, unsafeSSL)
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
	return oneMetricSpec(s.cfg, s.metricName, s.meta.Target)
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
	u := *s.meta.BaseURL
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
				return meta.Clip(v, 20)
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
	return meta.Clip(strings.Join(strings.Fields(text), " "), 200)
}

// readAgent reads the DatadogMetric's value from the Cluster Agent.
func (s *datadogScaler) readAgent(ctx context.Context) (float64, error) {
	u := *s.meta.BaseURL
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

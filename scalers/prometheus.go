package scalers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// prometheusScaler runs one PromQL instant query per poll.
type prometheusScaler struct {
	cfg        *Config
	meta       meta.PrometheusMetadata
	client     *httpClient
	metricName string
}

func newPrometheusScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &prometheusScaler{cfg: cfg, metricName: MetricName(cfg.TriggerIndex, "prometheus")}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	p := s.meta.HTTPAuthParams
	s.client = newHTTPClient(cfg, &p, s.meta.Auth, "serverAddress", s.meta.QueryURL, s.meta.ResolvedTimeout, s.meta.UnsafeSsl)
	return s, nil
}

func (s *prometheusScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, s.meta.Threshold)
}

// GetMetricsAndActivity runs the query once; the trigger is active when its value is above
// activationThreshold.
func (s *prometheusScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	v, err := s.query(ctx)
	if err != nil {
		return nil, false, err
	}
	return oneMetricValue(metricName, v), v > s.meta.ActivationThreshold, nil
}

func (s *prometheusScaler) Close(context.Context) error {
	s.client.close()
	return nil
}

// query asks /api/v1/query for the query's value now.
func (s *prometheusScaler) query(ctx context.Context) (float64, error) {
	u := *s.meta.QueryURL
	q := url.Values{}
	for k, v := range s.meta.Params {
		q[k] = v
	}
	// No time parameter: Prometheus evaluates at its own now, which neither a clock skew nor
	// KEDA's whole-second timestamps can put before its latest scrape.
	q.Set("query", s.meta.Query)
	u.RawQuery = q.Encode()
	body, err := s.client.get(ctx, &u, s.meta.Headers)
	var statusErr *httpStatusError
	if err != nil && !errors.As(err, &statusErr) {
		return 0, err
	}
	// Prometheus answers a bad query with 400 and its reason in the envelope: the envelope's
	// words, when there is one, say more than the status code.
	resp, perr := parsePromAnswer(body)
	if perr != nil {
		if errors.Is(perr, errNotPromAnswer) && err != nil {
			return 0, err
		}
		return 0, s.fail(perr.Error())
	}
	if err != nil {
		return 0, err
	}
	if r, ok := requestFrom(ctx); ok && r.EmptyResponse != nil && noSample(resp) {
		r.EmptyResponse(r, s.meta.IgnoreNullValues)
	}
	v, perr := promValue(resp, s.meta.IgnoreNullValues)
	if perr != nil {
		return 0, s.fail(perr.Error())
	}
	return v, nil
}

// queryDialect words the answers of a Prometheus-style query API (Prometheus' /api/v1/query,
// Loki's /loki/api/v1/query) for the server that gave them: the envelope and the result shapes
// are the same, the advice is not.
type queryDialect struct {
	// server names the server in errors: Prometheus, Loki.
	server string
	// notAnswer is the error for a body that is no envelope of the server's API.
	notAnswer error
	// noSample says why a query may return no sample, for the error when ignoreNullValues is off.
	noSample string
	// notFinite is the fix for a value that is not a finite number.
	notFinite string
	// streams is the fix for a query that returned log lines; empty when the server has none.
	streams string
}

// promDialect words the answers of Prometheus and the servers that speak its API.
var promDialect = &queryDialect{
	server:    "Prometheus",
	notAnswer: errNotPromAnswer,
	noSample:  "is the scraped target lost?",
	notFinite: "make metadata.query return a number (e.g. guard a division with clamp_min or `or vector(0)`)",
}

// errNotPromAnswer: the body is no envelope of Prometheus' HTTP API.
var errNotPromAnswer = errors.New("the answer is not a Prometheus API response: check that metadata.serverAddress is the Prometheus server's address (without /api/v1/query)")

// parsePromAnswer reads the envelope of an answer of /api/v1/query; a rejected query is an error
// with Prometheus' reason.
func parsePromAnswer(body []byte) (*promResponse, error) {
	return parseQueryAnswer(body, promDialect)
}

// parseQueryAnswer reads the envelope of an answer of a Prometheus-style query API; a rejected
// query is an error with the server's reason.
func parseQueryAnswer(body []byte, d *queryDialect) (*promResponse, error) {
	var resp promResponse
	if err := json.Unmarshal(body, &resp); err != nil || resp.Status == "" {
		return nil, d.notAnswer
	}
	if resp.Status != "success" {
		return nil, fmt.Errorf("%s rejected the query (%s: %s): check metadata.query", d.server, meta.Clip(resp.ErrorType, 80), meta.Clip(resp.Error, 400))
	}
	return &resp, nil
}

// promAnswerValue is the query's value in a 2xx answer of /api/v1/query, as a poll reads it.
func promAnswerValue(body []byte, ignoreNullValues bool) (float64, error) {
	resp, err := parsePromAnswer(body)
	if err != nil {
		return 0, err
	}
	return promValue(resp, ignoreNullValues)
}

// promResponse is the envelope of Prometheus' HTTP API.
type promResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// noSample reports whether a vector answer holds no sample (KEDA's empty upstream response).
func noSample(resp *promResponse) bool {
	if resp.Data.ResultType != "vector" {
		return false
	}
	var samples []json.RawMessage
	return json.Unmarshal(resp.Data.Result, &samples) == nil && len(samples) == 0
}

// promValue reads the query's single number, worded for Prometheus (see queryValue).
func promValue(resp *promResponse, ignoreNullValues bool) (float64, error) {
	return queryValue(resp, ignoreNullValues, promDialect)
}

// queryValue reads the query's single number: a vector of one sample or a scalar. No sample is 0
// when ignoreNullValues is on; more than one sample, a range vector, log lines or a value that is
// not a finite number are errors.
func queryValue(resp *promResponse, ignoreNullValues bool, d *queryDialect) (float64, error) {
	if resp.Data.ResultType == "streams" && d.streams != "" {
		return 0, errors.New("the query returned log lines, not a number: " + d.streams)
	}
	var raw any
	switch resp.Data.ResultType {
	case "vector":
		var samples []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(resp.Data.Result, &samples); err != nil {
			return 0, errors.New("could not read the vector result: " + err.Error())
		}
		switch len(samples) {
		case 0:
			if ignoreNullValues {
				return 0, nil
			}
			return 0, fmt.Errorf("the query returned no sample (%s): check metadata.query, or set metadata.ignoreNullValues \"true\" to read no sample as 0", d.noSample)
		case 1:
			raw = samples[0].Value[1]
		default:
			series := make([]string, 0, 3)
			for _, smp := range samples[:min(3, len(samples))] {
				series = append(series, seriesName(smp.Metric))
			}
			more := ""
			if len(samples) > 3 {
				more = ", ..."
			}
			return 0, fmt.Errorf("the query returned %d series (%s%s), not one: aggregate metadata.query to one, e.g. sum(...)", len(samples), strings.Join(series, ", "), more)
		}
	case "scalar":
		var sample [2]any
		if err := json.Unmarshal(resp.Data.Result, &sample); err != nil {
			return 0, errors.New("could not read the scalar result: " + err.Error())
		}
		raw = sample[1]
	case "matrix":
		return 0, errors.New("the query returned a range vector: make metadata.query an instant one, e.g. rate(x[2m]) instead of x[2m]")
	default:
		return 0, fmt.Errorf("the query returned a %s, not a number: make metadata.query return one number", meta.Clip(resp.Data.ResultType, 40))
	}
	str, ok := raw.(string)
	if !ok {
		return 0, fmt.Errorf("the sample's value %s is not a number", meta.Clip(fmt.Sprint(raw), 60))
	}
	v, err := strconv.ParseFloat(str, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("the query returned %s, not a finite number: %s", meta.Clip(str, 60), d.notFinite)
	}
	return v, nil
}

// fail names the trigger and the query.
func (s *prometheusScaler) fail(problem string) error {
	return s.client.redactErr(fmt.Errorf("%s: query %q on %s: %s", triggerWho(s.cfg), s.meta.Query, s.meta.QueryURL.Redacted(), problem))
}

// seriesName renders a sample's labels as name{a="b"}.
func seriesName(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		if k != "__name__" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+strconv.Quote(labels[k]))
	}
	// The labels are the server's: an error shows at most a line of them.
	return meta.Clip(labels["__name__"]+"{"+strings.Join(parts, ",")+"}", 200)
}

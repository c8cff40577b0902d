package scalers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The dynatrace trigger reads one number from a Dynatrace environment, in one of two ways:
//
//	metricSelector: GET  {host}/api/v2/metrics/query?metricSelector=...&from=...   (Api-Token auth)
//	query (DQL):    POST {host}/platform/storage/query/v1/query:execute, then
//	                GET  {host}/platform/storage/query/v1/query:poll?request-token=... (Bearer auth)

// The states of a DQL query, as Grail's query API reports them.
const (
	dqlNotStarted = "NOT_STARTED"
	dqlRunning    = "RUNNING"
	dqlSucceeded  = "SUCCEEDED"
	dqlFailed     = "FAILED"
	dqlCancelled  = "CANCELLED"
	dqlResultGone = "RESULT_GONE"
)

// dynatraceEndpoint is path under the host's own path, so that a host given with a trailing
// slash or a path prefix (an ActiveGate's /e/{environment-id}) works as KEDA's joining does.
func dynatraceEndpoint(host *url.URL, path string) *url.URL {
	u := *host
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	u.Path = strings.TrimRight(u.Path, "/") + path
	return &u
}

// dynatraceMetricsAnswer is the part of the Metrics API v2 query answer the trigger reads.
// Values are pointers: Dynatrace writes null for a time slot without data.
type dynatraceMetricsAnswer struct {
	Result *[]struct {
		MetricID string `json:"metricId"`
		Data     []struct {
			Values []*float64 `json:"values"`
		} `json:"data"`
	} `json:"result"`
}

// dynatraceMetricsValue is the trigger's value in a 2xx answer of the Metrics API: like KEDA,
// the first value of the first series of the first metric. With a range of several time slots
// that is the oldest one, which is why KEDA's docs fold the selector (:fold) to one value.
func dynatraceMetricsValue(body []byte) (float64, error) {
	var a dynatraceMetricsAnswer
	if err := json.Unmarshal(body, &a); err != nil || a.Result == nil {
		return 0, errors.New("the answer is not a Dynatrace Metrics API v2 query result: check that metadata.host is the environment's address (https://{id}.live.dynatrace.com)")
	}
	switch {
	case len(*a.Result) == 0:
		return 0, errors.New("the answer has no metric: check metadata.metricSelector")
	case len((*a.Result)[0].Data) == 0:
		return 0, errors.New("the metric has no series in the range: check metadata.metricSelector's filters and metadata.from")
	case len((*a.Result)[0].Data[0].Values) == 0:
		return 0, errors.New("the metric's first series has no value in the range: widen metadata.from")
	}
	v := (*a.Result)[0].Data[0].Values[0]
	if v == nil {
		// A slot without data: KEDA reads it as 0.
		return 0, nil
	}
	return *v, nil
}

// dqlAnswer is the part of a DQL execute or poll answer the trigger reads.
type dqlAnswer struct {
	State        string `json:"state"`
	RequestToken string `json:"requestToken"`
	Result       *struct {
		Records []map[string]json.RawMessage `json:"records"`
	} `json:"result"`
}

// dqlPollValue reads a 2xx answer of the poll endpoint: done reports whether the query has
// finished, and then v is field r of its first record, as KEDA reads it.
func dqlPollValue(body []byte) (v float64, done bool, err error) {
	var a dqlAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, false, errors.New("the answer is not a Dynatrace DQL query result: check that metadata.host is the environment's platform address (https://{id}.apps.dynatrace.com)")
	}
	switch a.State {
	case dqlNotStarted, dqlRunning:
		return 0, false, nil
	case dqlSucceeded:
	case dqlFailed:
		return 0, true, errors.New("the DQL query failed: check metadata.query in a Dynatrace notebook")
	case dqlCancelled:
		return 0, true, errors.New("the DQL query was cancelled by Dynatrace")
	case dqlResultGone:
		return 0, true, errors.New("the DQL query's result expired before it was read: lower metadata.queryPollingWait")
	default:
		return 0, true, fmt.Errorf("the DQL query is in state %s, which is not one of Grail's query states", meta.Quote(a.State, 40))
	}
	if a.Result == nil || len(a.Result.Records) == 0 {
		return 0, true, errors.New("the DQL query returned no record: make metadata.query return one record with a field r")
	}
	raw, ok := a.Result.Records[0]["r"]
	if !ok {
		return 0, true, errors.New("the DQL query's first record has no field r: name the value r, e.g. | summarize r = count()")
	}
	var r *float64
	if err := json.Unmarshal(raw, &r); err != nil {
		return 0, true, fmt.Errorf("field r of the DQL query's first record is %s, not a number", meta.Clip(string(raw), 40))
	}
	if r == nil {
		return 0, true, nil
	}
	return *r, true, nil
}

// dynatraceScaler reads the metric or runs the DQL query once per poll.
type dynatraceScaler struct {
	cfg        *Config
	meta       meta.DynatraceMetadata
	client     *httpClient
	metricName string
	// dqlBody is the execute request's JSON, built once.
	dqlBody []byte
}

func newDynatraceScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &dynatraceScaler{cfg: cfg, metricName: MetricName(cfg.TriggerIndex, "dynatrace")}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	if s.meta.Query != "" {
		body, err := json.Marshal(struct {
			Query               string `json:"query"`
			FetchTimeoutSeconds int    `json:"fetchTimeoutSeconds"`
		}{s.meta.Query, s.meta.QueryTimeoutSeconds})
		if err != nil {
			return nil, fmt.Errorf("%s: could not encode metadata.query: %w", triggerWho(cfg), err)
		}
		s.dqlBody = body
	}
	// The token is the trigger's own header; the transport is the one every HTTP trigger
	// without TLS options shares. The token is listed so that no error can show it.
	p := meta.HTTPAuthParams{Token: s.meta.Token}
	s.client = newHTTPClient(cfg, &p, &meta.HTTPAuth{}, "host", s.meta.HostURL, 0, false)
	return s, nil
}

func (s *dynatraceScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	spec, err := ExternalMetricSpec(s.cfg, s.metricName, s.meta.Threshold)
	if err != nil {
		return nil
	}
	return []autoscalingv2.MetricSpec{spec}
}

// GetMetricsAndActivity reads the value once; the trigger is active above activationThreshold.
func (s *dynatraceScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	var v float64
	var err error
	if s.meta.MetricSelector != "" {
		v, err = s.metricValue(ctx)
	} else {
		v, err = s.queryValue(ctx)
	}
	if err != nil {
		return nil, false, err
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, false, fmt.Errorf("%s: Dynatrace returned %g, which is not a value to scale on", triggerWho(s.cfg), v)
	}
	return []external_metrics.ExternalMetricValue{{MetricName: metricName, Value: *floatQuantity(v)}}, v > s.meta.ActivationThreshold, nil
}

func (s *dynatraceScaler) Close(context.Context) error {
	s.client.close()
	return nil
}

// metricValue asks the Metrics API v2 for the selector's data points.
func (s *dynatraceScaler) metricValue(ctx context.Context) (float64, error) {
	u := dynatraceEndpoint(s.meta.HostURL, meta.DynatraceMetricsPath)
	u.RawQuery = url.Values{"metricSelector": {s.meta.MetricSelector}, "from": {s.meta.From}}.Encode()
	header := http.Header{"Authorization": {"Api-Token " + s.meta.Token}, "Accept": {"application/json"}}
	status, body, err := s.client.send(ctx, http.MethodGet, u, header, nil)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, s.client.fail(u, s.statusError(status, body, "metrics.read"))
	}
	v, err := dynatraceMetricsValue(body)
	if err != nil {
		return 0, s.client.redactErr(fmt.Errorf("%s: metricSelector %s on %s: %w", triggerWho(s.cfg), meta.Quote(s.meta.MetricSelector, 200), s.meta.HostURL.Redacted(), err))
	}
	return v, nil
}

// queryValue starts the DQL query and polls for its result up to queryPollingTries times,
// queryPollingWait apart.
func (s *dynatraceScaler) queryValue(ctx context.Context) (float64, error) {
	header := http.Header{"Authorization": {"Bearer " + s.meta.Token}, "Accept": {"application/json"}}
	execURL := dynatraceEndpoint(s.meta.HostURL, meta.DynatraceDQLPath+":execute")
	execHeader := header.Clone()
	execHeader.Set("Content-Type", "application/json")
	status, body, err := s.client.send(ctx, http.MethodPost, execURL, execHeader, s.dqlBody)
	if err != nil {
		return 0, err
	}
	if status != http.StatusAccepted && status != http.StatusOK {
		return 0, s.client.failOn(http.MethodPost, execURL, s.statusError(status, body, "storage:*:read"))
	}
	var started dqlAnswer
	if err := json.Unmarshal(body, &started); err != nil || started.RequestToken == "" {
		return 0, s.client.failOn(http.MethodPost, execURL, errors.New("the answer has no requestToken: check that metadata.host is the environment's platform address"))
	}
	switch started.State {
	case dqlNotStarted, dqlRunning, dqlSucceeded:
	default:
		return 0, s.client.failOn(http.MethodPost, execURL, fmt.Errorf("the DQL query did not start (state %s)", meta.Quote(started.State, 40)))
	}
	pollURL := dynatraceEndpoint(s.meta.HostURL, meta.DynatraceDQLPath+":poll")
	pollURL.RawQuery = url.Values{"request-token": {started.RequestToken}}.Encode()
	for try := 0; try < s.meta.QueryPollingTries; try++ {
		if try > 0 {
			t := time.NewTimer(s.meta.QueryPollingWait)
			select {
			case <-ctx.Done():
				t.Stop()
				return 0, fmt.Errorf("%s: waiting for the DQL query's result: %w", triggerWho(s.cfg), ctx.Err())
			case <-t.C:
			}
		}
		status, body, err := s.client.send(ctx, http.MethodGet, pollURL, header, nil)
		if err != nil {
			return 0, err
		}
		if status != http.StatusOK {
			return 0, s.client.fail(pollURL, s.statusError(status, body, "storage:*:read"))
		}
		v, done, err := dqlPollValue(body)
		if err != nil {
			return 0, s.client.redactErr(fmt.Errorf("%s: query %s on %s: %w", triggerWho(s.cfg), meta.Quote(s.meta.Query, 200), s.meta.HostURL.Redacted(), err))
		}
		if done {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%s: the DQL query had no result after %d polls %s apart: raise metadata.queryPollingTries or metadata.queryPollingWait",
		triggerWho(s.cfg), s.meta.QueryPollingTries, s.meta.QueryPollingWait)
}

// dynatraceErrorBody is Dynatrace's error answer: {"error":{"code":401,"message":"..."}}.
type dynatraceErrorBody struct {
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// statusError words an answer outside the expected status with Dynatrace's own message and
// the fix; scope is the token scope the endpoint needs. The caller's fail removes the token.
func (s *dynatraceScaler) statusError(status int, body []byte, scope string) error {
	err := fmt.Errorf("Dynatrace answered %d %s", status, http.StatusText(status)) //nolint:staticcheck // Dynatrace is a name
	var e dynatraceErrorBody
	if json.Unmarshal(body, &e) == nil && e.Error != nil && e.Error.Message != "" {
		err = fmt.Errorf("%w (%s)", err, meta.Quote(strings.Join(strings.Fields(e.Error.Message), " "), 200))
	} else if snippet := strings.Join(strings.Fields(string(body)), " "); snippet != "" {
		err = fmt.Errorf("%w (answer: %s)", err, meta.Clip(snippet, 200))
	}
	switch status {
	case http.StatusUnauthorized:
		return fmt.Errorf("%w: check parameter token in the TriggerAuthentication", err)
	case http.StatusForbidden:
		return fmt.Errorf("%w: give the token the %s scope", err, scope)
	case http.StatusBadRequest:
		if s.meta.MetricSelector != "" {
			return fmt.Errorf("%w: check metadata.metricSelector and metadata.from", err)
		}
		return fmt.Errorf("%w: check metadata.query", err)
	case http.StatusNotFound:
		if s.meta.MetricSelector != "" {
			return fmt.Errorf("%w: check the metric key in metadata.metricSelector, and metadata.host (the environment's address, without an API path)", err)
		}
		return fmt.Errorf("%w: check metadata.host (the environment's platform address, without an API path)", err)
	}
	return err
}

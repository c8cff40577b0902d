package scalers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The graphite trigger reads one number from graphite-web's render API:
//
//	GET {serverAddress}/render?target={query}&from={queryTime}&format=json
//
// and takes the most recent non-null point of the one series the query names.

// graphiteSeries is one series of the render API's JSON: datapoints are [value, timestamp]
// pairs, oldest first, with null values where the series had no point.
type graphiteSeries struct {
	Target     string           `json:"target"`
	Datapoints [][]*json.Number `json:"datapoints"`
}

// errGraphiteNotAnswer: the body is not the render API's JSON.
var errGraphiteNotAnswer = errors.New("the answer is not graphite-web's render JSON: check that metadata.serverAddress is graphite-web's address (the trigger adds /render)")

// graphiteAnswerValue is the query's value in a 2xx answer of the render API: the most recent
// non-null point of the one series, or 0 when the query matched no series or the series has no
// points (as KEDA reads it).
func graphiteAnswerValue(body []byte) (float64, error) {
	var series []graphiteSeries
	if err := json.Unmarshal(body, &series); err != nil {
		return 0, errGraphiteNotAnswer
	}
	switch len(series) {
	case 0:
		return 0, nil
	case 1:
	default:
		return 0, fmt.Errorf("the query matched %d series (%s, ...): make metadata.query return one series, e.g. wrap it in sumSeries()",
			len(series), meta.Quote(series[0].Target, 80))
	}
	points := series[0].Datapoints
	if len(points) == 0 {
		return 0, nil
	}
	for i := len(points) - 1; i >= 0; i-- {
		if len(points[i]) == 0 || points[i][0] == nil {
			continue
		}
		v, err := points[i][0].Float64()
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("the last point is %s, not a finite number", meta.Quote(points[i][0].String(), 40))
		}
		return v, nil
	}
	return 0, errors.New("every point in the range is null: widen metadata.queryTime (e.g. -10min) or check that metadata.query names a series that gets points")
}

// graphiteScaler runs one render query per poll.
type graphiteScaler struct {
	cfg        *Config
	meta       meta.GraphiteMetadata
	client     *httpClient
	metricName string
}

func newGraphiteScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &graphiteScaler{cfg: cfg, metricName: MetricName(cfg.TriggerIndex, "graphite")}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	p := s.meta.HTTPAuthParams
	// The graphite trigger has no timeout parameter: the operator's HTTP timeout bounds each query.
	s.client = newHTTPClient(cfg, &p, s.meta.Auth, "serverAddress", s.meta.RenderURL, 0, false)
	return s, nil
}

func (s *graphiteScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, s.meta.Threshold)
}

// GetMetricsAndActivity runs the query once; the trigger is active when its value is above
// activationThreshold.
func (s *graphiteScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	v, err := s.query(ctx)
	if err != nil {
		return nil, false, err
	}
	return oneMetricValue(metricName, v), v > s.meta.ActivationThreshold, nil
}

func (s *graphiteScaler) Close(context.Context) error {
	s.client.close()
	return nil
}

// query asks the render API for the query's points in queryTime.
func (s *graphiteScaler) query(ctx context.Context) (float64, error) {
	u := graphiteQueryURL(s.meta.RenderURL, s.meta.Query, s.meta.QueryTime)
	status, body, err := s.client.send(ctx, http.MethodGet, u, nil, nil)
	if err != nil {
		return 0, err
	}
	if status < 200 || status > 299 {
		err := s.client.statusError(&httpStatusError{code: status, body: body})
		if status == http.StatusBadRequest || status == http.StatusInternalServerError {
			// graphite-web answers a target it cannot parse or evaluate with 400 or 500.
			err = fmt.Errorf("%w: graphite-web could not evaluate the target: check metadata.query and metadata.queryTime", err)
		}
		return 0, s.client.fail(s.meta.RenderURL, err)
	}
	v, err := graphiteAnswerValue(body)
	if err != nil {
		return 0, s.client.redactErr(fmt.Errorf("%s: query %s on %s: %w", triggerWho(s.cfg), meta.Quote(s.meta.Query, 200), s.meta.RenderURL.Redacted(), err))
	}
	return v, nil
}

// graphiteQueryURL is the render request for target over the range from now back to from.
func graphiteQueryURL(render *url.URL, target, from string) *url.URL {
	u := *render
	u.RawQuery = url.Values{"target": {target}, "from": {from}, "format": {"json"}}.Encode()
	return &u
}

package scalers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// couchDBScaler counts the documents a Mango query finds, with one POST /{db}/_find per poll.
// KEDA reaches CouchDB through the kivik client; this speaks the same HTTP API on the shared
// transport.
type couchDBScaler struct {
	cfg        *Config
	meta       meta.CouchDBMetadata
	client     *httpClient
	findURL    *url.URL
	metricName string
}

func newCouchDBScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &couchDBScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	// KEDA's metric name, its spelling kept: coucdb-<dbName>.
	s.metricName = MetricName(cfg.TriggerIndex, "coucdb-"+s.meta.DBName)
	s.findURL = meta.CouchDBFindURL(s.meta.Server, s.meta.DBName)
	p := meta.HTTPAuthParams{Username: s.meta.User, Password: s.meta.Pass}
	auth := &meta.HTTPAuth{}
	if s.meta.User != "" || s.meta.Pass != "" {
		auth = &meta.HTTPAuth{Modes: []string{meta.AuthModeBasic}, Username: s.meta.User, Password: s.meta.Pass}
	}
	addrParam := "host"
	if s.meta.ConnectionString != "" {
		addrParam = "connectionString"
	}
	s.client = newHTTPClient(cfg, &p, auth, addrParam, s.meta.Server, 0, false)
	return s, nil
}

func (s *couchDBScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, float64(s.meta.QueryValue))
}

// GetMetricsAndActivity counts the documents the query finds; the trigger is active when
// there are more than activationQueryValue.
func (s *couchDBScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	n, err := s.find(ctx)
	if err != nil {
		return nil, false, err
	}
	return oneMetricValue(metricName, float64(n)), n > s.meta.ActivationQueryValue, nil
}

func (s *couchDBScaler) Close(context.Context) error {
	s.client.close()
	return nil
}

// find posts the query and counts the documents of the answer.
func (s *couchDBScaler) find(ctx context.Context) (int64, error) {
	header := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	status, body, err := s.client.send(ctx, http.MethodPost, s.findURL, header, s.meta.FindBody)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, s.client.failOn(http.MethodPost, s.findURL, s.statusError(status, body))
	}
	n, err := couchDBFound(body)
	if err != nil {
		return 0, s.client.failOn(http.MethodPost, s.findURL, err)
	}
	return n, nil
}

// statusError words CouchDB's refusals ({"error":..,"reason":..}).
func (s *couchDBScaler) statusError(status int, body []byte) error {
	err := s.client.statusError(&httpStatusError{code: status, body: body})
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	switch {
	case status == http.StatusNotFound:
		return fmt.Errorf("%w: CouchDB has no database %q: check dbName", err, s.meta.DBName)
	case status == http.StatusBadRequest:
		return fmt.Errorf("%w: CouchDB refused the query: check metadata.query (a Mango query)", err)
	}
	return err
}

var errCouchDBNotAnswer = errors.New("the answer is not a CouchDB _find response (no docs): check that the address is CouchDB's")

// couchDBFound counts the docs of a _find answer.
func couchDBFound(body []byte) (int64, error) {
	var a struct {
		Docs []json.RawMessage `json:"docs"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, fmt.Errorf("%w: %w", errCouchDBNotAnswer, err)
	}
	if a.Docs == nil {
		return 0, errCouchDBNotAnswer
	}
	return int64(len(a.Docs)), nil
}

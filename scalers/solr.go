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

// solrScaler counts the documents of a collection that match a query, with one request to the
// collection's select handler per poll.
type solrScaler struct {
	cfg        *Config
	meta       meta.SolrMetadata
	client     *httpClient
	metricName string
}

func newSolrScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &solrScaler{cfg: cfg, metricName: MetricName(cfg.TriggerIndex, "solr")}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	// KEDA sends the basic credentials on every request; the trigger has no TLS parameters.
	p := meta.HTTPAuthParams{Username: s.meta.Username, Password: s.meta.Password}
	auth := &meta.HTTPAuth{Modes: []string{meta.AuthModeBasic}, Username: s.meta.Username, Password: s.meta.Password}
	s.client = newHTTPClient(cfg, &p, auth, "host", s.meta.SelectURL, 0, false)
	return s, nil
}

func (s *solrScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, s.meta.TargetQueryValue)
}

// GetMetricsAndActivity asks Solr for the number of matching documents; the trigger is active
// when it is above activationTargetQueryValue.
func (s *solrScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	n, err := s.numFound(ctx)
	if err != nil {
		return nil, false, err
	}
	return oneMetricValue(metricName, n), n > s.meta.ActivationTargetQueryValue, nil
}

func (s *solrScaler) Close(context.Context) error {
	s.client.close()
	return nil
}

// numFound sends KEDA's query: q and wt=json, nothing else (Solr's default rows=10 returns a
// few documents beside the count, as it does for KEDA).
func (s *solrScaler) numFound(ctx context.Context) (float64, error) {
	u := *s.meta.SelectURL
	u.RawQuery = url.Values{"q": {s.meta.Query}, "wt": {"json"}}.Encode()
	status, body, err := s.client.send(ctx, http.MethodGet, &u, nil, nil)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		// Solr's error JSON also decodes to a numFound of 0: only a 200 is a count, or an
		// outage would scale the workload to zero.
		return 0, s.client.fail(&u, s.statusError(status, body))
	}
	n, err := solrNumFound(body)
	if err != nil {
		return 0, s.client.fail(&u, err)
	}
	return n, nil
}

// statusError words an answer other than 200 with Solr's own message when it gave one.
func (s *solrScaler) statusError(status int, body []byte) error {
	err := s.client.statusError(&httpStatusError{code: status, body: body})
	msg := solrErrorMessage(body)
	switch {
	case status == http.StatusNotFound:
		return fmt.Errorf("%w: Solr has no collection or core %q: check metadata.collection and metadata.host", err, s.meta.Collection)
	case status == http.StatusBadRequest && msg != "":
		return fmt.Errorf("%w: Solr refused the query: check metadata.query (Solr's standard query syntax)", err)
	}
	return err
}

// solrAnswer is the part of a select answer (wt=json) the trigger reads.
type solrAnswer struct {
	Response *struct {
		NumFound *int64 `json:"numFound"`
	} `json:"response"`
	Error *struct {
		Msg string `json:"msg"`
	} `json:"error"`
}

var errSolrNotAnswer = errors.New("the answer is not a Solr select response (no response.numFound): check that metadata.host is Solr's address")

// solrNumFound reads response.numFound from a select answer.
func solrNumFound(body []byte) (float64, error) {
	var a solrAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, fmt.Errorf("%w: %w", errSolrNotAnswer, err)
	}
	if a.Response == nil || a.Response.NumFound == nil {
		return 0, errSolrNotAnswer
	}
	if *a.Response.NumFound < 0 {
		return 0, fmt.Errorf("Solr reported %d matching documents", *a.Response.NumFound)
	}
	return float64(*a.Response.NumFound), nil
}

// solrErrorMessage is error.msg of Solr's error JSON, or "".
func solrErrorMessage(body []byte) string {
	var a solrAnswer
	if json.Unmarshal(body, &a) != nil || a.Error == nil {
		return ""
	}
	return a.Error.Msg
}

package scalers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
	"github.com/tidwall/gjson"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The elasticsearch and opensearch triggers run one search per poll and read a number out of
// the answer at valueLocation (a GJSON path, such as hits.total.value):
//
//	POST /{index,...}/_search/template  {"id": searchTemplateName, "params": {...}}
//	POST /{index,...}/_search           the query, as written
//
// OpenSearch kept Elasticsearch's search API, so both triggers share this file's query, request
// and answer; they differ in how they reach the cluster (Elastic Cloud's cloudID with an API key,
// or OpenSearch's client certificates) and in the words of their errors.

// searchMetricName is KEDA's: s<index>-<engine>-<template> (normalized), or s<index>-<engine>-query.
func searchMetricName(q *meta.SearchQueryParams, index int, engine string) string {
	if q.SearchTemplateName != "" {
		return MetricName(index, engine+"-"+q.SearchTemplateName)
	}
	return MetricName(index, engine+"-query")
}

// searchValue reads the number at location (a GJSON path) in a search's answer: a number, or a
// string holding one. Null or nothing at location is 0 with ignoreNullValues, else an error.
func searchValue(body []byte, location string, ignoreNullValues bool) (float64, error) {
	if !gjson.ValidBytes(body) {
		start := strings.TrimSpace(string(body))
		return 0, fmt.Errorf("the answer is not JSON (it starts with %s): check metadata.addresses", meta.Quote(start, 60))
	}
	r := gjson.GetBytes(body, location)
	var v float64
	switch r.Type {
	case gjson.Number:
		v = r.Num
	case gjson.String:
		f, err := strconv.ParseFloat(strings.TrimSpace(r.Str), 64)
		if err != nil {
			return 0, fmt.Errorf("valueLocation %s holds %s, not a number: check metadata.valueLocation against the answer", meta.Quote(location, 200), meta.Quote(r.Str, 40))
		}
		v = f
	case gjson.Null:
		if ignoreNullValues {
			return 0, nil
		}
		what := "is null"
		if !r.Exists() {
			what = "matches nothing in the answer"
		}
		return 0, fmt.Errorf("valueLocation %s %s: check metadata.valueLocation against the answer, or set metadata.ignoreNullValues \"true\" to read it as 0", meta.Quote(location, 200), what)
	default:
		kind := map[gjson.Type]string{gjson.True: "a boolean", gjson.False: "a boolean", gjson.JSON: "an object or array"}[r.Type]
		return 0, fmt.Errorf("valueLocation %s is %s, not a number: check metadata.valueLocation against the answer", meta.Quote(location, 200), kind)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("valueLocation %s holds %g, not a finite number: check metadata.valueLocation", meta.Quote(location, 200), v)
	}
	return v, nil
}

// searchErrorReason is what an error answer says: Elasticsearch's and OpenSearch's
// {"error":{"type":..., "reason":...}} (the first root cause when the error has no reason), an
// {"error":"..."} string, or the start of a text answer (OpenSearch's security plugin answers
// 401 with plain "Unauthorized").
func searchErrorReason(body []byte) string {
	if gjson.ValidBytes(body) {
		e := gjson.GetBytes(body, "error")
		switch {
		case e.Type == gjson.String:
			return meta.Clip(oneLine(e.Str), 200)
		case e.IsObject():
			typ, reason := e.Get("type").String(), e.Get("reason").String()
			if reason == "" {
				typ, reason = e.Get("root_cause.0.type").String(), e.Get("root_cause.0.reason").String()
			}
			if typ != "" && reason != "" {
				return meta.Clip(oneLine(typ+": "+reason), 200)
			}
			if typ+reason != "" {
				return meta.Clip(oneLine(typ+reason), 200)
			}
		}
		if m := gjson.GetBytes(body, "message"); m.Type == gjson.String {
			return meta.Clip(oneLine(m.Str), 200)
		}
	}
	return meta.Clip(oneLine(string(body)), 200)
}

// oneLine folds every run of white space into one blank.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// searchScaler is an elasticsearch or opensearch trigger: one search per poll.
type searchScaler struct {
	cfg        *Config
	engine     string // Elasticsearch or OpenSearch, in errors
	addrs      []*url.URL
	req        *meta.SearchRequest
	query      meta.SearchQueryParams
	client     *httpClient
	metricName string
	// credentials names, for a refused request, what to check.
	credentials string
}

func newElasticsearchScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m meta.ElasticsearchMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	creds := "username and password"
	if m.CloudID != "" {
		creds = "apiKey"
	}
	return newSearchScaler(cfg, "Elasticsearch", "elasticsearch", m.SearchQueryParams, m.Addrs, m.Req, &m.Creds, m.Auth, m.UnsafeSsl, creds), nil
}

func newOpenSearchScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m meta.OpensearchMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	creds := "username and password"
	if m.EnableTLS {
		creds = "clientCert and clientKey"
	}
	return newSearchScaler(cfg, "OpenSearch", "opensearch", m.SearchQueryParams, m.Addrs, m.Req, &m.Creds, m.Auth, m.UnsafeSsl, creds), nil
}

func newSearchScaler(cfg *Config, engine, metricPrefix string, q meta.SearchQueryParams, addrs []*url.URL, req *meta.SearchRequest,
	creds *meta.HTTPAuthParams, auth *meta.HTTPAuth, unsafeSSL bool, credentials string) *searchScaler {
	s := &searchScaler{cfg: cfg, engine: engine, addrs: addrs, req: req, query: q, metricName: searchMetricName(&q, cfg.TriggerIndex, metricPrefix), credentials: credentials}
	// One transport per TLS identity, shared with every trigger that has it; several addresses
	// are several hosts of the one transport.
	s.client = newHTTPClient(cfg, creds, auth, "addresses", addrs[0], 0, unsafeSSL)
	for _, u := range addrs[1:] {
		if pw, ok := u.User.Password(); ok {
			s.client.secrets = append(s.client.secrets, pw, url.PathEscape(pw))
		}
	}
	return s
}

func (s *searchScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, s.query.TargetValue)
}

// GetMetricsAndActivity runs the search once; the trigger is active when the value is above
// activationTargetValue.
func (s *searchScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	v, err := s.search(ctx)
	if err != nil {
		return nil, false, err
	}
	return oneMetricValue(metricName, v), v > s.query.ActivationTargetValue, nil
}

func (s *searchScaler) Close(context.Context) error {
	s.client.close()
	return nil
}

// search asks the addresses in order until one answers: a node that cannot be reached, or that
// answers 502, 503 or 504 (a proxy without a live node behind it), passes the search to the next.
func (s *searchScaler) search(ctx context.Context) (float64, error) {
	header := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	var errs []error
	for _, addr := range s.addrs {
		u := *addr
		u.Path = addr.Path + "/" + s.req.Path
		u.RawPath = addr.EscapedPath() + "/" + s.req.Path
		status, body, err := s.client.send(ctx, http.MethodPost, &u, header, s.req.Body)
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		switch {
		case status >= 200 && status <= 299:
			v, err := searchValue(body, s.query.ValueLocation, s.query.IgnoreNullValues)
			if err != nil {
				return 0, s.client.failOn(http.MethodPost, &u, err)
			}
			return v, nil
		case status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
			errs = append(errs, s.client.failOn(http.MethodPost, &u, s.statusError(status, body)))
			continue
		default:
			return 0, s.client.failOn(http.MethodPost, &u, s.statusError(status, body))
		}
	}
	return 0, errors.Join(errs...)
}

// statusError words an answer outside 2xx with what to check and the server's own reason.
func (s *searchScaler) statusError(status int, body []byte) error {
	e := fmt.Errorf("%s answered %d %s", s.engine, status, http.StatusText(status))
	if reason := searchErrorReason(body); reason != "" {
		e = fmt.Errorf("%w (%s)", e, s.client.redactErr(errors.New(reason)).Error())
	}
	switch {
	case status == http.StatusUnauthorized:
		return fmt.Errorf("%w: %s refused the credentials: check %s in the TriggerAuthentication", e, s.engine, s.credentials)
	case status == http.StatusForbidden:
		return fmt.Errorf("%w: the user may not search these indices: grant it the read privilege on metadata.index", e)
	case status == http.StatusNotFound && s.query.SearchTemplateName != "" && strings.Contains(string(body), "script"):
		return fmt.Errorf("%w: no stored search template %q: check metadata.searchTemplateName, or store it with PUT _scripts/%s", e, s.query.SearchTemplateName, s.query.SearchTemplateName)
	case status == http.StatusNotFound:
		return fmt.Errorf("%w: check metadata.index (and the path in metadata.addresses)", e)
	case status == http.StatusBadRequest && s.query.SearchTemplateName != "":
		return fmt.Errorf("%w: the template refused metadata.parameters or renders no valid search: check them with POST _render/template", e)
	case status == http.StatusBadRequest:
		return fmt.Errorf("%w: check metadata.query", e)
	}
	return e
}

package scalers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

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

// searchQueryParams are the parameters both triggers declare alike in KEDA.
type searchQueryParams struct {
	Index                 []string `keda:"name=index, order=authParams;triggerMetadata, separator=;"`
	SearchTemplateName    string   `keda:"name=searchTemplateName, order=authParams;triggerMetadata, optional"`
	Query                 string   `keda:"name=query, order=authParams;triggerMetadata, optional"`
	Parameters            []string `keda:"name=parameters, order=triggerMetadata, optional, separator=;"`
	ValueLocation         string   `keda:"name=valueLocation, order=authParams;triggerMetadata"`
	TargetValue           float64  `keda:"name=targetValue, order=authParams;triggerMetadata"`
	ActivationTargetValue float64  `keda:"name=activationTargetValue, order=triggerMetadata, default=0"`
	IgnoreNullValues      bool     `keda:"name=ignoreNullValues, order=triggerMetadata, default=false"`
	// MetricName is accepted as KEDA accepts it; KEDA names the metric after the template
	// whatever it says, and so do we.
	MetricName string `keda:"name=metricName, order=triggerMetadata, optional"`
}

// searchRequest is a prepared search: the path under each address and the body.
type searchRequest struct {
	path string
	body []byte
}

// validate checks the query parameters and prepares the request.
func (q *searchQueryParams) validate() (*searchRequest, error) {
	if len(q.Index) == 0 {
		return nil, &ParamError{Param: "index", Problem: "names no index", Fix: "name the indices to search, separated by ';', such as logs-app;logs-web"}
	}
	switch {
	case q.SearchTemplateName == "" && q.Query == "":
		return nil, &ParamError{Param: "searchTemplateName", Problem: "is required (or query)",
			Fix: "set metadata.searchTemplateName to a stored search template's id, or metadata.query to a search request body"}
	case q.SearchTemplateName != "" && q.Query != "":
		return nil, &ParamError{Param: "query", Problem: "is set with searchTemplateName", Fix: "keep one: a stored template (searchTemplateName, with parameters) or an inline query"}
	}
	if q.TargetValue <= 0 {
		return nil, &ParamError{Param: "targetValue", Problem: fmt.Sprintf("is %g", q.TargetValue), Fix: "must be above 0: it is the value per replica the HPA aims at"}
	}
	if strings.TrimSpace(q.ValueLocation) == "" {
		return nil, &ParamError{Param: "valueLocation", Problem: "is empty", Fix: "use a GJSON path into the search's answer, such as hits.total.value"}
	}
	escaped := make([]string, len(q.Index))
	for i, name := range q.Index {
		// A wildcard stays one, as Elasticsearch's own clients send it.
		escaped[i] = strings.ReplaceAll(url.PathEscape(name), "%2A", "*")
	}
	req := &searchRequest{path: strings.Join(escaped, ",") + "/_search"}
	if q.Query != "" {
		// Checked here rather than at each poll: the body must be one JSON object.
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(q.Query), &obj); err != nil {
			return nil, &ParamError{Param: "query", Problem: "is not a JSON object (" + clip(err.Error(), 120) + ")",
				Fix: `write the search request body, such as {"query":{"match_all":{}}}`}
		}
		req.body = []byte(q.Query)
		return req, nil
	}
	params, err := searchTemplateParams(q.Parameters)
	if err != nil {
		return nil, err
	}
	body := map[string]any{"id": q.SearchTemplateName}
	if len(params) > 0 {
		body["params"] = params
	}
	// A map of strings always encodes.
	req.body, _ = json.Marshal(body)
	req.path += "/template"
	return req, nil
}

// searchTemplateParams reads parameters, "key:value" items: the template's Mustache variables,
// each a string (a value may hold ':' itself).
func searchTemplateParams(items []string) (map[string]string, error) {
	params := map[string]string{}
	for _, item := range items {
		k, v, ok := strings.Cut(item, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, &ParamError{Param: "parameters", Problem: "has " + strconv.Quote(clip(item, 80)) + ", which is not key:value",
				Fix: "use key:value items separated by ';', such as service:api;env:prod"}
		}
		params[k] = v
	}
	return params, nil
}

// metricName is KEDA's: s<index>-<engine>-<template> (normalized), or s<index>-<engine>-query.
func (q *searchQueryParams) metricName(index int, engine string) string {
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
		return 0, fmt.Errorf("the answer is not JSON (it starts with %q): check metadata.addresses", clip(start, 60))
	}
	r := gjson.GetBytes(body, location)
	var v float64
	switch r.Type {
	case gjson.Number:
		v = r.Num
	case gjson.String:
		f, err := strconv.ParseFloat(strings.TrimSpace(r.Str), 64)
		if err != nil {
			return 0, fmt.Errorf("valueLocation %q holds %q, not a number: check metadata.valueLocation against the answer", clip(location, 200), clip(r.Str, 40))
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
		return 0, fmt.Errorf("valueLocation %q %s: check metadata.valueLocation against the answer, or set metadata.ignoreNullValues \"true\" to read it as 0", clip(location, 200), what)
	default:
		kind := map[gjson.Type]string{gjson.True: "a boolean", gjson.False: "a boolean", gjson.JSON: "an object or array"}[r.Type]
		return 0, fmt.Errorf("valueLocation %q is %s, not a number: check metadata.valueLocation against the answer", clip(location, 200), kind)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("valueLocation %q holds %g, not a finite number: check metadata.valueLocation", clip(location, 200), v)
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
			return clip(oneLine(e.Str), 200)
		case e.IsObject():
			typ, reason := e.Get("type").String(), e.Get("reason").String()
			if reason == "" {
				typ, reason = e.Get("root_cause.0.type").String(), e.Get("root_cause.0.reason").String()
			}
			if typ != "" && reason != "" {
				return clip(oneLine(typ+": "+reason), 200)
			}
			if typ+reason != "" {
				return clip(oneLine(typ+reason), 200)
			}
		}
		if m := gjson.GetBytes(body, "message"); m.Type == gjson.String {
			return clip(oneLine(m.Str), 200)
		}
	}
	return clip(oneLine(string(body)), 200)
}

// oneLine folds every run of white space into one blank.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// elasticCloudAddress is the HTTPS address of an Elastic Cloud deployment's Elasticsearch: a
// cloud ID is "<name>:<base64 of host[:port]$es-id$kibana-id>", and the cluster answers at
// https://<es-id>.<host>[:port].
func elasticCloudAddress(cloudID string) (*url.URL, error) {
	i := strings.LastIndexByte(cloudID, ':')
	if i < 0 {
		return nil, errors.New("has no ':' between the deployment's name and its encoded address")
	}
	enc := strings.TrimSpace(cloudID[i+1:])
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(enc); err != nil {
			return nil, errors.New("has no base64 after the last ':'")
		}
	}
	parts := strings.Split(string(raw), "$")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return nil, errors.New("does not decode to host$elasticsearch-id$kibana-id")
	}
	u, err := url.Parse("https://" + parts[1] + "." + parts[0])
	if err != nil || u.Host == "" || u.Path != "" || u.User != nil {
		return nil, errors.New("does not decode to a host name")
	}
	return u, nil
}

// searchAddresses parses addresses (http(s) URLs of the cluster's nodes), keeping any path prefix
// of a reverse proxy.
func searchAddresses(items []string) ([]*url.URL, error) {
	out := make([]*url.URL, 0, len(items))
	for _, item := range items {
		u, err := httpURL("addresses", item, "https://elasticsearch.search:9200 (several separated by commas)")
		if err != nil {
			return nil, err
		}
		u.Path = strings.TrimSuffix(u.Path, "/")
		u.RawPath, u.RawQuery, u.Fragment = "", "", ""
		out = append(out, u)
	}
	return out, nil
}

// elasticsearchMetadata is the elasticsearch trigger's metadata, with KEDA's parameter names.
type elasticsearchMetadata struct {
	Addresses []string `keda:"name=addresses, order=authParams;triggerMetadata, optional"`
	UnsafeSsl bool     `keda:"name=unsafeSsl, order=triggerMetadata, default=false"`
	Username  string   `keda:"name=username, order=authParams;triggerMetadata, optional"`
	Password  string   `keda:"name=password, order=authParams;resolvedEnv;triggerMetadata, optional, secret"`
	CloudID   string   `keda:"name=cloudID, order=authParams;triggerMetadata, optional"`
	APIKey    string   `keda:"name=apiKey, order=authParams;triggerMetadata, optional, secret"`
	searchQueryParams

	// Set by Validate.
	addrs []*url.URL
	req   *searchRequest
	auth  *httpAuth
	creds httpAuthParams
}

// Validate checks the connection parameters (addresses with username and password, or cloudID
// with apiKey, as KEDA has them) and the query.
func (m *elasticsearchMetadata) Validate() error {
	// The query first: offline, a missing credential ends validation.
	var err error
	if m.req, err = m.searchQueryParams.validate(); err != nil {
		return err
	}
	cloud := m.CloudID != "" || m.APIKey != ""
	direct := len(m.Addresses) > 0 || m.Username != "" || m.Password != ""
	switch {
	case cloud && direct:
		return &ParamError{Param: "cloudID", Problem: "and apiKey are set with addresses, username or password",
			Fix: "keep one way in: cloudID with apiKey (Elastic Cloud), or addresses with username and password"}
	case !cloud && !direct:
		return &ParamError{Param: "addresses", Problem: "is required (or cloudID with apiKey)",
			Fix: "set metadata.addresses to the cluster's URL, with username and password in a TriggerAuthentication; or cloudID and apiKey for Elastic Cloud"}
	case cloud && m.CloudID == "":
		return &ParamError{Param: "cloudID", Problem: "is required with apiKey", Fix: "set metadata.cloudID to the deployment's Cloud ID from the Elastic Cloud console"}
	case cloud && m.APIKey == "":
		return &ParamError{Param: "apiKey", Problem: "is required with cloudID", Fix: "set parameter apiKey (the encoded API key) in a TriggerAuthentication"}
	case direct && len(m.Addresses) == 0:
		return &ParamError{Param: "addresses", Problem: "is required with username and password", Fix: "set metadata.addresses to the cluster's URL, such as https://elasticsearch.search:9200"}
	case direct && m.Username == "":
		return &ParamError{Param: "username", Problem: "is required with addresses", Fix: "set parameter username (and password) in a TriggerAuthentication"}
	case direct && m.Password == "":
		return &ParamError{Param: "password", Problem: "is required with addresses", Fix: "set parameter password in a TriggerAuthentication (secretTargetRef)"}
	}
	if cloud {
		u, cerr := elasticCloudAddress(m.CloudID)
		if cerr != nil {
			return &ParamError{Param: "cloudID", Problem: cerr.Error(), Fix: "copy the deployment's Cloud ID, whole, from the Elastic Cloud console"}
		}
		m.addrs = []*url.URL{u}
		// Elasticsearch takes an API key as "Authorization: ApiKey <encoded id:key>".
		m.creds = httpAuthParams{AuthModes: []string{authModeCustom}, CustomAuthHeader: "Authorization", CustomAuthValue: "ApiKey " + m.APIKey, APIKey: m.APIKey}
	} else {
		if m.addrs, err = searchAddresses(m.Addresses); err != nil {
			return err
		}
		m.creds = httpAuthParams{AuthModes: []string{authModeBasic}, Username: m.Username, Password: m.Password}
	}
	m.auth, err = m.creds.validate()
	return err
}

// opensearchMetadata is the opensearch trigger's metadata, with KEDA's parameter names.
type opensearchMetadata struct {
	Addresses  []string `keda:"name=addresses, order=authParams;triggerMetadata"`
	UnsafeSsl  bool     `keda:"name=unsafeSsl, order=triggerMetadata, default=false"`
	EnableTLS  bool     `keda:"name=enableTLS, order=triggerMetadata;authParams, default=false"`
	Username   string   `keda:"name=username, order=authParams;triggerMetadata, optional"`
	Password   string   `keda:"name=password, order=authParams;resolvedEnv;triggerMetadata, optional, secret"`
	CACert     string   `keda:"name=caCert, order=authParams;triggerMetadata, optional"`
	ClientCert string   `keda:"name=clientCert, order=authParams;triggerMetadata, optional"`
	ClientKey  string   `keda:"name=clientKey, order=authParams;triggerMetadata, optional, secret"`
	searchQueryParams

	// Set by Validate.
	addrs []*url.URL
	req   *searchRequest
	auth  *httpAuth
	creds httpAuthParams
}

// Validate checks the connection parameters (client certificates with enableTLS, else username
// and password, as KEDA has them) and the query.
func (m *opensearchMetadata) Validate() error {
	// The query first: offline, a missing credential ends validation.
	var err error
	if m.req, err = m.searchQueryParams.validate(); err != nil {
		return err
	}
	if m.addrs, err = searchAddresses(m.Addresses); err != nil {
		return err
	}
	if len(m.addrs) == 0 {
		return &ParamError{Param: "addresses", Problem: "names no address", Fix: "set metadata.addresses to the cluster's URL, such as https://opensearch.search:9200"}
	}
	if m.EnableTLS {
		if m.ClientCert == "" {
			return &ParamError{Param: "clientCert", Problem: "is required with enableTLS", Fix: "set parameters clientCert and clientKey (PEM) in a TriggerAuthentication, or enableTLS \"false\" for username and password"}
		}
		if m.ClientKey == "" {
			return &ParamError{Param: "clientKey", Problem: "is required with enableTLS", Fix: "set parameter clientKey (the client certificate's PEM private key) in a TriggerAuthentication"}
		}
	} else {
		if m.Username == "" {
			return &ParamError{Param: "username", Problem: "is required (or enableTLS with client certificates)", Fix: "set parameter username (and password) in a TriggerAuthentication"}
		}
		if m.Password == "" {
			return &ParamError{Param: "password", Problem: "is required with username", Fix: "set parameter password in a TriggerAuthentication (secretTargetRef)"}
		}
	}
	m.creds = httpAuthParams{CA: m.CACert}
	if m.EnableTLS {
		// The key may not be the certificate's: say so with KEDA's names, before the shared
		// check words it with the HTTP triggers' names.
		if _, err := tlsPair(m.ClientCert, m.ClientKey); err != nil {
			return &ParamError{Param: "clientCert", Problem: "and clientKey do not make a client certificate (" + err.Error() + ")",
				Fix: "put the PEM texts of the client certificate and of its private key in the TriggerAuthentication's clientCert and clientKey"}
		}
		m.creds.AuthModes, m.creds.Cert, m.creds.Key = []string{authModeTLS}, m.ClientCert, m.ClientKey
	} else {
		m.creds.AuthModes, m.creds.Username, m.creds.Password = []string{authModeBasic}, m.Username, m.Password
	}
	if m.CACert != "" && !pemHasCertificate(m.CACert) {
		return &ParamError{Param: "caCert", Problem: "holds no PEM certificate", Fix: "put the PEM text of the cluster's CA certificate (-----BEGIN CERTIFICATE-----) in the TriggerAuthentication's caCert"}
	}
	m.auth, err = m.creds.validate()
	return err
}

// tlsPair reads a client certificate and its key, both PEM.
func tlsPair(cert, key string) (tls.Certificate, error) {
	pair, err := tls.X509KeyPair([]byte(cert), []byte(key))
	if err != nil {
		// crypto/tls words it without either text.
		return tls.Certificate{}, errors.New(clip(err.Error(), 120))
	}
	return pair, nil
}

// pemHasCertificate reports whether text holds at least one PEM certificate.
func pemHasCertificate(text string) bool {
	return x509.NewCertPool().AppendCertsFromPEM([]byte(text))
}

// searchScaler is an elasticsearch or opensearch trigger: one search per poll.
type searchScaler struct {
	cfg        *Config
	engine     string // Elasticsearch or OpenSearch, in errors
	addrs      []*url.URL
	req        *searchRequest
	query      searchQueryParams
	client     *httpClient
	metricName string
	// credentials names, for a refused request, what to check.
	credentials string
}

func newElasticsearchScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m elasticsearchMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	creds := "username and password"
	if m.CloudID != "" {
		creds = "apiKey"
	}
	return newSearchScaler(cfg, "Elasticsearch", "elasticsearch", m.searchQueryParams, m.addrs, m.req, &m.creds, m.auth, m.UnsafeSsl, creds), nil
}

func newOpenSearchScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m opensearchMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	creds := "username and password"
	if m.EnableTLS {
		creds = "clientCert and clientKey"
	}
	return newSearchScaler(cfg, "OpenSearch", "opensearch", m.searchQueryParams, m.addrs, m.req, &m.creds, m.auth, m.UnsafeSsl, creds), nil
}

func newSearchScaler(cfg *Config, engine, metricPrefix string, q searchQueryParams, addrs []*url.URL, req *searchRequest,
	creds *httpAuthParams, auth *httpAuth, unsafeSSL bool, credentials string) *searchScaler {
	s := &searchScaler{cfg: cfg, engine: engine, addrs: addrs, req: req, query: q, metricName: q.metricName(cfg.TriggerIndex, metricPrefix), credentials: credentials}
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
		u.Path = addr.Path + "/" + s.req.path
		u.RawPath = addr.EscapedPath() + "/" + s.req.path
		status, body, err := s.client.send(ctx, http.MethodPost, &u, header, s.req.body)
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

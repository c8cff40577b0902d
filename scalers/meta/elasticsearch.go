package meta

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// SearchQueryParams are the parameters both triggers declare alike in KEDA.
type SearchQueryParams struct {
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

// SearchRequest is a prepared search: the path under each address and the body.
type SearchRequest struct {
	Path string
	Body []byte
}

// validate checks the query parameters and prepares the request.
func (q *SearchQueryParams) validate() (*SearchRequest, error) {
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
	req := &SearchRequest{Path: strings.Join(escaped, ",") + "/_search"}
	if q.Query != "" {
		// Checked here rather than at each poll: the body must be one JSON object.
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(q.Query), &obj); err != nil {
			return nil, &ParamError{Param: "query", Problem: "is not a JSON object (" + Clip(err.Error(), 120) + ")",
				Fix: `write the search request body, such as {"query":{"match_all":{}}}`}
		}
		req.Body = []byte(q.Query)
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
	req.Body, _ = json.Marshal(body)
	req.Path += "/template"
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
			return nil, &ParamError{Param: "parameters", Problem: "has " + Quote(item, 80) + ", which is not key:value",
				Fix: "use key:value items separated by ';', such as service:api;env:prod"}
		}
		params[k] = v
	}
	return params, nil
}

// ElasticCloudAddress is the HTTPS address of an Elastic Cloud deployment's Elasticsearch: a
// cloud ID is "<name>:<base64 of host[:port]$es-id$kibana-id>", and the cluster answers at
// https://<es-id>.<host>[:port].
func ElasticCloudAddress(cloudID string) (*url.URL, error) {
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

// ElasticsearchMetadata is the elasticsearch trigger's metadata, with KEDA's parameter names.
type ElasticsearchMetadata struct {
	Addresses []string `keda:"name=addresses, order=authParams;triggerMetadata, optional"`
	UnsafeSsl bool     `keda:"name=unsafeSsl, order=triggerMetadata, default=false"`
	Username  string   `keda:"name=username, order=authParams;triggerMetadata, optional"`
	Password  string   `keda:"name=password, order=authParams;resolvedEnv;triggerMetadata, optional, secret"`
	CloudID   string   `keda:"name=cloudID, order=authParams;triggerMetadata, optional"`
	APIKey    string   `keda:"name=apiKey, order=authParams;triggerMetadata, optional, secret"`
	SearchQueryParams

	// Set by Validate.
	Addrs []*url.URL
	Req   *SearchRequest
	Auth  *HTTPAuth
	Creds HTTPAuthParams
}

// Validate checks the connection parameters (addresses with username and password, or cloudID
// with apiKey, as KEDA has them) and the query.
func (m *ElasticsearchMetadata) Validate() error {
	// The query first: offline, a missing credential ends validation.
	var err error
	if m.Req, err = m.SearchQueryParams.validate(); err != nil {
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
		u, cerr := ElasticCloudAddress(m.CloudID)
		if cerr != nil {
			return &ParamError{Param: "cloudID", Problem: cerr.Error(), Fix: "copy the deployment's Cloud ID, whole, from the Elastic Cloud console"}
		}
		m.Addrs = []*url.URL{u}
		// Elasticsearch takes an API key as "Authorization: ApiKey <encoded id:key>".
		m.Creds = HTTPAuthParams{AuthModes: []string{AuthModeCustom}, CustomAuthHeader: "Authorization", CustomAuthValue: "ApiKey " + m.APIKey, APIKey: m.APIKey}
	} else {
		if m.Addrs, err = searchAddresses(m.Addresses); err != nil {
			return err
		}
		m.Creds = HTTPAuthParams{AuthModes: []string{AuthModeBasic}, Username: m.Username, Password: m.Password}
	}
	m.Auth, err = m.Creds.Validate()
	return err
}

// OpensearchMetadata is the opensearch trigger's metadata, with KEDA's parameter names.
type OpensearchMetadata struct {
	Addresses  []string `keda:"name=addresses, order=authParams;triggerMetadata"`
	UnsafeSsl  bool     `keda:"name=unsafeSsl, order=triggerMetadata, default=false"`
	EnableTLS  bool     `keda:"name=enableTLS, order=triggerMetadata;authParams, default=false"`
	Username   string   `keda:"name=username, order=authParams;triggerMetadata, optional"`
	Password   string   `keda:"name=password, order=authParams;resolvedEnv;triggerMetadata, optional, secret"`
	CACert     string   `keda:"name=caCert, order=authParams;triggerMetadata, optional"`
	ClientCert string   `keda:"name=clientCert, order=authParams;triggerMetadata, optional"`
	ClientKey  string   `keda:"name=clientKey, order=authParams;triggerMetadata, optional, secret"`
	SearchQueryParams

	// Set by Validate.
	Addrs []*url.URL
	Req   *SearchRequest
	Auth  *HTTPAuth
	Creds HTTPAuthParams
}

// Validate checks the connection parameters (client certificates with enableTLS, else username
// and password, as KEDA has them) and the query.
func (m *OpensearchMetadata) Validate() error {
	// The query first: offline, a missing credential ends validation.
	var err error
	if m.Req, err = m.SearchQueryParams.validate(); err != nil {
		return err
	}
	if m.Addrs, err = searchAddresses(m.Addresses); err != nil {
		return err
	}
	if len(m.Addrs) == 0 {
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
	m.Creds = HTTPAuthParams{CA: m.CACert}
	if m.EnableTLS {
		// The key may not be the certificate's: say so with KEDA's names, before the shared
		// check words it with the HTTP triggers' names.
		if _, err := tlsPair(m.ClientCert, m.ClientKey); err != nil {
			return &ParamError{Param: "clientCert", Problem: "and clientKey do not make a client certificate (" + err.Error() + ")",
				Fix: "put the PEM texts of the client certificate and of its private key in the TriggerAuthentication's clientCert and clientKey"}
		}
		m.Creds.AuthModes, m.Creds.Cert, m.Creds.Key = []string{authModeTLS}, m.ClientCert, m.ClientKey
	} else {
		m.Creds.AuthModes, m.Creds.Username, m.Creds.Password = []string{AuthModeBasic}, m.Username, m.Password
	}
	if m.CACert != "" && !pemHasCertificate(m.CACert) {
		return &ParamError{Param: "caCert", Problem: "holds no PEM certificate", Fix: "put the PEM text of the cluster's CA certificate (-----BEGIN CERTIFICATE-----) in the TriggerAuthentication's caCert"}
	}
	m.Auth, err = m.Creds.Validate()
	return err
}

// tlsPair reads a client certificate and its key, both PEM.
func tlsPair(cert, key string) (tls.Certificate, error) {
	pair, err := tls.X509KeyPair([]byte(cert), []byte(key))
	if err != nil {
		// crypto/tls words it without either text.
		return tls.Certificate{}, errors.New(Clip(err.Error(), 120))
	}
	return pair, nil
}

// pemHasCertificate reports whether text holds at least one PEM certificate.
func pemHasCertificate(text string) bool {
	return x509.NewCertPool().AppendCertsFromPEM([]byte(text))
}

package meta

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// PrometheusMetadata is the prometheus trigger's metadata, with KEDA's parameter names.
type PrometheusMetadata struct {
	ServerAddress       string   `keda:"name=serverAddress, order=triggerMetadata"`
	Query               string   `keda:"name=query, order=triggerMetadata"`
	QueryParameters     []string `keda:"name=queryParameters, order=triggerMetadata, optional"`
	Threshold           float64  `keda:"name=threshold, order=triggerMetadata"`
	ActivationThreshold float64  `keda:"name=activationThreshold, order=triggerMetadata, optional"`
	Namespace           string   `keda:"name=namespace, order=triggerMetadata, optional"`
	CustomHeaders       []string `keda:"name=customHeaders, order=triggerMetadata, optional"`
	IgnoreNullValues    bool     `keda:"name=ignoreNullValues, order=triggerMetadata, default=true"`
	UnsafeSsl           bool     `keda:"name=unsafeSsl, order=triggerMetadata, optional"`
	Timeout             string   `keda:"name=timeout, order=triggerMetadata, optional"`
	// AWSRegion and IdentityOwner serve KEDA's AWS pod identity (SigV4 signing for Amazon Managed
	// Prometheus). They are accepted as KEDA accepts them; without pod identity they change nothing.
	AWSRegion     string `keda:"name=awsRegion, order=triggerMetadata;authParams, optional"`
	IdentityOwner string `keda:"name=identityOwner, order=triggerMetadata, optional"`

	// The authentication parameters every HTTP scaler shares.
	HTTPAuthParams

	// Set by Validate.
	QueryURL        *url.URL
	Headers         http.Header
	Params          url.Values
	ResolvedTimeout time.Duration
	Auth            *HTTPAuth
}

// Validate checks the parameters and prepares the request. Parameters only the metadata holds
// are checked first: offline, a missing credential ends validation.
func (m *PrometheusMetadata) Validate() error {
	u, err := httpURL("serverAddress", m.ServerAddress, "http://prometheus.monitoring:9090")
	if err != nil {
		return err
	}
	// The query API sits under the server's address, which may carry a path prefix
	// (VictoriaMetrics' /select/0/prometheus, a reverse proxy's /prometheus).
	m.QueryURL = u.JoinPath("api", "v1", "query")
	if m.Threshold <= 0 {
		return &ParamError{Param: "threshold", Problem: fmt.Sprintf("is %g", m.Threshold), Fix: "must be above 0: it is the query value per replica the HPA aims at"}
	}
	headers, err := parseKeyValues("customHeaders", m.CustomHeaders, "X-Client-Id=cid,X-Tenant-Id=tid")
	if err != nil {
		return err
	}
	m.Headers = http.Header{}
	// In order, so that of several bad names the error always shows the same.
	for _, k := range slices.Sorted(maps.Keys(headers)) {
		v := headers[k]
		if !validHeaderName(k) {
			return &ParamError{Param: "customHeaders", Problem: "has " + strconv.Quote(k) + ", which is not an HTTP header name", Fix: "use a comma-separated list such as X-Client-Id=cid,X-Tenant-Id=tid"}
		}
		m.Headers.Set(k, v)
	}
	params, err := parseKeyValues("queryParameters", m.QueryParameters, "key-1=value-1,key-2=value-2")
	if err != nil {
		return err
	}
	m.Params = url.Values{}
	for k, v := range params {
		m.Params.Set(k, v)
	}
	if m.Namespace != "" {
		// Namespaced queries (Thanos' tenancy, prom-label-proxy) take it as a query parameter.
		m.Params.Set("namespace", m.Namespace)
	}
	if m.ResolvedTimeout, err = ParseTriggerTimeout(m.Timeout); err != nil {
		return err
	}
	p := m.HTTPAuthParams
	m.Auth, err = p.Validate()
	return err
}

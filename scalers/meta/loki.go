package meta

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// lokiQueryPath is Loki's instant query endpoint.
const lokiQueryPath = "/loki/api/v1/query"

// lokiTenantHeader carries the tenant of a multi-tenant Loki.
const lokiTenantHeader = "X-Scope-OrgID"

// LokiMetadata is the loki trigger's metadata, with KEDA's parameter names.
type LokiMetadata struct {
	ServerAddress       string  `keda:"name=serverAddress, order=triggerMetadata"`
	Query               string  `keda:"name=query, order=triggerMetadata"`
	Threshold           float64 `keda:"name=threshold, order=triggerMetadata"`
	ActivationThreshold float64 `keda:"name=activationThreshold, order=triggerMetadata, default=0"`
	TenantName          string  `keda:"name=tenantName, order=triggerMetadata, optional"`
	IgnoreNullValues    bool    `keda:"name=ignoreNullValues, order=triggerMetadata, default=true"`
	UnsafeSsl           bool    `keda:"name=unsafeSsl, order=triggerMetadata, default=false"`

	// The authentication parameters every HTTP scaler shares.
	HTTPAuthParams
	MetricSource

	// Set by Validate.
	QueryURL *url.URL
	Headers  http.Header
	Auth     *HTTPAuth
}

// Validate checks the parameters and prepares the request. Parameters only the metadata holds
// are checked first: offline, a missing credential ends validation.
func (m *LokiMetadata) Validate() error {
	u, err := httpURL("serverAddress", m.ServerAddress, "http://loki-gateway.monitoring:80")
	if err != nil {
		return err
	}
	m.QueryURL = LokiQueryURL(u)
	if m.AsMetricSource() {
		// A metric source of scalingModifiers: the HPA sees the formula's composite metric, not
		// this one, so the threshold is required (as KEDA requires it) but its value unused.
		m.Threshold = 0
	} else if m.Threshold <= 0 {
		return &ParamError{Param: "threshold", Problem: fmt.Sprintf("is %g", m.Threshold), Fix: "must be above 0: it is the query value per replica the HPA aims at"}
	}
	m.Headers = http.Header{}
	if m.TenantName != "" {
		if strings.ContainsAny(m.TenantName, "\r\n") {
			return &ParamError{Param: "tenantName", Problem: "holds a line break", Fix: "use the tenant ID Loki knows, such as team-a"}
		}
		m.Headers.Set(lokiTenantHeader, m.TenantName)
	}
	p := m.HTTPAuthParams
	m.Auth, err = p.Validate()
	return err
}

// LokiQueryURL is the query endpoint under the server's address. Like KEDA, it accepts the
// endpoint itself and any leading part of its path (http://loki/loki), so that addresses copied
// from a browser or a Grafana data source work.
func LokiQueryURL(server *url.URL) *url.URL {
	u := *server
	u.RawPath = ""
	p := strings.TrimRight(u.Path, "/")
	switch {
	case strings.HasSuffix(p, lokiQueryPath):
		u.Path = p
	case strings.HasPrefix(lokiQueryPath, p+"/"):
		u.Path = lokiQueryPath
	default:
		u.Path = path.Join(p, lokiQueryPath)
	}
	return &u
}

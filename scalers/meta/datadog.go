package meta

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// datadogSites (read only) are the Datadog sites KEDA's API client knows; each serves the API at
// https://api.<site>.
var datadogSites = []string{
	"datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "ap1.datadoghq.com", "ap2.datadoghq.com",
	"uk1.datadoghq.com", "datadoghq.eu", "ddog-gov.com", "us2.ddog-gov.com",
}

// DatadogMetadata is the datadog trigger's metadata, with KEDA's parameter names and sources.
type DatadogMetadata struct {
	// Datadog API mode.
	Query                    string  `keda:"name=query, order=triggerMetadata, optional"`
	QueryAggregator          string  `keda:"name=queryAggregator, order=triggerMetadata, optional, enum=average;max"`
	ActivationQueryValue     float64 `keda:"name=activationQueryValue, order=triggerMetadata, default=0"`
	Age                      int     `keda:"name=age, order=triggerMetadata, default=90"`
	TimeWindowOffset         int     `keda:"name=timeWindowOffset, order=triggerMetadata, default=0"`
	LastAvailablePointOffset int     `keda:"name=lastAvailablePointOffset, order=triggerMetadata, default=0"`
	AppKey                   string  `keda:"name=appKey, order=authParams, optional, secret"`
	DatadogSite              string  `keda:"name=datadogSite, order=authParams, default=datadoghq.com"`

	// Cluster Agent mode.
	UseClusterAgentProxy      bool    `keda:"name=useClusterAgentProxy, order=triggerMetadata, default=false"`
	DatadogMetricName         string  `keda:"name=datadogMetricName, order=triggerMetadata, optional"`
	DatadogMetricNamespace    string  `keda:"name=datadogMetricNamespace, order=triggerMetadata, optional"`
	ActivationTargetValue     float64 `keda:"name=activationTargetValue, order=triggerMetadata, default=0"`
	DatadogNamespace          string  `keda:"name=datadogNamespace, order=authParams, optional"`
	DatadogMetricsService     string  `keda:"name=datadogMetricsService, order=authParams, optional"`
	DatadogMetricsServicePort int     `keda:"name=datadogMetricsServicePort, order=authParams, default=8443"`
	UnsafeSsl                 bool    `keda:"name=unsafeSsl, order=authParams, default=false"`

	// Both modes. KEDA reads the target from targetValue, else queryValue; hpaMetricName is
	// accepted and, as in KEDA, replaced by the name KEDA derives.
	TargetValue            float64  `keda:"name=targetValue, order=triggerMetadata, default=-1"`
	QueryValue             float64  `keda:"name=queryValue, order=triggerMetadata, default=-1"`
	MetricUnavailableValue *float64 `keda:"name=metricUnavailableValue, order=triggerMetadata, optional"`
	HpaMetricName          string   `keda:"name=hpaMetricName, order=triggerMetadata, optional"`
	Timeout                string   `keda:"name=timeout, order=triggerMetadata, optional"`

	// KEDA's authentication parameters: apiKey is Datadog's API key in API mode; authModes
	// bearer (with bearerToken) authenticates to the Cluster Agent.
	HTTPAuthParams
	MetricSource

	// Set by Validate.
	Target          float64
	ResolvedTimeout time.Duration
	Auth            *HTTPAuth
	BaseURL         *url.URL
	MetricName      string // without the s<index>- prefix in API mode
}

// Validate checks the parameters of the mode useClusterAgentProxy picks.
func (m *DatadogMetadata) Validate() error {
	switch {
	case m.Age < 0:
		return &ParamError{Param: "age", Problem: fmt.Sprintf("is %d", m.Age), Fix: "use the query's window in seconds, 0 or more (90 by default; under 60 Datadog may have no point)"}
	case m.TimeWindowOffset < 0:
		return &ParamError{Param: "timeWindowOffset", Problem: fmt.Sprintf("is %d", m.TimeWindowOffset), Fix: "use seconds to shift the window back, 0 or more"}
	case m.LastAvailablePointOffset < 0:
		return &ParamError{Param: "lastAvailablePointOffset", Problem: fmt.Sprintf("is %d", m.LastAvailablePointOffset), Fix: "use how many points to skip from the last one, 0 or more"}
	}
	if m.Query != "" && !datadogQueryHasScope(m.Query) {
		return &ParamError{Param: "query", Problem: "has no scope in braces", Fix: "write a Datadog metric query with its scope, such as sum:trace.redis.command.hits{env:prod}.as_count()"}
	}
	var err error
	if m.ResolvedTimeout, err = ParseTriggerTimeout(m.Timeout); err != nil {
		return err
	}
	// The Cluster Agent takes a bearer token, and KEDA allows no other mode for this trigger.
	for _, list := range []struct {
		param string
		modes []string
	}{{"authModes", m.AuthModes}, {"authMode", m.AuthMode}} {
		for _, mode := range list.modes {
			if mode != AuthModeBearer {
				return &ParamError{Param: list.param, Problem: strconv.Quote(mode) + " is not allowed for this trigger",
					Fix: "use bearer (with bearerToken) for the Cluster Agent, or no authModes for Datadog's API (apiKey and appKey)"}
			}
		}
	}
	m.Target = m.TargetValue
	if m.Target == -1 {
		m.Target = m.QueryValue
	}
	if m.Target == -1 {
		if !m.AsMetricSource() {
			// Worded "is not set": offline, "is required" would pass for a parameter a
			// TriggerAuthentication could still supply, which this one cannot.
			return &ParamError{Param: "queryValue", Problem: "is not set", Fix: "set metadata.queryValue (or targetValue), the metric value per replica the HPA aims at"}
		}
		m.Target = 0
	}
	if m.UseClusterAgentProxy {
		return m.validateClusterAgent()
	}
	return m.validateAPI()
}

// validateAPI checks Datadog API mode: a query, the site and both keys.
func (m *DatadogMetadata) validateAPI() error {
	if m.Query == "" {
		return &ParamError{Param: "query", Problem: "is not set", Fix: "set metadata.query, a Datadog metric query such as avg:nginx.net.request_per_s{service:web}"}
	}
	base, err := datadogAPIBase(m.DatadogSite)
	if err != nil {
		return err
	}
	m.BaseURL = base
	m.MetricName = "datadog-" + m.Query[:strings.Index(m.Query, "{")]
	p := m.HTTPAuthParams
	// The keys travel in Datadog's own headers, never through authModes.
	p.AuthModes, p.AuthMode = nil, nil
	if m.Auth, err = p.Validate(); err != nil {
		return err
	}
	if m.AppKey == "" {
		return &ParamError{Param: "appKey", Problem: "is required", Fix: "set parameter appKey (a Datadog application key) in a TriggerAuthentication (secretTargetRef)"}
	}
	if m.APIKey == "" {
		return &ParamError{Param: "apiKey", Problem: "is required", Fix: "set parameter apiKey (a Datadog API key) in a TriggerAuthentication (secretTargetRef)"}
	}
	return nil
}

// validateClusterAgent checks Cluster Agent mode: where the agent's service is and which
// DatadogMetric to read.
func (m *DatadogMetadata) validateClusterAgent() error {
	// The metadata's own parameters are "not set"; those a TriggerAuthentication holds are
	// "required", which offline validation lets pass.
	for _, req := range []struct{ param, value, problem, fix string }{
		{"datadogMetricName", m.DatadogMetricName, "is not set", "set metadata.datadogMetricName, the name of the DatadogMetric object"},
		{"datadogMetricNamespace", m.DatadogMetricNamespace, "is not set", "set metadata.datadogMetricNamespace, the namespace of the DatadogMetric object"},
		{"datadogMetricsService", m.DatadogMetricsService, "is required", "set parameter datadogMetricsService (the Cluster Agent's metrics service, such as datadog-cluster-agent-metrics-api) in a TriggerAuthentication"},
		{"datadogNamespace", m.DatadogNamespace, "is required", "set parameter datadogNamespace (the Cluster Agent's namespace) in a TriggerAuthentication"},
	} {
		if req.value == "" {
			return &ParamError{Param: req.param, Problem: req.problem + " with useClusterAgentProxy", Fix: req.fix}
		}
	}
	if m.DatadogMetricsServicePort < 1 || m.DatadogMetricsServicePort > 65535 {
		return &ParamError{Param: "datadogMetricsServicePort", Problem: fmt.Sprintf("is %d", m.DatadogMetricsServicePort), Fix: "use the metrics service's port, 8443 by default"}
	}
	for _, name := range []struct{ param, value string }{
		{"datadogMetricsService", m.DatadogMetricsService}, {"datadogNamespace", m.DatadogNamespace},
		{"datadogMetricNamespace", m.DatadogMetricNamespace}, {"datadogMetricName", m.DatadogMetricName},
	} {
		if strings.ContainsAny(name.value, "/?#@: \t\r\n") {
			return &ParamError{Param: name.param, Problem: Quote(name.value, 80) + " is not a Kubernetes name", Fix: "use the object's name, such as datadog"}
		}
	}
	m.BaseURL = &url.URL{Scheme: "https", Host: fmt.Sprintf("%s.%s:%d", m.DatadogMetricsService, m.DatadogNamespace, m.DatadogMetricsServicePort),
		Path: "/apis/external.metrics.k8s.io/v1beta1"}
	// The Cluster Agent's name for a DatadogMetric, which KEDA also gives the HPA as it is.
	m.MetricName = "datadogmetric@" + m.DatadogMetricNamespace + ":" + m.DatadogMetricName
	var err error
	m.Auth, err = m.HTTPAuthParams.Validate()
	return err
}

// ValidateConfig checks KEDA's deprecated metadata.type (average or global) as KEDA 2.21 does:
// it may not be set along with spec.triggers[].metricType. Like KEDA 2.21, it does not change
// the HPA's target type, which metricType alone sets.
func (m *DatadogMetadata) ValidateConfig(cfg *Trigger) error {
	v, ok := cfg.Metadata["type"]
	if !ok {
		return nil
	}
	perr := func(problem, fix string) error {
		return &ParamError{TriggerIndex: cfg.Index, TriggerType: cfg.Type, TriggerName: cfg.Name, Param: "type", Problem: problem, Fix: fix}
	}
	if cfg.MetricType != "" {
		return perr("is set along with spec.triggers[].metricType", "remove metadata.type, which metricType replaces")
	}
	if t := strings.ToLower(v); t != "average" && t != "global" {
		return perr("is "+Quote(v, 40), "must be average or global; better, remove it and set spec.triggers[].metricType (AverageValue or Value)")
	}
	return nil
}

// datadogQueryHasScope reports whether q has a scope in braces, which every Datadog metric query
// needs ({*} for all).
func datadogQueryHasScope(q string) bool {
	open := strings.Index(q, "{")
	return open >= 0 && strings.Contains(q[open+1:], "}")
}

// datadogAPIBase is the API's address for a site: https://api.<site> for the sites Datadog
// runs. A site given as an http(s) URL is taken as the API's address itself (a proxy in front of
// Datadog, or a test's fake).
func datadogAPIBase(site string) (*url.URL, error) {
	if strings.HasPrefix(site, "http://") || strings.HasPrefix(site, "https://") {
		u, err := httpURL("datadogSite", site, "https://api.datadoghq.eu")
		if err != nil {
			return nil, err
		}
		u.Path = strings.TrimRight(u.Path, "/")
		return u, nil
	}
	if !slices.Contains(datadogSites, site) {
		return nil, &ParamError{Param: "datadogSite", Problem: Quote(site, 80) + " is not a Datadog site",
			Fix: "use the site of your Datadog account: one of " + strings.Join(datadogSites, ", ")}
	}
	return &url.URL{Scheme: "https", Host: "api." + site}, nil
}

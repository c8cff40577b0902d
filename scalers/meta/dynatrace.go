package meta

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

const (
	DynatraceMetricsPath = "/api/v2/metrics/query"
	DynatraceDQLPath     = "/platform/storage/query/v1/query"
	// dynatraceDefaultFrom is the range KEDA asks for when a metricSelector trigger sets no from.
	dynatraceDefaultFrom = "now-2h"
)

// DynatraceMetadata is the dynatrace trigger's metadata, with KEDA's parameter names.
type DynatraceMetadata struct {
	Host                string        `keda:"name=host, order=triggerMetadata;authParams"`
	Token               string        `keda:"name=token, order=authParams, secret"`
	MetricSelector      string        `keda:"name=metricSelector, order=triggerMetadata, optional"`
	Query               string        `keda:"name=query, order=triggerMetadata, optional"`
	QueryTimeoutSeconds int           `keda:"name=queryTimeoutSeconds, order=triggerMetadata, default=10"`
	QueryPollingWait    time.Duration `keda:"name=queryPollingWait, order=triggerMetadata, default=1s"`
	QueryPollingTries   int           `keda:"name=queryPollingTries, order=triggerMetadata, default=5"`
	From                string        `keda:"name=from, order=triggerMetadata, optional"`
	Threshold           float64       `keda:"name=threshold, order=triggerMetadata"`
	ActivationThreshold float64       `keda:"name=activationThreshold, order=triggerMetadata, optional"`

	// Set by Validate.
	HostURL *url.URL
}

// Validate checks the parameters together. The token is checked last: offline, where a
// TriggerAuthentication may hold it, its absence ends validation without hiding other mistakes.
func (m *DynatraceMetadata) Validate() error {
	u, err := httpURL("host", m.Host, "https://abc12345.live.dynatrace.com")
	if err != nil {
		return err
	}
	m.HostURL = u
	switch {
	case m.MetricSelector == "" && m.Query == "":
		return &ParamError{Param: "metricSelector", Problem: "and metadata.query are both unset", Fix: "set one: a metric selector such as builtin:service.requestCount.total:splitBy():fold, or a DQL query"}
	case m.MetricSelector != "" && m.Query != "":
		return &ParamError{Param: "metricSelector", Problem: "and metadata.query are both set", Fix: "keep one of them: a trigger reads either the Metrics API or a DQL query"}
	case m.Query != "" && m.From != "":
		return &ParamError{Param: "from", Problem: "is set with metadata.query", Fix: "remove it and put the time range in the DQL query itself"}
	case m.MetricSelector != "" && m.From == "":
		m.From = dynatraceDefaultFrom
	}
	if m.Query != "" {
		if m.QueryTimeoutSeconds <= 0 {
			return &ParamError{Param: "queryTimeoutSeconds", Problem: fmt.Sprintf("is %d", m.QueryTimeoutSeconds), Fix: "must be above 0: the seconds Dynatrace may spend fetching the query's data"}
		}
		if m.QueryPollingTries <= 0 {
			return &ParamError{Param: "queryPollingTries", Problem: fmt.Sprintf("is %d", m.QueryPollingTries), Fix: "must be at least 1: how often a poll asks for the query's result"}
		}
		if m.QueryPollingWait < 0 {
			return &ParamError{Param: "queryPollingWait", Problem: "is negative", Fix: "use a duration such as 1s"}
		}
	}
	if m.Threshold <= 0 {
		// KEDA passes 0 on to the HPA, which refuses it; here the trigger says so itself.
		return &ParamError{Param: "threshold", Problem: fmt.Sprintf("is %g", m.Threshold), Fix: "must be above 0: it is the value per replica the HPA aims at"}
	}
	if m.Token == "" {
		return &ParamError{Param: "token", Problem: "is required", Fix: "set parameter token (a Dynatrace access token) in the TriggerAuthentication (secretTargetRef)"}
	}
	if strings.ContainsAny(m.Token, "\r\n") {
		return &ParamError{Param: "token", Problem: "holds a line break", Fix: "store the token in its Secret without a trailing newline"}
	}
	return nil
}

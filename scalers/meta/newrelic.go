package meta

import (
	"fmt"
	"net/url"
	"strings"
)

// newRelicRegions are NerdGraph's addresses by region, as New Relic's Go client names the
// regions (any case).
var newRelicRegions = map[string]string{
	"us":      "https://api.newrelic.com/graphql",
	"eu":      "https://api.eu.newrelic.com/graphql",
	"jp":      "https://api.jp.newrelic.com/graphql",
	"gov":     "https://gov-api.newrelic.com/graphql",
	"fedramp": "https://gov-api.newrelic.com/graphql",
	"staging": "https://staging-api.newrelic.com/graphql",
	"local":   "http://localhost:3000/graphql",
}

// NewRelicMetadata is the new-relic trigger's metadata, with KEDA's parameter names.
type NewRelicMetadata struct {
	Account             int64   `keda:"name=account, order=authParams;triggerMetadata"`
	Region              string  `keda:"name=region, order=authParams;triggerMetadata, default=US"`
	QueryKey            string  `keda:"name=queryKey, order=authParams;triggerMetadata, secret"`
	NoDataError         bool    `keda:"name=noDataError, order=triggerMetadata, default=false"`
	NRQL                string  `keda:"name=nrql, order=triggerMetadata"`
	Threshold           float64 `keda:"name=threshold, order=triggerMetadata"`
	ActivationThreshold float64 `keda:"name=activationThreshold, order=triggerMetadata, default=0"`

	MetricSource

	// Set by Validate: the region's NerdGraph address.
	Endpoint *url.URL
}

// Validate checks what the metadata alone decides. The account and the key may come from a
// TriggerAuthentication, so offline their absence is not an error (ParseMetadata says so).
func (m *NewRelicMetadata) Validate() error {
	u, err := NewRelicEndpoint(m.Region)
	if err != nil {
		return err
	}
	m.Endpoint = u
	if m.Account < 0 {
		return &ParamError{Param: "account", Problem: fmt.Sprintf("is %d", m.Account), Fix: "use the numeric account ID shown in New Relic's account settings"}
	}
	if strings.TrimSpace(m.NRQL) == "" {
		return &ParamError{Param: "nrql", Problem: "is empty", Fix: "use a NRQL query that returns one number, such as SELECT count(*) FROM Transaction SINCE 1 minute ago"}
	}
	if m.AsMetricSource() {
		// The HPA scales on the scalingModifiers formula, not on this metric: the threshold is
		// required (as in KEDA) but unused.
		m.Threshold = 0
	} else if m.Threshold <= 0 {
		return &ParamError{Param: "threshold", Problem: fmt.Sprintf("is %g", m.Threshold), Fix: "must be above 0: it is the query value per replica the HPA aims at"}
	}
	return nil
}

// NewRelicEndpoint is NerdGraph's address for a region.
func NewRelicEndpoint(region string) (*url.URL, error) {
	raw, ok := newRelicRegions[strings.ToLower(strings.TrimSpace(region))]
	if !ok {
		return nil, &ParamError{Param: "region", Problem: Quote(region, 40) + " is not a New Relic region",
			Fix: "use US or EU (or JP, GOV), the region of the account's data center"}
	}
	return url.Parse(raw)
}

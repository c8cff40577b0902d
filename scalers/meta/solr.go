package meta

import (
	"fmt"
	"net/url"
	"strings"
)

// SolrMetadata is the solr trigger's metadata, with KEDA's parameter names.
type SolrMetadata struct {
	Host                       string  `keda:"name=host, order=triggerMetadata"`
	Collection                 string  `keda:"name=collection, order=triggerMetadata"`
	TargetQueryValue           float64 `keda:"name=targetQueryValue, order=triggerMetadata"`
	ActivationTargetQueryValue float64 `keda:"name=activationTargetQueryValue, order=triggerMetadata, default=0"`
	Query                      string  `keda:"name=query, order=triggerMetadata, optional"`
	Username                   string  `keda:"name=username, order=authParams;triggerMetadata"`
	Password                   string  `keda:"name=password, order=authParams;triggerMetadata, secret"`
	MetricSource

	// Set by Validate: the collection's select handler.
	SelectURL *url.URL
}

// solrMatchAll is the query KEDA sends when the trigger names none: every document.
const solrMatchAll = "*:*"

// Validate checks the parameters and builds the select URL. KEDA sends basic credentials on
// every request, so both are required.
func (m *SolrMetadata) Validate() error {
	u, err := httpURL("host", m.Host, "http://solr.search:8983")
	if err != nil {
		return err
	}
	if m.Collection == "" || strings.ContainsAny(m.Collection, "/?#") {
		return &ParamError{Param: "collection", Problem: fmt.Sprintf("%s is not a collection name", Quote(m.Collection, 80)), Fix: "name one collection (or core), such as my_collection"}
	}
	if m.AsMetricSource() {
		// A metric source of scalingModifiers: KEDA lets the target be 0 there.
	} else if m.TargetQueryValue <= 0 {
		return &ParamError{Param: "targetQueryValue", Problem: fmt.Sprintf("is %g", m.TargetQueryValue), Fix: "must be above 0: it is the number of matching documents per replica the HPA aims at"}
	}
	if m.Query == "" {
		m.Query = solrMatchAll
	}
	m.SelectURL = SolrSelectURL(u, m.Collection)
	return nil
}

// SolrSelectURL is the select handler of a collection as KEDA addresses it: host, then
// /solr/<collection>/select, without the query.
func SolrSelectURL(host *url.URL, collection string) *url.URL {
	u := *host
	u.RawPath = ""
	u.RawQuery = ""
	u.Path = strings.TrimRight(u.Path, "/") + "/solr/" + collection + "/select"
	return &u
}

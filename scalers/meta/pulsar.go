package meta

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// PulsarMetadata is the pulsar trigger's metadata, with KEDA's parameter names.
type PulsarMetadata struct {
	AdminURL                      string `keda:"name=adminURL, order=triggerMetadata;resolvedEnv"`
	Topic                         string `keda:"name=topic, order=triggerMetadata;resolvedEnv"`
	Subscription                  string `keda:"name=subscription, order=triggerMetadata;resolvedEnv"`
	MsgBacklogThreshold           int64  `keda:"name=msgBacklogThreshold, order=triggerMetadata, default=10"`
	ActivationMsgBacklogThreshold int64  `keda:"name=activationMsgBacklogThreshold, order=triggerMetadata, default=0"`
	IsPartitionedTopic            bool   `keda:"name=isPartitionedTopic, order=triggerMetadata, default=false"`
	// TLS "enable" with a client certificate turns authModes tls on, as older KEDA releases
	// configured mutual TLS.
	TLS string `keda:"name=tls, order=triggerMetadata, optional"`

	// The authentication parameters every HTTP scaler shares (bearer, basic, tls, oauth).
	HTTPAuthParams
	MetricSource

	// Set by Validate.
	StatsURL *url.URL
	Auth     *HTTPAuth
}

// Validate checks the parameters and builds the stats URL. Parameters only the metadata holds
// are checked first: offline, a missing credential ends validation.
func (m *PulsarMetadata) Validate() error {
	u, err := httpURL("adminURL", m.AdminURL, "http://pulsar-broker.pulsar:8080")
	if err != nil {
		return err
	}
	topic := strings.TrimPrefix(m.Topic, "persistent://")
	if parts := strings.Split(topic, "/"); len(parts) != 3 || slices.Contains(parts, "") {
		return &ParamError{Param: "topic", Problem: fmt.Sprintf("%s is not tenant/namespace/topic", Quote(m.Topic, 100)),
			Fix: "name a persistent topic in full, such as persistent://public/default/orders"}
	}
	if m.AsMetricSource() {
		// A metric source of scalingModifiers: the HPA sees the formula's metric, not this one.
	} else if m.MsgBacklogThreshold <= 0 {
		return &ParamError{Param: "msgBacklogThreshold", Problem: fmt.Sprintf("is %d", m.MsgBacklogThreshold), Fix: "must be above 0: it is the backlog per replica the HPA aims at"}
	}
	if m.TLS == "enable" && (m.Cert != "" || m.Key != "") && !slices.Contains(m.AuthModes, authModeTLS) {
		m.AuthModes = append(m.AuthModes, authModeTLS)
	}
	m.StatsURL = PulsarStatsURL(u, topic, m.IsPartitionedTopic)
	p := m.HTTPAuthParams
	m.Auth, err = p.Validate()
	return err
}

// PulsarStatsURL is the admin API's stats of a persistent topic (tenant/namespace/topic), or
// the aggregated stats of a partitioned one.
func PulsarStatsURL(admin *url.URL, topic string, partitioned bool) *url.URL {
	u := *admin
	u.RawPath = ""
	leaf := "/stats"
	if partitioned {
		leaf = "/partitioned-stats"
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/admin/v2/persistent/" + topic + leaf
	return &u
}

package meta

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// NatsJetStreamMetadata is the nats-jetstream trigger's metadata, with KEDA's parameter names.
type NatsJetStreamMetadata struct {
	Account                string `keda:"name=account, order=authParams;triggerMetadata, optional"`
	AccountID              string `keda:"name=accountID, order=authParams;triggerMetadata, optional"`
	Stream                 string `keda:"name=stream, order=triggerMetadata"`
	Consumer               string `keda:"name=consumer, order=triggerMetadata"`
	LagThreshold           int64  `keda:"name=lagThreshold, order=triggerMetadata, default=10"`
	ActivationLagThreshold int64  `keda:"name=activationLagThreshold, order=triggerMetadata, default=0"`
	UseHTTPS               bool   `keda:"name=useHttps, order=triggerMetadata, optional, default=false"`
	MonitoringEndpoint     string `keda:"name=natsServerMonitoringEndpoint, order=authParams;triggerMetadata"`

	// Set by Validate.
	JSZURL *url.URL
}

// Validate checks the parameters and builds the /jsz address.
func (m *NatsJetStreamMetadata) Validate() error {
	if m.Account == "" && m.AccountID == "" {
		return &ParamError{Param: "account", Problem: "is required (or accountID)",
			Fix: `set metadata.account to the NATS account's name ("$G" when the server has no accounts configured), or metadata.accountID to its public key`}
	}
	if m.LagThreshold <= 0 {
		return &ParamError{Param: "lagThreshold", Problem: fmt.Sprintf("is %d", m.LagThreshold), Fix: "must be above 0: it is the consumer lag per replica the HPA aims at"}
	}
	if m.ActivationLagThreshold < 0 {
		return &ParamError{Param: "activationLagThreshold", Problem: fmt.Sprintf("is %d", m.ActivationLagThreshold), Fix: "must be 0 or more"}
	}
	if m.MonitoringEndpoint == "" {
		// Offline, a TriggerAuthentication may hold it.
		return &ParamError{Param: "natsServerMonitoringEndpoint", Problem: "is required", Fix: "set metadata.natsServerMonitoringEndpoint or the TriggerAuthentication parameter of that name"}
	}
	host, port, err := net.SplitHostPort(m.MonitoringEndpoint)
	if err != nil || host == "" || port == "" || strings.Contains(m.MonitoringEndpoint, "/") {
		return &ParamError{Param: "natsServerMonitoringEndpoint", Problem: fmt.Sprintf("%q is not host:port", m.MonitoringEndpoint),
			Fix: "use the monitoring address without scheme or path, such as nats.nats.svc.cluster.local:8222 (set useHttps for https)"}
	}
	scheme := "http"
	if m.UseHTTPS {
		scheme = "https"
	}
	m.JSZURL = &url.URL{Scheme: scheme, Host: m.MonitoringEndpoint, Path: "/jsz", RawQuery: url.Values{
		"acc": {m.AccountQuery()}, "consumers": {"true"}, "config": {"true"},
	}.Encode()}
	return nil
}

// AccountQuery is the acc parameter of /jsz: the account's ID when given, else its name.
func (m *NatsJetStreamMetadata) AccountQuery() string {
	if m.AccountID != "" {
		return m.AccountID
	}
	return m.Account
}

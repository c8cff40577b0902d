package meta

import (
	"fmt"
	"net/url"
)

// IBMMQMetadata is the ibmmq trigger's metadata, with KEDA's parameter names. host is the whole
// URL of the queue manager's MQSC resource of IBM MQ's administrative REST API
// (https://<mqweb>:9443/ibmmq/rest/v2/admin/action/qmgr/<qmgr>/mqsc).
type IBMMQMetadata struct {
	Host                 string   `keda:"name=host, order=triggerMetadata"`
	QueueName            []string `keda:"name=queueName;queueNames, order=triggerMetadata"`
	QueueDepth           int64    `keda:"name=queueDepth, order=triggerMetadata, default=20"`
	ActivationQueueDepth int64    `keda:"name=activationQueueDepth, order=triggerMetadata, default=0"`
	Operation            string   `keda:"name=operation, order=triggerMetadata, enum=max;avg;sum, default=max"`
	Username             string   `keda:"name=username, order=authParams;resolvedEnv;triggerMetadata"`
	Password             string   `keda:"name=password, order=authParams;resolvedEnv;triggerMetadata, secret"`
	UnsafeSsl            bool     `keda:"name=unsafeSsl, order=triggerMetadata, default=false"`
	CA                   string   `keda:"name=ca, order=authParams, optional"`
	Cert                 string   `keda:"name=cert, order=authParams, optional"`
	Key                  string   `keda:"name=key, order=authParams, optional, secret"`
	KeyPassword          string   `keda:"name=keyPassword, order=authParams, optional, secret"`

	// Set by Validate.
	HostURL *url.URL
	Creds   HTTPAuthParams
	Auth    *HTTPAuth
}

// Validate checks the parameters and prepares the request's credentials.
func (m *IBMMQMetadata) Validate() error {
	u, err := httpURL("host", m.Host, "https://mq.example:9443/ibmmq/rest/v2/admin/action/qmgr/QM1/mqsc")
	if err != nil {
		return err
	}
	m.HostURL = u
	if len(m.QueueName) == 0 {
		// The list parser drops empty items: "," names no queue.
		return &ParamError{Param: "queueName", Problem: "names no queue", Fix: "list queue names separated by commas, such as DEV.QUEUE.1,DEV.QUEUE.2"}
	}
	if m.QueueDepth <= 0 {
		return &ParamError{Param: "queueDepth", Problem: fmt.Sprintf("is %d", m.QueueDepth), Fix: "must be above 0: it is the number of messages per replica the HPA aims at"}
	}
	m.Creds, m.Auth, err = basicTLSAuth(m.Username, m.Password, m.CA, m.Cert, m.Key, m.KeyPassword)
	return err
}

package meta

import (
	"fmt"
	"strings"
)

// artemisDefaultTemplate is KEDA's Jolokia read of an anycast queue's MessageCount through the
// Artemis console; the <<...>> placeholders take the parameters of the same names.
const artemisDefaultTemplate = `http://<<managementEndpoint>>/console/jolokia/read/org.apache.activemq.artemis:broker="<<brokerName>>",component=addresses,address="<<brokerAddress>>",subcomponent=queues,routing-type="anycast",queue="<<queueName>>"/MessageCount`

// ArtemisQueueMetadata is the artemis-queue trigger's metadata, with KEDA's parameter names.
type ArtemisQueueMetadata struct {
	ManagementEndpoint    string `keda:"name=managementEndpoint, order=triggerMetadata, optional"`
	QueueName             string `keda:"name=queueName, order=triggerMetadata, optional"`
	BrokerName            string `keda:"name=brokerName, order=triggerMetadata, optional"`
	BrokerAddress         string `keda:"name=brokerAddress, order=triggerMetadata, optional"`
	Username              string `keda:"name=username, order=authParams;triggerMetadata;resolvedEnv"`
	Password              string `keda:"name=password, order=authParams;triggerMetadata;resolvedEnv, secret"`
	RestAPITemplate       string `keda:"name=restApiTemplate, order=triggerMetadata, optional"`
	QueueLength           int64  `keda:"name=queueLength, order=triggerMetadata, default=10"`
	ActivationQueueLength int64  `keda:"name=activationQueueLength, order=triggerMetadata, default=10"`
	CorsHeader            string `keda:"name=corsHeader, order=triggerMetadata, optional"`
	UnsafeSsl             bool   `keda:"name=unsafeSsl, order=triggerMetadata, default=false"`
	CA                    string `keda:"name=ca, order=authParams, optional"`
	Cert                  string `keda:"name=cert, order=authParams, optional"`
	Key                   string `keda:"name=key, order=authParams, optional, secret"`
	KeyPassword           string `keda:"name=keyPassword, order=authParams, optional, secret"`

	// Read is the Jolokia request, set by Validate.
	Read JolokiaRead
}

// Validate checks the parameters and builds the read request. With restApiTemplate the broker,
// address and queue come from the template's MBean name (KEDA reads them from it, and names the
// metric after the queue); without it, each of the four parameters is required.
func (m *ArtemisQueueMetadata) Validate() error {
	if m.RestAPITemplate != "" {
		u, err := templateURL("restApiTemplate", m.RestAPITemplate)
		if err != nil {
			return err
		}
		m.ManagementEndpoint = u.Host
		// KEDA drops empty quoted values ("") before it reads the names.
		props := jolokiaKeyProperties(strings.ReplaceAll(u.Path, `""`, ""))
		for _, p := range []struct {
			key, param string
			into       *string
		}{{"address", "brokerAddress", &m.BrokerAddress}, {"queue", "queueName", &m.QueueName}, {"broker", "brokerName", &m.BrokerName}} {
			if props[p.key] == "" {
				return &ParamError{Param: "restApiTemplate", Problem: fmt.Sprintf("names no %s in its MBean (%s=...)", p.param, p.key),
					Fix: `use Artemis's queue MBean, such as org.apache.activemq.artemis:broker="b",component=addresses,address="a",subcomponent=queues,routing-type="anycast",queue="q"`}
			}
			*p.into = props[p.key]
		}
	} else {
		m.RestAPITemplate = artemisDefaultTemplate
		for _, p := range []struct{ param, value string }{
			{"managementEndpoint", m.ManagementEndpoint}, {"queueName", m.QueueName}, {"brokerName", m.BrokerName}, {"brokerAddress", m.BrokerAddress},
		} {
			if p.value == "" {
				return &ParamError{Param: p.param, Problem: "is not set, and there is no restApiTemplate", Fix: "set it, or give the whole Jolokia URL in metadata.restApiTemplate"}
			}
		}
	}
	if m.QueueLength <= 0 {
		return &ParamError{Param: "queueLength", Problem: fmt.Sprintf("is %d", m.QueueLength), Fix: "must be above 0: it is the number of messages per replica the HPA aims at"}
	}
	raw := strings.NewReplacer("<<managementEndpoint>>", m.ManagementEndpoint, "<<queueName>>", m.QueueName,
		"<<brokerName>>", m.BrokerName, "<<brokerAddress>>", m.BrokerAddress).Replace(m.RestAPITemplate)
	creds, auth, err := basicTLSAuth(m.Username, m.Password, m.CA, m.Cert, m.Key, m.KeyPassword)
	if err != nil {
		return err
	}
	m.Read, err = newJolokiaRead("restApiTemplate", raw, m.ManagementEndpoint, m.CorsHeader, creds, auth)
	return err
}

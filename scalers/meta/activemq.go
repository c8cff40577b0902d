package meta

import (
	"fmt"
	"strings"
	"text/template"
)

// activeMQDefaultTemplate is KEDA's Jolokia read of a queue's QueueSize through ActiveMQ's web
// console (/api/jolokia), a Go template over ManagementEndpoint, BrokerName and DestinationName.
const activeMQDefaultTemplate = "http://{{.ManagementEndpoint}}/api/jolokia/read/org.apache.activemq:type=Broker,brokerName={{.BrokerName}},destinationType=Queue,destinationName={{.DestinationName}}/QueueSize"

// ActiveMQMetadata is the activemq trigger's metadata, with KEDA's parameter names.
type ActiveMQMetadata struct {
	ManagementEndpoint        string `keda:"name=managementEndpoint, order=triggerMetadata;authParams;resolvedEnv, optional"`
	DestinationName           string `keda:"name=destinationName, order=triggerMetadata, optional"`
	BrokerName                string `keda:"name=brokerName, order=triggerMetadata, optional"`
	Username                  string `keda:"name=username, order=authParams;resolvedEnv;triggerMetadata"`
	Password                  string `keda:"name=password, order=authParams;resolvedEnv;triggerMetadata, secret"`
	CorsHeader                string `keda:"name=corsHeader, order=triggerMetadata, optional"`
	RestAPITemplate           string `keda:"name=restAPITemplate, order=triggerMetadata, optional"`
	TargetQueueSize           int64  `keda:"name=targetQueueSize, order=triggerMetadata, default=10"`
	ActivationTargetQueueSize int64  `keda:"name=activationTargetQueueSize, order=triggerMetadata, default=0"`

	// Read is the Jolokia request, set by Validate.
	Read JolokiaRead
}

// Validate checks the parameters and builds the read request. With restAPITemplate the broker
// and destination come from the template's MBean name (KEDA reads them from it, and names the
// metric after the destination); without it, the three parameters are required.
func (m *ActiveMQMetadata) Validate() error {
	if m.RestAPITemplate != "" {
		u, err := templateURL("restAPITemplate", m.RestAPITemplate)
		if err != nil {
			return err
		}
		m.ManagementEndpoint = u.Host
		props := jolokiaKeyProperties(u.Path)
		for _, p := range []struct {
			key  string
			into *string
		}{{"destinationName", &m.DestinationName}, {"brokerName", &m.BrokerName}} {
			if props[p.key] == "" {
				return &ParamError{Param: "restAPITemplate", Problem: fmt.Sprintf("names no %s in its MBean", p.key),
					Fix: "use ActiveMQ's queue MBean, such as org.apache.activemq:type=Broker,brokerName=localhost,destinationType=Queue,destinationName=jobs"}
			}
			*p.into = props[p.key]
		}
	} else {
		m.RestAPITemplate = activeMQDefaultTemplate
		for _, p := range []struct{ param, value string }{
			{"managementEndpoint", m.ManagementEndpoint}, {"destinationName", m.DestinationName}, {"brokerName", m.BrokerName},
		} {
			if p.value == "" {
				return &ParamError{Param: p.param, Problem: "is not set, and there is no restAPITemplate", Fix: "set it, or give the whole Jolokia URL in metadata.restAPITemplate"}
			}
		}
	}
	if m.TargetQueueSize <= 0 {
		return &ParamError{Param: "targetQueueSize", Problem: fmt.Sprintf("is %d", m.TargetQueueSize), Fix: "must be above 0: it is the number of messages per replica the HPA aims at"}
	}
	raw, err := expandActiveMQTemplate(m.RestAPITemplate, m.ManagementEndpoint, m.BrokerName, m.DestinationName)
	if err != nil {
		return err
	}
	creds, auth, err := basicTLSAuth(m.Username, m.Password, "", "", "", "")
	if err != nil {
		return err
	}
	m.Read, err = newJolokiaRead("restAPITemplate", raw, m.ManagementEndpoint, m.CorsHeader, creds, auth)
	return err
}

// expandActiveMQTemplate fills the template's {{.ManagementEndpoint}}, {{.BrokerName}} and
// {{.DestinationName}}. A field of another name is refused rather than left empty.
func expandActiveMQTemplate(raw, endpoint, broker, destination string) (string, error) {
	bad := func(err error) error {
		return &ParamError{Param: "restAPITemplate", Problem: "is not a usable template (" + err.Error() + ")",
			Fix: "use only {{.ManagementEndpoint}}, {{.BrokerName}} and {{.DestinationName}}, or none"}
	}
	t, err := template.New("restAPITemplate").Option("missingkey=error").Parse(raw)
	if err != nil {
		return "", bad(err)
	}
	var b strings.Builder
	if err := t.Execute(&b, map[string]string{"ManagementEndpoint": endpoint, "BrokerName": broker, "DestinationName": destination}); err != nil {
		return "", bad(err)
	}
	return b.String(), nil
}

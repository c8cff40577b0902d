package scalers

import (
	"testing"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseArtemisQueueMetadata(t *testing.T) {
	base := func(extra ...string) map[string]string {
		m := map[string]string{"managementEndpoint": "artemis:8161", "queueName": "jobs", "brokerName": "b0", "brokerAddress": "work"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	creds := map[string]string{"username": "admin", "password": "s3cret"}
	tests := []parseCase[meta.ArtemisQueueMetadata]{
		{name: "defaults", meta: base(), auth: creds, check: func(t *testing.T, m *meta.ArtemisQueueMetadata) {
			want := `http://artemis:8161/console/jolokia/read/org.apache.activemq.artemis:broker="b0",component=addresses,address="work",subcomponent=queues,routing-type="anycast",queue="jobs"/MessageCount`
			if m.Read.URL.String() != (mustURL(t, want)).String() || m.Read.Origin != "http://artemis:8161" || m.QueueLength != 10 || m.ActivationQueueLength != 10 || m.UnsafeSsl {
				t.Errorf("parsed %+v, read %s", m, m.Read.URL)
			}
			if !m.Read.Auth.Has(meta.AuthModeBasic) || m.Read.Auth.Username != "admin" || m.Read.Auth.Password != "s3cret" || m.Read.Auth.ClientCert != nil {
				t.Errorf("auth %+v", m.Read.Auth)
			}
		}},
		{name: "credentials in metadata", meta: base("username", "u", "password", "p", "corsHeader", "https://console", "queueLength", "3", "activationQueueLength", "0"),
			check: func(t *testing.T, m *meta.ArtemisQueueMetadata) {
				if m.Read.Auth.Username != "u" || m.Read.Origin != "https://console" || m.QueueLength != 3 || m.ActivationQueueLength != 0 {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "template names the queue", auth: creds, meta: map[string]string{"restApiTemplate": `https://a:8443/console/jolokia/read/org.apache.activemq.artemis:broker="b",component=addresses,address="ad",subcomponent=queues,routing-type="anycast",queue="q1"/MessageCount`},
			check: func(t *testing.T, m *meta.ArtemisQueueMetadata) {
				if m.QueueName != `"q1"` || m.BrokerName != `"b"` || m.BrokerAddress != `"ad"` || m.ManagementEndpoint != "a:8443" || m.Read.URL.Scheme != "https" || m.Read.Origin != "http://a:8443" {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "template without a queue", auth: creds, meta: map[string]string{"restApiTemplate": `http://a/console/jolokia/read/org.apache.activemq.artemis:broker="b",address="ad"/MessageCount`},
			wantErr: []string{"metadata.restApiTemplate", "names no queueName"}},
		{name: "template not a URL", auth: creds, meta: map[string]string{"restApiTemplate": "artemis/console"}, wantErr: []string{"metadata.restApiTemplate", "not an absolute URL"}},
		{name: "no endpoint", auth: creds, meta: map[string]string{"queueName": "q", "brokerName": "b", "brokerAddress": "a"}, wantErr: []string{"metadata.managementEndpoint", "is not set, and there is no restApiTemplate"}},
		{name: "no broker address", auth: creds, meta: map[string]string{"queueName": "q", "brokerName": "b", "managementEndpoint": "a:1"}, wantErr: []string{"metadata.brokerAddress"}},
		{name: "no username", meta: base(), auth: map[string]string{"password": "s3cret"}, wantErr: []string{"metadata.username", "is required"}},
		{name: "no password", meta: base(), auth: map[string]string{"username": "u"}, wantErr: []string{"metadata.password", "is required"}},
		{name: "zero queueLength", meta: base("queueLength", "0"), auth: creds, wantErr: []string{"metadata.queueLength", "is 0", "above 0"}},
		{name: "queueLength not a number", meta: base("queueLength", "ten"), auth: creds, wantErr: []string{"metadata.queueLength"}},
		{name: "bad unsafeSsl", meta: base("unsafeSsl", "sure"), auth: creds, wantErr: []string{"metadata.unsafeSsl"}},
		{name: "cert without key", meta: base(), auth: map[string]string{"username": "u", "password": "s3cret", "cert": "x"}, wantErr: []string{"metadata.key", "is required when cert is set"}},
		{name: "key without cert", meta: base(), auth: map[string]string{"username": "u", "password": "s3cret", "key": "x"}, wantErr: []string{"metadata.cert", "is required when key is set"}},
		{name: "ca not PEM", meta: base(), auth: map[string]string{"username": "u", "password": "s3cret", "ca": "nope"}, wantErr: []string{"metadata.ca", "no PEM"}},
		{name: "corsHeader with a line break", meta: base("corsHeader", "http://a\r\nX: 1"), auth: creds, wantErr: []string{"metadata.corsHeader", "line break"}},
		{name: "offline: credentials may come later", meta: base(), offline: true, check: func(*testing.T, *meta.ArtemisQueueMetadata) {}},
	}
	runParseCases(t, "artemis-queue", tests, "s3cret")
}

func TestParseActiveMQMetadata(t *testing.T) {
	base := func(extra ...string) map[string]string {
		m := map[string]string{"managementEndpoint": "amq:8161", "destinationName": "jobs", "brokerName": "localhost"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	creds := map[string]string{"username": "admin", "password": "s3cret"}
	tests := []parseCase[meta.ActiveMQMetadata]{
		{name: "defaults", meta: base(), auth: creds, check: func(t *testing.T, m *meta.ActiveMQMetadata) {
			want := "http://amq:8161/api/jolokia/read/org.apache.activemq:type=Broker,brokerName=localhost,destinationType=Queue,destinationName=jobs/QueueSize"
			if m.Read.URL.String() != want || m.Read.Origin != "http://amq:8161" || m.TargetQueueSize != 10 || m.ActivationTargetQueueSize != 0 {
				t.Errorf("parsed %+v, read %s", m, m.Read.URL)
			}
		}},
		{name: "endpoint from a TriggerAuthentication", meta: map[string]string{"destinationName": "jobs", "brokerName": "b"},
			auth: map[string]string{"username": "u", "password": "s3cret", "managementEndpoint": "secret-amq:8161"},
			check: func(t *testing.T, m *meta.ActiveMQMetadata) {
				if m.Read.URL.Host != "secret-amq:8161" {
					t.Errorf("read %s", m.Read.URL)
				}
			}},
		{name: "credentials from env", meta: base("usernameFromEnv", "AMQ_USER", "passwordFromEnv", "AMQ_PASS"), env: map[string]string{"AMQ_USER": "e", "AMQ_PASS": "s3cret"},
			check: func(t *testing.T, m *meta.ActiveMQMetadata) {
				if m.Read.Auth.Username != "e" || m.Read.Auth.Password != "s3cret" {
					t.Errorf("auth %+v", m.Read.Auth)
				}
			}},
		{name: "template with fields", auth: creds, meta: map[string]string{"restAPITemplate": "https://amq:8162/api/jolokia/read/org.apache.activemq:type=Broker,brokerName=b1,destinationType=Queue,destinationName=orders/{{.DestinationName}}QueueSize"},
			check: func(t *testing.T, m *meta.ActiveMQMetadata) {
				if m.DestinationName != "orders" || m.BrokerName != "b1" || m.ManagementEndpoint != "amq:8162" || m.Read.URL.Path != "/api/jolokia/read/org.apache.activemq:type=Broker,brokerName=b1,destinationType=Queue,destinationName=orders/ordersQueueSize" {
					t.Errorf("parsed %+v, read %s", m, m.Read.URL)
				}
			}},
		{name: "template with an unknown field", auth: creds, meta: map[string]string{"restAPITemplate": "http://amq/api/jolokia/read/org.apache.activemq:brokerName=b,destinationName=q/{{.Queue}}"},
			wantErr: []string{"metadata.restAPITemplate", "not a usable template"}},
		{name: "template without a broker", auth: creds, meta: map[string]string{"restAPITemplate": "http://amq/api/jolokia/read/org.apache.activemq:type=Broker,destinationName=q/QueueSize"},
			wantErr: []string{"metadata.restAPITemplate", "names no brokerName"}},
		{name: "no destination", auth: creds, meta: map[string]string{"managementEndpoint": "a:1", "brokerName": "b"}, wantErr: []string{"metadata.destinationName", "is not set, and there is no restAPITemplate"}},
		{name: "zero target", meta: base("targetQueueSize", "0"), auth: creds, wantErr: []string{"metadata.targetQueueSize", "above 0"}},
		{name: "no credentials", meta: base(), wantErr: []string{"metadata.username", "is required"}},
		{name: "offline: credentials may come later", meta: base(), offline: true, check: func(*testing.T, *meta.ActiveMQMetadata) {}},
	}
	runParseCases(t, "activemq", tests, "s3cret")
}

package scalers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseRabbitMQMetadata(t *testing.T) {
	const secret = "s3cret-pw"
	amqpHost := "amqp://keda:" + secret + "@rabbitmq:5672/orders"
	httpHost := "http://keda:" + secret + "@rabbitmq:15672/orders"
	rmeta := func(host string, extra ...string) map[string]string {
		m := map[string]string{"queueName": "jobs"}
		if host != "" {
			m["host"] = host
		}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		meta    map[string]string
		auth    map[string]string
		env     map[string]string
		offline bool
		wantErr []string
		check   func(t *testing.T, m *meta.RabbitMQMetadata)
	}{
		{name: "amqp defaults", meta: rmeta(amqpHost), check: func(t *testing.T, m *meta.RabbitMQMetadata) {
			if m.ResolvedProtocol != "amqp" || m.ResolvedMode != "QueueLength" || m.ResolvedValue != 20 || m.ResolvedVhost != "orders" || m.Operation != "sum" || m.PageSize != 100 || m.TLS != "disable" {
				t.Errorf("parsed protocol=%s mode=%s value=%g vhost=%q operation=%s pageSize=%d tls=%s", m.ResolvedProtocol, m.ResolvedMode, m.ResolvedValue, m.ResolvedVhost, m.Operation, m.PageSize, m.TLS)
			}
			if m.AmqpURI.Host != "rabbitmq" || m.AmqpURI.Port != 5672 || rabbitSASL(m) != nil || m.TLSConfig != nil || m.QueueURL != nil {
				t.Errorf("amqp uri %+v sasl %v tls %v", m.AmqpURI, rabbitSASL(m), m.TLSConfig)
			}
		}},
		{name: "amqp without a vhost is the default vhost", meta: rmeta("amqp://rabbitmq:5672"), check: func(t *testing.T, m *meta.RabbitMQMetadata) {
			if m.ResolvedVhost != "/" {
				t.Errorf("vhost %q", m.ResolvedVhost)
			}
		}},
		{name: "amqp with a trailing slash is the default vhost", meta: rmeta("amqp://rabbitmq:5672/"), check: func(t *testing.T, m *meta.RabbitMQMetadata) {
			if m.ResolvedVhost != "/" {
				t.Errorf("vhost %q", m.ResolvedVhost)
			}
		}},
		{name: "amqp vhostName wins over the path", meta: rmeta(amqpHost, "vhostName", "other"), check: func(t *testing.T, m *meta.RabbitMQMetadata) {
			if m.ResolvedVhost != "other" {
				t.Errorf("vhost %q", m.ResolvedVhost)
			}
		}},
		{name: "amqps gets TLS with ca-less defaults and unsafeSsl", meta: rmeta("amqps://rabbitmq:5671/v", "unsafeSsl", "true"), check: func(t *testing.T, m *meta.RabbitMQMetadata) {
			if m.TLSConfig == nil || !m.TLSConfig.InsecureSkipVerify || m.TLSConfig.ServerName != "rabbitmq" || len(m.TLSConfig.Certificates) != 0 {
				t.Errorf("tls %+v", m.TLSConfig)
			}
		}},
		{name: "username and password from a TriggerAuthentication replace host's", meta: rmeta("amqp://rabbitmq/v"), auth: map[string]string{"username": "u", "password": "p"},
			check: func(t *testing.T, m *meta.RabbitMQMetadata) {
				if len(rabbitSASL(m)) != 1 || m.AmqpURI.Username != "u" || m.AmqpURI.Password != "p" {
					t.Errorf("sasl %v uri %+v", rabbitSASL(m), m.AmqpURI)
				}
			}},
		{name: "host, username and password from env", meta: rmeta("", "hostFromEnv", "RMQ_HOST", "usernameFromEnv", "RMQ_USER", "passwordFromEnv", "RMQ_PASS"),
			env: map[string]string{"RMQ_HOST": "http://rabbitmq:15672/", "RMQ_USER": "u", "RMQ_PASS": "p w"}, check: func(t *testing.T, m *meta.RabbitMQMetadata) {
				if m.ResolvedProtocol != "http" || m.ResolvedVhost != "/" || m.QueueURL.User.String() != "u:p%20w" {
					t.Errorf("protocol %s vhost %q user %v", m.ResolvedProtocol, m.ResolvedVhost, m.QueueURL.User)
				}
			}},
		{name: "host from a TriggerAuthentication", meta: rmeta(""), auth: map[string]string{"host": amqpHost}, check: func(t *testing.T, m *meta.RabbitMQMetadata) {
			if m.ResolvedProtocol != "amqp" || m.ResolvedVhost != "orders" {
				t.Errorf("protocol %s vhost %q", m.ResolvedProtocol, m.ResolvedVhost)
			}
		}},
		{name: "http queue URL", meta: rmeta(httpHost), check: func(t *testing.T, m *meta.RabbitMQMetadata) {
			want := "http://keda:" + secret + "@rabbitmq:15672/api/queues/orders/jobs?columns=name%2Cmessages%2Cmessages_ready%2Cmessage_stats.publish_details.rate"
			if m.ResolvedProtocol != "http" || m.QueueURL.String() != want {
				t.Errorf("protocol %s queue URL\n%s, want\n%s", m.ResolvedProtocol, m.QueueURL, want)
			}
		}},
		{name: "http path prefix, default vhost as %2F", meta: rmeta("https://rabbitmq/mgmt/%2F", "queueName", "a/b c"), check: func(t *testing.T, m *meta.RabbitMQMetadata) {
			if got := m.QueueURL.Scheme + "://" + m.QueueURL.Host + m.QueueURL.EscapedPath(); got != "https://rabbitmq/mgmt/api/queues/%2F/a%2Fb%20c" || m.ResolvedVhost != "/" {
				t.Errorf("queue URL %s vhost %q", got, m.ResolvedVhost)
			}
		}},
		{name: "http vhostName replaces the last path segment", meta: rmeta("http://rabbitmq:15672/mgmt/ignored", "vhostName", "team/a"), check: func(t *testing.T, m *meta.RabbitMQMetadata) {
			if got := m.QueueURL.EscapedPath(); got != "/mgmt/api/queues/team%2Fa/jobs" {
				t.Errorf("queue path %s", got)
			}
		}},
		{name: "http regex lists the vhost's queues", meta: rmeta(httpHost, "useRegex", "true", "queueName", "^job-.*$", "pageSize", "7", "operation", "max"),
			check: func(t *testing.T, m *meta.RabbitMQMetadata) {
				q := m.QueueURL.Query()
				if m.QueueURL.Path != "/api/queues/orders" || q.Get("use_regex") != "true" || q.Get("name") != "^job-.*$" || q.Get("page_size") != "7" || q.Get("page") != "1" {
					t.Errorf("queue URL %s", m.QueueURL)
				}
			}},
		{name: "http MessageRate, activation, excludeUnacknowledged, timeout", meta: rmeta(httpHost, "mode", "MessageRate", "value", "2.5", "activationValue", "1", "excludeUnacknowledged", "true", "timeout", "1500"),
			check: func(t *testing.T, m *meta.RabbitMQMetadata) {
				if m.ResolvedMode != "MessageRate" || m.ResolvedValue != 2.5 || m.ActivationValue != 1 || !m.ExcludeUnacknowledged || m.ResolvedTimeout != 1500*time.Millisecond {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "timeout over amqp is honoured", meta: rmeta(amqpHost, "timeout", "2s"), check: func(t *testing.T, m *meta.RabbitMQMetadata) {
			if m.ResolvedTimeout != 2*time.Second {
				t.Errorf("timeout %s", m.ResolvedTimeout)
			}
		}},
		{name: "deprecated queueLength", meta: rmeta(amqpHost, "queueLength", "7"), check: func(t *testing.T, m *meta.RabbitMQMetadata) {
			if m.ResolvedMode != "QueueLength" || m.ResolvedValue != 7 {
				t.Errorf("mode %s value %g", m.ResolvedMode, m.ResolvedValue)
			}
		}},
		{name: "explicit protocol http", meta: rmeta(httpHost, "protocol", "http"), check: func(t *testing.T, m *meta.RabbitMQMetadata) {
			if m.ResolvedProtocol != "http" {
				t.Errorf("protocol %s", m.ResolvedProtocol)
			}
		}},
		{name: "management API basic auth from a TriggerAuthentication", meta: rmeta("http://rabbitmq:15672/v", "authModes", "basic"), auth: map[string]string{"username": "u", "password": "p"},
			check: func(t *testing.T, m *meta.RabbitMQMetadata) {
				if !m.Auth.Has(meta.AuthModeBasic) || m.Auth.Username != "u" || m.Auth.Password != "p" {
					t.Errorf("auth %+v", m.Auth)
				}
			}},

		{name: "missing queueName", meta: map[string]string{"host": amqpHost}, wantErr: []string{"trigger 0 (rabbitmq)", "metadata.queueName", "is required"}},
		{name: "missing host", meta: rmeta(""), wantErr: []string{"metadata.host", "is required", "TriggerAuthentication"}},
		{name: "hostFromEnv names a missing variable", meta: rmeta("", "hostFromEnv", "NOPE"), wantErr: []string{"host", "NOPE", "no such variable"}},
		{name: "host not a URL", meta: rmeta("rabbitmq:5672 " + secret), wantErr: []string{"metadata.host", "not an AMQP or HTTP URL"}},
		{name: "host with another scheme", meta: rmeta("tcp://keda:" + secret + "@rabbitmq:5672"), wantErr: []string{"metadata.host", "not an AMQP or HTTP URL"}},
		{name: "bad mode", meta: rmeta(httpHost, "mode", "Depth", "value", "1"), wantErr: []string{"metadata.mode", `"Depth" is not a mode`, "QueueLength", "MessageRate"}},
		{name: "mode without value", meta: rmeta(httpHost, "mode", "QueueLength"), wantErr: []string{"metadata.value", "is 0 or not set, but mode is"}},
		{name: "value without mode", meta: rmeta(httpHost, "value", "3"), wantErr: []string{"metadata.mode", "is not set, but value is"}},
		{name: "queueLength with mode and value", meta: rmeta(httpHost, "queueLength", "3", "mode", "QueueLength", "value", "3"), wantErr: []string{"metadata.queueLength", "deprecated"}},
		{name: "negative value", meta: rmeta(httpHost, "mode", "QueueLength", "value", "-1"), wantErr: []string{"metadata.value", "is -1", "above 0"}},
		{name: "value not a number", meta: rmeta(httpHost, "mode", "QueueLength", "value", "lots"), wantErr: []string{"metadata.value", `"lots" is not a valid number`}},
		{name: "bad operation", meta: rmeta(httpHost, "useRegex", "true", "operation", "median"), wantErr: []string{"metadata.operation", `"median" is not an operation`, "sum, max or avg"}},
		{name: "pageSize 0", meta: rmeta(httpHost, "useRegex", "true", "pageSize", "0"), wantErr: []string{"metadata.pageSize", "is 0", "1 or more"}},
		{name: "bad useRegex", meta: rmeta(httpHost, "useRegex", "yes please"), wantErr: []string{"metadata.useRegex", "true or false"}},
		{name: "bad timeout", meta: rmeta(httpHost, "timeout", "-5"), wantErr: []string{"metadata.timeout", "not above 0"}},
		{name: "bad protocol", meta: rmeta(httpHost, "protocol", "stomp"), wantErr: []string{"metadata.protocol", `"stomp" is not a protocol`}},
		{name: "protocol amqp with an http host", meta: rmeta(httpHost, "protocol", "amqp"), wantErr: []string{"metadata.protocol", "is amqp, but host is a http URL"}},
		{name: "protocol http with an amqp host", meta: rmeta(amqpHost, "protocol", "http"), wantErr: []string{"metadata.protocol", "is http, but host is a amqp URL"}},
		{name: "MessageRate over amqp", meta: rmeta(amqpHost, "mode", "MessageRate", "value", "1"), wantErr: []string{"metadata.mode", "MessageRate needs the management API"}},
		{name: "useRegex over amqp", meta: rmeta(amqpHost, "useRegex", "true"), wantErr: []string{"metadata.useRegex", "needs the management API"}},
		{name: "excludeUnacknowledged over amqp", meta: rmeta(amqpHost, "excludeUnacknowledged", "true"), wantErr: []string{"metadata.excludeUnacknowledged", "needs the management API"}},
		{name: "username without password", meta: rmeta(amqpHost), auth: map[string]string{"username": "u"}, wantErr: []string{"password", "is required when username is set"}},
		{name: "bad tls", meta: rmeta(amqpHost), auth: map[string]string{"tls": "on"}, wantErr: []string{"tls", `"on" is not enable or disable`}},
		{name: "tls enable on a plain host", meta: rmeta(amqpHost), auth: map[string]string{"tls": "enable"}, wantErr: []string{"tls", "not an amqps:// or https:// URL"}},
		{name: "tls enable with cert but no key", meta: rmeta("amqps://rabbitmq/v"), auth: map[string]string{"tls": "enable", "cert": "x"}, wantErr: []string{"key", "is required when cert is set"}},
		{name: "tls enable with a key that is no PEM", meta: rmeta("amqps://rabbitmq/v"), auth: map[string]string{"tls": "enable", "cert": "x", "key": "y", "keyPassword": secret}, wantErr: []string{"key", "holds no PEM block"}},
		{name: "bad ca", meta: rmeta("https://rabbitmq/v"), auth: map[string]string{"ca": "not a cert"}, wantErr: []string{"ca", "holds no PEM certificate"}},
		{name: "bad authModes", meta: rmeta(httpHost, "authModes", "kerberos"), wantErr: []string{"metadata.authModes", `"kerberos" is not an authentication mode`}},

		{name: "offline: host may come from a TriggerAuthentication", meta: rmeta(""), offline: true, check: func(*testing.T, *meta.RabbitMQMetadata) {}},
		{name: "offline still checks the metadata", meta: rmeta("", "mode", "QueueLength"), offline: true, wantErr: []string{"metadata.value", "is 0 or not set, but mode is"}},
		{name: "offline still checks a given host", meta: rmeta(amqpHost, "useRegex", "true"), offline: true, wantErr: []string{"metadata.useRegex"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &Config{TriggerType: "rabbitmq", TriggerMetadata: tt.meta, AuthParams: tt.auth, ResolvedEnv: tt.env, Offline: tt.offline, HasAuthenticationRef: tt.offline}
			var m meta.RabbitMQMetadata
			err := ParseMetadata(cfg, &m)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("want an error mentioning %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, &m)
		})
	}
}

// TestRabbitMQScalerSpec: KEDA's metric name (the queue name query-escaped, then normalised),
// the target from value, and no connection before the first poll.
func TestRabbitMQScalerSpec(t *testing.T) {
	for _, tt := range []struct {
		meta       map[string]string
		metricName string
		target     int64
	}{
		{map[string]string{"host": "amqp://127.0.0.1:1/v", "queueName": "orders.high"}, "s2-rabbitmq-orders-high", 20000},
		{map[string]string{"host": "http://127.0.0.1:1/v", "queueName": "^job-.*$", "useRegex": "true", "mode": "MessageRate", "value": "2.5"}, "s2-rabbitmq--5Ejob---2A-24", 2500},
		{map[string]string{"host": "http://127.0.0.1:1/v", "queueName": "a b/c", "queueLength": "5"}, "s2-rabbitmq-a+b-2Fc", 5000},
	} {
		s, err := New(t.Context(), &Config{TriggerType: "rabbitmq", TriggerIndex: 2, TriggerMetadata: tt.meta, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		specs := s.GetMetricSpecForScaling(t.Context())
		if len(specs) != 1 || specs[0].External.Metric.Name != tt.metricName || specs[0].External.Target.AverageValue.MilliValue() != tt.target {
			t.Errorf("%v: metric spec = %+v, want %s with target %dm", tt.meta, specs, tt.metricName, tt.target)
		}
		if err := s.Close(t.Context()); err != nil {
			t.Error(err)
		}
	}
}

func TestCombineRabbitMQQueues(t *testing.T) {
	q := func(messages, ready int64, rate float64) rabbitQueue {
		var r rabbitQueue
		r.Messages, r.MessagesReady, r.MessageStats.PublishDetails.Rate = messages, ready, rate
		return r
	}
	queues := []rabbitQueue{q(10, 4, 1.5), q(3, 3, 4), q(0, 0, 0)}
	for _, tt := range []struct {
		operation string
		queues    []rabbitQueue
		want      rabbitQueue
	}{
		{"sum", queues, q(13, 7, 5.5)},
		{"max", queues, q(10, 4, 4)},
		// Integer division of the counts, as KEDA does.
		{"avg", queues, q(4, 2, 5.5/3)},
		{"sum", nil, q(0, 0, 0)},
		{"avg", nil, q(0, 0, 0)},
	} {
		if got := combineQueues(tt.queues, tt.operation); got != tt.want {
			t.Errorf("%s of %d queues = %+v, want %+v", tt.operation, len(tt.queues), got, tt.want)
		}
	}
}

// TestRabbitMQManagementAnswers runs the http protocol against canned answers of the
// management API (the real server is in test/scalers): values, and answers that are not the
// API's or refuse the request.
func TestRabbitMQManagementAnswers(t *testing.T) {
	for _, tt := range []struct {
		name    string
		meta    map[string]string
		status  int
		body    string
		want    int64
		active  bool
		wantErr string
	}{
		{name: "messages", meta: map[string]string{"mode": "QueueLength", "value": "5", "activationValue": "6"}, status: 200,
			body: `{"name":"jobs","messages":7,"messages_ready":4}`, want: 7000, active: true},
		{name: "ready messages", meta: map[string]string{"excludeUnacknowledged": "true"}, status: 200,
			body: `{"name":"jobs","messages":7,"messages_ready":4}`, want: 4000, active: true},
		{name: "publish rate", meta: map[string]string{"mode": "MessageRate", "value": "2", "activationValue": "10"}, status: 200,
			body: `{"name":"jobs","messages":0,"message_stats":{"publish_details":{"rate":2.5}}}`, want: 2500, active: false},
		{name: "publish rate never sampled", meta: map[string]string{"mode": "MessageRate", "value": "2"}, status: 200,
			body: `{"name":"jobs","messages":3}`, want: 0, active: true},
		{name: "regex, max", meta: map[string]string{"useRegex": "true", "operation": "max"}, status: 200,
			body: `{"items":[{"name":"a","messages":2},{"name":"b","messages":9}],"page_count":1}`, want: 9000, active: true},
		{name: "regex, more than a page", meta: map[string]string{"useRegex": "true", "pageSize": "1"}, status: 200,
			body: `{"items":[{"name":"a","messages":2}],"page_count":2}`, wantErr: "more queues than one page of metadata.pageSize 1"},
		{name: "regex, not a page", meta: map[string]string{"useRegex": "true"}, status: 200, body: `[]`, wantErr: "not the RabbitMQ management API's"},
		{name: "HTML", status: 200, body: `<html>hello</html>`, wantErr: "not the RabbitMQ management API's"},
		{name: "no permission", status: 403, body: `{"error":"not_authorised"}`, wantErr: `may not read vhost "v"`},
		{name: "server error", status: 500, body: `oops`, wantErr: "500 Internal Server Error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if user, pass, ok := r.BasicAuth(); !ok || user != "u" || pass != "pw-secret" {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			meta := map[string]string{"host": "http://u:pw-secret@" + srv.Listener.Addr().String() + "/v", "queueName": "jobs"}
			for k, v := range tt.meta {
				meta[k] = v
			}
			s, err := New(t.Context(), &Config{TriggerType: "rabbitmq", TriggerMetadata: meta, Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(t.Context())
			vals, active, err := s.GetMetricsAndActivity(t.Context(), "s0-rabbitmq-jobs")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "pw-secret") {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := vals[0].Value.MilliValue(); got != tt.want || active != tt.active {
				t.Errorf("value=%dm active=%v, want %dm %v", got, active, tt.want, tt.active)
			}
		})
	}
}

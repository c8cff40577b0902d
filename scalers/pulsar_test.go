package scalers

import (
	"strings"
	"testing"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParsePulsarMetadata(t *testing.T) {
	base := func(extra ...string) map[string]string {
		m := map[string]string{"adminURL": "http://pulsar:8080", "topic": "persistent://public/default/orders", "subscription": "workers"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	tests := []parseCase[meta.PulsarMetadata]{
		{name: "defaults", meta: base(), check: func(t *testing.T, m *meta.PulsarMetadata) {
			if m.MsgBacklogThreshold != 10 || m.ActivationMsgBacklogThreshold != 0 || m.IsPartitionedTopic || len(m.Auth.Modes) != 0 ||
				m.StatsURL.String() != "http://pulsar:8080/admin/v2/persistent/public/default/orders/stats" {
				t.Errorf("parsed %+v (stats %s)", m, m.StatsURL)
			}
		}},
		{name: "partitioned, topic without scheme", meta: base("topic", "acme/jobs/orders", "isPartitionedTopic", "true", "msgBacklogThreshold", "5", "activationMsgBacklogThreshold", "2", "adminURL", "https://pulsar.example/"),
			check: func(t *testing.T, m *meta.PulsarMetadata) {
				if m.MsgBacklogThreshold != 5 || m.ActivationMsgBacklogThreshold != 2 || m.StatsURL.String() != "https://pulsar.example/admin/v2/persistent/acme/jobs/orders/partitioned-stats" {
					t.Errorf("parsed %+v (stats %s)", m, m.StatsURL)
				}
			}},
		{name: "bearer", meta: base("authModes", "bearer"), auth: map[string]string{"bearerToken": "Pulsar-t0ken"}, check: func(t *testing.T, m *meta.PulsarMetadata) {
			if !m.Auth.Has(meta.AuthModeBearer) || m.Auth.BearerToken != "Pulsar-t0ken" {
				t.Errorf("auth %+v", m.Auth)
			}
		}},
		{name: "oauth", meta: base("authModes", "oauth"), auth: map[string]string{"oauthTokenURI": "http://idp/token", "clientID": "keda", "clientSecret": "Pulsar-t0ken", "scope": "admin"},
			check: func(t *testing.T, m *meta.PulsarMetadata) {
				if m.Auth.Oauth == nil || m.Auth.Oauth.ClientID != "keda" || m.Auth.Oauth.TokenURL != "http://idp/token" {
					t.Errorf("auth %+v", m.Auth)
				}
			}},
		{name: "adminURL from env", meta: map[string]string{"adminURLFromEnv": "ADMIN", "topic": "public/default/t", "subscription": "s"}, env: map[string]string{"ADMIN": "http://broker:8080"},
			check: func(t *testing.T, m *meta.PulsarMetadata) {
				if m.StatsURL.Host != "broker:8080" {
					t.Errorf("stats %s", m.StatsURL)
				}
			}},
		{name: "missing adminURL", meta: map[string]string{"topic": "public/default/t", "subscription": "s"}, wantErr: []string{"trigger 0 (pulsar)", "adminURL", "is required"}},
		{name: "missing subscription", meta: map[string]string{"adminURL": "http://pulsar:8080", "topic": "public/default/t"}, wantErr: []string{"subscription", "is required"}},
		{name: "short topic", meta: base("topic", "orders"), wantErr: []string{"metadata.topic", "not tenant/namespace/topic"}},
		{name: "zero threshold", meta: base("msgBacklogThreshold", "0"), wantErr: []string{"msgBacklogThreshold", "is 0"}},
		{name: "threshold not whole", meta: base("msgBacklogThreshold", "2.5"), wantErr: []string{"msgBacklogThreshold"}},
		{name: "bad isPartitionedTopic", meta: base("isPartitionedTopic", "maybe"), wantErr: []string{"isPartitionedTopic"}},
		{name: "adminURL without scheme", meta: base("adminURL", "pulsar:8080"), wantErr: []string{"adminURL", "not an http(s) URL"}},
		{name: "bearer without a token", meta: base("authModes", "bearer"), wantErr: []string{"bearerToken", "authModes bearer"}},
		{name: "tls enable without a certificate stays off", meta: base("tls", "enable"), check: func(t *testing.T, m *meta.PulsarMetadata) {
			if len(m.Auth.Modes) != 0 {
				t.Errorf("modes %v", m.Auth.Modes)
			}
		}},
		{name: "tls enable with a bad certificate", meta: base("tls", "enable"), auth: map[string]string{"cert": "nope", "key": "Pulsar-t0ken"}, wantErr: []string{"cert"}},
		{name: "offline: credentials may come later", meta: base("authModes", "bearer"), offline: true, check: func(*testing.T, *meta.PulsarMetadata) {}},
	}
	runParseCases(t, "pulsar", tests, "Pulsar-t0ken")
}

// TestPulsarBacklog: the subscription's msgBacklog of topic stats is the value.
func TestPulsarBacklog(t *testing.T) {
	for _, tt := range []struct {
		body    string
		want    int64
		wantErr string
	}{
		{`{"msgRateIn":0,"subscriptions":{"workers":{"msgBacklog":42,"type":"Shared","consumers":[]},"other":{"msgBacklog":7}},"publishers":[]}`, 42, ""},
		{`{"subscriptions":{"workers":{"msgBacklog":0}},"partitions":{}}`, 0, ""},
		{`{"subscriptions":{"other":{"msgBacklog":3}}}`, 0, `subscription "workers" does not exist`},
		{`{"subscriptions":{"workers":{}}}`, 0, "no msgBacklog"},
		{`{"subscriptions":{"workers":{"msgBacklog":-4}}}`, 0, "no msgBacklog"},
		{`{"reason":"Topic not found"}`, 0, "no subscriptions"},
		{`<html/>`, 0, "not Pulsar topic stats"},
	} {
		got, err := pulsarBacklog([]byte(tt.body), "workers")
		if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want %q", tt.body, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: %d, want %d", tt.body, got, tt.want)
		}
	}
}

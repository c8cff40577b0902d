package scalers

import (
	"context"
	"strings"
	"testing"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseNATSJetStreamMetadata(t *testing.T) {
	base := func(extra ...string) map[string]string {
		m := map[string]string{"natsServerMonitoringEndpoint": "nats.nats:8222", "account": "$G", "stream": "jobs", "consumer": "workers"}
		for i := 0; i+1 < len(extra); i += 2 {
			if extra[i+1] == "" {
				delete(m, extra[i])
				continue
			}
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	tests := []parseCase[meta.NatsJetStreamMetadata]{
		{name: "defaults", meta: base(), check: func(t *testing.T, m *meta.NatsJetStreamMetadata) {
			if m.LagThreshold != 10 || m.ActivationLagThreshold != 0 || m.UseHTTPS {
				t.Errorf("parsed %+v", m)
			}
			if got := m.JSZURL.String(); got != "http://nats.nats:8222/jsz?acc=%24G&config=true&consumers=true" {
				t.Errorf("jsz URL = %s", got)
			}
		}},
		{name: "https, thresholds", meta: base("useHttps", "true", "lagThreshold", "25", "activationLagThreshold", "3"), check: func(t *testing.T, m *meta.NatsJetStreamMetadata) {
			if m.JSZURL.Scheme != "https" || m.LagThreshold != 25 || m.ActivationLagThreshold != 3 {
				t.Errorf("parsed %+v %s", m, m.JSZURL)
			}
		}},
		{name: "accountID is asked for over the account name", meta: base("accountID", "ACCIDXYZ"), check: func(t *testing.T, m *meta.NatsJetStreamMetadata) {
			if m.JSZURL.Query().Get("acc") != "ACCIDXYZ" {
				t.Errorf("acc = %s", m.JSZURL.Query().Get("acc"))
			}
		}},
		{name: "endpoint and account from a TriggerAuthentication", meta: base("natsServerMonitoringEndpoint", "", "account", ""),
			auth: map[string]string{"natsServerMonitoringEndpoint": "secure-nats:8222", "account": "orders"},
			check: func(t *testing.T, m *meta.NatsJetStreamMetadata) {
				if m.JSZURL.Host != "secure-nats:8222" || m.JSZURL.Query().Get("acc") != "orders" {
					t.Errorf("jsz URL = %s", m.JSZURL)
				}
			}},
		{name: "no account", meta: base("account", ""), wantErr: []string{"trigger 0 (nats-jetstream)", "metadata.account", "is required (or accountID)", "$G"}},
		{name: "no stream", meta: base("stream", ""), wantErr: []string{"metadata.stream", "is required"}},
		{name: "no consumer", meta: base("consumer", ""), wantErr: []string{"metadata.consumer", "is required"}},
		{name: "no endpoint", meta: base("natsServerMonitoringEndpoint", ""), wantErr: []string{"metadata.natsServerMonitoringEndpoint", "is required"}},
		{name: "endpoint with a scheme", meta: base("natsServerMonitoringEndpoint", "http://nats:8222"), wantErr: []string{"natsServerMonitoringEndpoint", "is not host:port", "useHttps"}},
		{name: "endpoint without port", meta: base("natsServerMonitoringEndpoint", "nats"), wantErr: []string{"natsServerMonitoringEndpoint", "is not host:port"}},
		{name: "lagThreshold not a number", meta: base("lagThreshold", "ten"), wantErr: []string{"metadata.lagThreshold", `"ten" is not a valid integer`}},
		{name: "lagThreshold zero", meta: base("lagThreshold", "0"), wantErr: []string{"metadata.lagThreshold", "must be above 0"}},
		{name: "negative activation", meta: base("activationLagThreshold", "-1"), wantErr: []string{"activationLagThreshold", "0 or more"}},
		{name: "useHttps not a boolean", meta: base("useHttps", "yes"), wantErr: []string{"metadata.useHttps", "true or false"}},
		{name: "offline: endpoint may come from a TriggerAuthentication", meta: base("natsServerMonitoringEndpoint", ""), offline: true, check: func(*testing.T, *meta.NatsJetStreamMetadata) {}},
	}
	runParseCases(t, "nats-jetstream", tests)
}

// TestNATSJetStreamMetricName: s<index>-nats-jetstream-<stream>, normalized as KEDA does.
func TestNATSJetStreamMetricName(t *testing.T) {
	cfg := &Config{TriggerIndex: 2, TriggerType: "nats-jetstream", TriggerMetadata: map[string]string{
		"natsServerMonitoringEndpoint": "nats:8222", "account": "$G", "stream": "orders.eu", "consumer": "w", "lagThreshold": "5",
	}}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	specs := s.GetMetricSpecForScaling(context.Background())
	if len(specs) != 1 || specs[0].External.Metric.Name != "s2-nats-jetstream-orders-eu" || specs[0].External.Target.AverageValue.Value() != 5 {
		t.Fatalf("specs = %+v", specs)
	}
}

// TestNATSJetStreamFind: the consumer is found by account name or ID; a missing account, stream
// or consumer is an error that lists what the server has.
func TestNATSJetStreamFind(t *testing.T) {
	doc := &jszResponse{Accounts: []*jszAccount{{Name: "$G", ID: "$G"}, {Name: "orders", ID: "AORDERS", Streams: []*jszStream{
		{Name: "jobs", Consumers: []*jszConsumer{{Name: "workers", NumPending: 4, NumAckPending: 2}, {Name: "audit"}}},
		{Name: "other"},
	}}}}
	tests := []struct {
		name    string
		meta    meta.NatsJetStreamMetadata
		wantErr []string
	}{
		{name: "by name", meta: meta.NatsJetStreamMetadata{Account: "orders", Stream: "jobs", Consumer: "workers"}},
		{name: "by ID", meta: meta.NatsJetStreamMetadata{AccountID: "AORDERS", Stream: "jobs", Consumer: "workers"}},
		{name: "unknown account", meta: meta.NatsJetStreamMetadata{Account: "billing", Stream: "jobs", Consumer: "workers"}, wantErr: []string{`no JetStream account "billing"`, `"$G", "orders"`}},
		{name: "unknown stream", meta: meta.NatsJetStreamMetadata{Account: "orders", Stream: "job", Consumer: "workers"}, wantErr: []string{`no stream "job"`, `"jobs", "other"`, "metadata.stream"}},
		{name: "unknown consumer", meta: meta.NatsJetStreamMetadata{Account: "orders", Stream: "jobs", Consumer: "worker"}, wantErr: []string{`no consumer "worker"`, `"audit", "workers"`, "metadata.consumer"}},
		{name: "stream without consumers", meta: meta.NatsJetStreamMetadata{Account: "orders", Stream: "other", Consumer: "w"}, wantErr: []string{"it has none"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &natsJetStreamScaler{cfg: &Config{TriggerType: "nats-jetstream"}, meta: tt.meta}
			c, err := s.find(doc)
			if len(tt.wantErr) == 0 {
				if err != nil || c.NumPending+c.NumAckPending != 6 {
					t.Fatalf("find = %+v, %v", c, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want an error mentioning %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

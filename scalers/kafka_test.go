package scalers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

// kafkaSettings are the client library's settings of a validated trigger.
func kafkaSettings(t *testing.T, k *meta.KafkaTrigger) kafkaClientSettings {
	t.Helper()
	s, err := newKafkaClientSettings(k.Conn)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// parseKafka validates a trigger of typ as the scaler's constructor does and returns the
// validated trigger.
func parseKafka(t *testing.T, typ string, md, auth, env map[string]string, offline bool) (*meta.KafkaTrigger, error) {
	t.Helper()
	cfg := &Config{TriggerType: typ, TriggerIndex: 1, TriggerName: "orders", TriggerMetadata: md, AuthParams: auth, ResolvedEnv: env, Offline: offline}
	m := reflect.New(reflect.TypeOf(metadataOf(typ))).Interface()
	if err := parseKafkaMetadata(cfg, m); err != nil {
		return nil, err
	}
	if err := checkDriver(cfg, m); err != nil {
		return nil, err
	}
	switch m := m.(type) {
	case *meta.KafkaMetadata:
		return m.Trigger, nil
	case *meta.ApacheKafkaMetadata:
		return m.Trigger, nil
	}
	t.Fatalf("not a kafka metadata: %T", m)
	return nil, nil
}

const testKafkaPassword = "kafka-Pa55-never-shown"

func TestKafkaParameters(t *testing.T) {
	base := func(kv ...string) map[string]string {
		m := map[string]string{"bootstrapServers": "b0:9092,b1:9092", "consumerGroup": "workers", "topic": "orders"}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
				continue
			}
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	creds := func(kv ...string) map[string]string {
		m := map[string]string{"username": "alice", "password": testKafkaPassword}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	both := []string{"kafka", "apache-kafka"}
	tests := []struct {
		name    string
		types   []string
		meta    map[string]string
		auth    map[string]string
		env     map[string]string
		offline bool
		check   func(t *testing.T, k *meta.KafkaTrigger)
		wantErr []string
	}{
		{name: "defaults", types: both, meta: base(), check: func(t *testing.T, k *meta.KafkaTrigger) {
			if k.LagThreshold != 10 || k.ActivationLagThreshold != 0 || k.OffsetResetPolicy != "latest" || k.AllowIdleConsumers ||
				k.Conn.TLS != nil || kafkaSettings(t, k).mech != nil || k.Conn.Sasl != "none" || !slices.Equal(k.Conn.Brokers, []string{"b0:9092", "b1:9092"}) {
				t.Errorf("defaults = %+v, conn %+v", k.KafkaLagParams, k.Conn)
			}
		}},
		{name: "everything from env", types: both, meta: base("bootstrapServers", "", "consumerGroup", "", "topic", "",
			"bootstrapServersFromEnv", "BROKERS", "consumerGroupFromEnv", "GROUP", "topicFromEnv", "TOPIC"),
			env: map[string]string{"BROKERS": "e:1", "GROUP": "g", "TOPIC": "t"}, check: func(t *testing.T, k *meta.KafkaTrigger) {
				if k.Group != "g" || !slices.Equal(k.Topics, []string{"t"}) || !slices.Equal(k.Conn.Brokers, []string{"e:1"}) {
					t.Errorf("got group %q topics %v brokers %v", k.Group, k.Topics, k.Conn.Brokers)
				}
			}},
		{name: "no topic reads all the group's topics", types: both, meta: base("topic", "", "partitionLimitation", "1"), check: func(t *testing.T, k *meta.KafkaTrigger) {
			if len(k.Topics) != 0 || k.Partitions != nil {
				t.Errorf("topics %v partitions %v, want none (partitionLimitation ignored without topic)", k.Topics, k.Partitions)
			}
		}},
		{name: "apache-kafka topic list", types: []string{"apache-kafka"}, meta: base("topic", "a, b"), check: func(t *testing.T, k *meta.KafkaTrigger) {
			if !slices.Equal(k.Topics, []string{"a", "b"}) {
				t.Errorf("topics = %v", k.Topics)
			}
		}},
		{name: "partition limitation", types: both, meta: base("partitionLimitation", "1,2,10-12,2"), check: func(t *testing.T, k *meta.KafkaTrigger) {
			if !slices.Equal(k.Partitions, []int32{1, 2, 10, 11, 12}) {
				t.Errorf("partitions = %v", k.Partitions)
			}
		}},
		{name: "all the options", types: both, meta: base("lagThreshold", "5", "activationLagThreshold", "3", "offsetResetPolicy", "earliest",
			"excludePersistentLag", "true", "scaleToZeroOnInvalidOffset", "true", "limitToPartitionsWithLag", "true"), check: func(t *testing.T, k *meta.KafkaTrigger) {
			if k.LagThreshold != 5 || k.ActivationLagThreshold != 3 || k.OffsetResetPolicy != "earliest" || !k.ExcludePersistentLag || !k.ScaleToZeroOnInvalidOffset || !k.LimitToPartitionsWithLag {
				t.Errorf("got %+v", k.KafkaLagParams)
			}
		}},
		{name: "version", types: []string{"kafka"}, meta: base("version", "2.8.1"), check: func(t *testing.T, k *meta.KafkaTrigger) {
			if kafkaSettings(t, k).versions == nil {
				t.Error("version 2.8.1 not applied")
			}
		}},
		{name: "sasl plaintext from the TriggerAuthentication", types: both, meta: base(), auth: creds("sasl", "plaintext"), check: func(t *testing.T, k *meta.KafkaTrigger) {
			if kafkaSettings(t, k).mech == nil || kafkaSettings(t, k).mech.Name() != "PLAIN" {
				t.Errorf("mechanism = %v", kafkaSettings(t, k).mech)
			}
		}},
		{name: "sasl scram_sha512 in metadata", types: both, meta: base("sasl", "scram_sha512"), auth: creds(), check: func(t *testing.T, k *meta.KafkaTrigger) {
			if kafkaSettings(t, k).mech == nil || kafkaSettings(t, k).mech.Name() != "SCRAM-SHA-512" {
				t.Errorf("mechanism = %v", kafkaSettings(t, k).mech)
			}
		}},
		{name: "same sasl in both places", types: both, meta: base("sasl", "scram_sha256"), auth: creds("sasl", "scram_sha256"), check: func(t *testing.T, k *meta.KafkaTrigger) {
			if kafkaSettings(t, k).mech.Name() != "SCRAM-SHA-256" {
				t.Errorf("mechanism = %v", kafkaSettings(t, k).mech)
			}
		}},
		{name: "oauthbearer", types: []string{"kafka"}, meta: base("sasl", "oauthbearer"), auth: creds("oauthTokenEndpointUri", "https://idp/token", "scopes", "a,b", "oauthExtensions", "logicalCluster=lc-1,identityPoolId=pool"),
			check: func(t *testing.T, k *meta.KafkaTrigger) {
				if kafkaSettings(t, k).mech == nil || kafkaSettings(t, k).mech.Name() != "OAUTHBEARER" {
					t.Errorf("mechanism = %v", kafkaSettings(t, k).mech)
				}
			}},
		{name: "gssapi with password", types: []string{"kafka"}, meta: base("sasl", "gssapi"), auth: creds("realm", "EXAMPLE.COM", "kerberosConfig", "[libdefaults]\n default_realm = EXAMPLE.COM\n", "kerberosServiceName", "kfk"),
			check: func(t *testing.T, k *meta.KafkaTrigger) {
				if kafkaSettings(t, k).mech == nil || kafkaSettings(t, k).mech.Name() != "GSSAPI" {
					t.Errorf("mechanism = %v", kafkaSettings(t, k).mech)
				}
			}},
		{name: "tls with unsafeSsl", types: []string{"kafka"}, meta: base("tls", "enable", "unsafeSsl", "true"), check: func(t *testing.T, k *meta.KafkaTrigger) {
			if k.Conn.TLS == nil || !k.Conn.TLS.InsecureSkipVerify {
				t.Errorf("tls = %+v", k.Conn.TLS)
			}
		}},
		{name: "tls from the TriggerAuthentication", types: both, meta: base(), auth: map[string]string{"tls": "enable"}, check: func(t *testing.T, k *meta.KafkaTrigger) {
			if k.Conn.TLS == nil || k.Conn.TLS.InsecureSkipVerify {
				t.Errorf("tls = %+v", k.Conn.TLS)
			}
		}},
		{name: "offline without brokers", types: both, meta: base("bootstrapServers", "", "bootstrapServersFromEnv", "BROKERS"), offline: true},

		{name: "no brokers", types: both, meta: base("bootstrapServers", ""), wantErr: []string{`trigger 1`, `"orders"`, "metadata.bootstrapServers is required", "bootstrapServersFromEnv"}},
		{name: "broker without port", types: both, meta: base("bootstrapServers", "b0:9092,b1"), wantErr: []string{`bootstrapServers has "b1", which is not host:port`}},
		{name: "no group", types: both, meta: base("consumerGroup", ""), wantErr: []string{"metadata.consumerGroup is required"}},
		{name: "env var missing", types: both, meta: base("consumerGroup", "", "consumerGroupFromEnv", "NOPE"), wantErr: []string{"consumerGroup", `"NOPE"`, "no such variable"}},
		{name: "zero lag threshold", types: both, meta: base("lagThreshold", "0"), wantErr: []string{"metadata.lagThreshold is 0", "greater than 0"}},
		{name: "lag threshold not a number", types: both, meta: base("lagThreshold", "ten"), wantErr: []string{"metadata.lagThreshold", "not a valid integer"}},
		{name: "negative activation", types: both, meta: base("activationLagThreshold", "-1"), wantErr: []string{"metadata.activationLagThreshold is -1"}},
		{name: "bad offsetResetPolicy", types: both, meta: base("offsetResetPolicy", "newest"), wantErr: []string{"metadata.offsetResetPolicy", "latest"}},
		{name: "bad boolean", types: both, meta: base("allowIdleConsumers", "yes please"), wantErr: []string{"metadata.allowIdleConsumers", "true or false"}},
		{name: "idle and limit", types: both, meta: base("allowIdleConsumers", "true", "limitToPartitionsWithLag", "true"), wantErr: []string{"limitToPartitionsWithLag", "allowIdleConsumers", "choose one"}},
		{name: "limit and even", types: both, meta: base("ensureEvenDistributionOfPartitions", "true", "limitToPartitionsWithLag", "true"), wantErr: []string{"ensureEvenDistributionOfPartitions", "choose one"}},
		{name: "limit without topic", types: both, meta: base("topic", "", "limitToPartitionsWithLag", "true"), wantErr: []string{"limitToPartitionsWithLag needs a topic", "metadata.topic"}},
		{name: "even without topic", types: both, meta: base("topic", "", "ensureEvenDistributionOfPartitions", "true"), wantErr: []string{"ensureEvenDistributionOfPartitions needs a topic"}},
		{name: "bad partition list", types: both, meta: base("partitionLimitation", "1,x"), wantErr: []string{"metadata.partitionLimitation", `"x" is not a partition number`, "0,1,4-7"}},
		{name: "backwards range", types: both, meta: base("partitionLimitation", "5-2"), wantErr: []string{`"5-2" is not a range`}},
		{name: "kafka topic list", types: []string{"kafka"}, meta: base("topic", "a,b"), wantErr: []string{"metadata.topic", "one topic", "apache-kafka"}},
		{name: "bad version", types: []string{"kafka"}, meta: base("version", "banana"), wantErr: []string{"metadata.version", "banana", "2.8.1"}},
		{name: "unknown sasl", types: both, meta: base("sasl", "kerberos5"), wantErr: []string{"metadata.sasl", "plaintext"}},
		{name: "oauthbearer is kafka's", types: []string{"apache-kafka"}, meta: base("sasl", "oauthbearer"), auth: creds(), wantErr: []string{"metadata.sasl", "scram_sha512"}},
		{name: "sasl in both places", types: both, meta: base("sasl", "plaintext"), auth: creds("sasl", "scram_sha256"), wantErr: []string{"sasl is \"plaintext\" in the trigger and \"scram_sha256\" in the TriggerAuthentication", "one place"}},
		{name: "tls in both places", types: both, meta: base("tls", "enable"), auth: map[string]string{"tls": "disable"}, wantErr: []string{"tls", "one place"}},
		{name: "sasl without username", types: both, meta: base("sasl", "plaintext"), auth: map[string]string{"password": testKafkaPassword}, wantErr: []string{"username is required with sasl plaintext", "TriggerAuthentication"}},
		{name: "sasl without password", types: both, meta: base("sasl", "scram_sha256"), auth: map[string]string{"username": "alice"}, wantErr: []string{"password is required with sasl scram_sha256"}},
		{name: "oauthbearer without endpoint", types: []string{"kafka"}, meta: base("sasl", "oauthbearer"), auth: creds(), wantErr: []string{"oauthTokenEndpointUri is required"}},
		{name: "bad oauth extension", types: []string{"kafka"}, meta: base("sasl", "oauthbearer"), auth: creds("oauthTokenEndpointUri", "https://idp/token", "oauthExtensions", "k"), wantErr: []string{"oauthExtensions", "key=value"}},
		{name: "gssapi without realm", types: []string{"kafka"}, meta: base("sasl", "gssapi"), auth: creds("kerberosConfig", "[libdefaults]\n"), wantErr: []string{"realm is required with sasl gssapi"}},
		{name: "gssapi with password and keytab", types: []string{"kafka"}, meta: base("sasl", "gssapi"), auth: creds("realm", "R", "kerberosConfig", "[libdefaults]\n", "keytab", "xx"), wantErr: []string{"exactly one"}},
		{name: "gssapi bad keytab", types: []string{"kafka"}, meta: base("sasl", "gssapi"), auth: map[string]string{"username": "u", "realm": "R", "kerberosConfig": "[libdefaults]\n", "keytab": "not a keytab"}, wantErr: []string{"keytab is not a Kerberos keytab"}},
		{name: "gssapi on apache-kafka", types: []string{"apache-kafka"}, meta: base("sasl", "gssapi"), auth: creds(), wantErr: []string{"sasl is gssapi", "type: kafka"}},
		{name: "msk iam without tls", types: []string{"apache-kafka"}, meta: base("sasl", "aws_msk_iam", "awsRegion", "eu-west-1"), wantErr: []string{"tls must be enable"}},
		{name: "msk iam", types: []string{"apache-kafka"}, meta: base("sasl", "aws_msk_iam", "awsRegion", "eu-west-1", "tls", "enable"), wantErr: []string{"aws_msk_iam", "not support"}},
		{name: "msk iam token provider", types: []string{"kafka"}, meta: base("sasl", "oauthbearer", "saslTokenProvider", "aws_msk_iam", "tls", "enable"), auth: creds(), wantErr: []string{"awsRegion is required"}},
		{name: "bad ca", types: both, meta: base("tls", "enable"), auth: map[string]string{"ca": "not pem"}, wantErr: []string{"ca holds no PEM certificate"}},
		{name: "cert without key", types: both, meta: base("tls", "enable"), auth: map[string]string{"cert": "x"}, wantErr: []string{"key is required when cert is set"}},
		{name: "bad tls value", types: both, meta: base("tls", "on"), wantErr: []string{"metadata.tls", "enable, disable"}},
	}
	for _, tc := range tests {
		for _, typ := range tc.types {
			t.Run(typ+"/"+tc.name, func(t *testing.T) {
				k, err := parseKafka(t, typ, tc.meta, tc.auth, tc.env, tc.offline)
				if len(tc.wantErr) > 0 {
					if err == nil {
						t.Fatalf("want an error with %q", tc.wantErr)
					}
					for _, w := range append([]string{"(" + typ + ` "orders")`}, tc.wantErr...) {
						if !strings.Contains(err.Error(), w) {
							t.Errorf("error %q does not contain %q", err, w)
						}
					}
					if strings.Contains(err.Error(), testKafkaPassword) {
						t.Errorf("error %q shows the password", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if tc.check != nil {
					tc.check(t, k)
				}
			})
		}
	}
}

func TestKafkaMetricNames(t *testing.T) {
	tests := []struct {
		typ   string
		meta  map[string]string
		index int
		want  string
	}{
		{typ: "kafka", meta: map[string]string{"topic": "orders.v1"}, want: "s0-kafka-orders-v1"},
		{typ: "kafka", meta: map[string]string{}, index: 2, want: "s2-kafka-workers-topics"},
		{typ: "apache-kafka", meta: map[string]string{"topic": "a,b"}, want: "s0-kafka-a,b"},
		{typ: "apache-kafka", meta: map[string]string{}, index: 1, want: "s1-kafka-workers-topics"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			tc.meta["bootstrapServers"], tc.meta["consumerGroup"], tc.meta["lagThreshold"] = "127.0.0.1:1", "workers", "7"
			s, err := New(context.Background(), &Config{TriggerType: tc.typ, TriggerIndex: tc.index, TriggerMetadata: tc.meta})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(context.Background())
			specs := s.GetMetricSpecForScaling(context.Background())
			if len(specs) != 1 || specs[0].External.Metric.Name != tc.want || specs[0].External.Target.AverageValue.Value() != 7 {
				t.Errorf("spec = %+v, want metric %s with target 7", specs, tc.want)
			}
		})
	}
}

// TestKafkaLagRules applies KEDA's rules to offsets, poll after poll, without a broker.
func TestKafkaLagRules(t *testing.T) {
	p := func(part int32, committed, end int64) kafkaPartitionOffsets {
		return kafkaPartitionOffsets{topic: "t", partition: part, committed: committed, end: end}
	}
	type poll struct {
		offsets        []kafkaPartitionOffsets
		metric, active int64 // active is the lag with persistent lag
	}
	tests := []struct {
		name  string
		lag   meta.KafkaLagParams
		polls []poll
	}{
		{name: "sum of partition lags", lag: meta.KafkaLagParams{LagThreshold: 10}, polls: []poll{
			{offsets: []kafkaPartitionOffsets{p(0, 5, 8), p(1, 0, 4), p(2, 9, 9)}, metric: 7, active: 7}}},
		{name: "capped at one replica per partition", lag: meta.KafkaLagParams{LagThreshold: 2}, polls: []poll{
			{offsets: []kafkaPartitionOffsets{p(0, 0, 100), p(1, 0, 100)}, metric: 4, active: 200}}},
		{name: "allowIdleConsumers lifts the cap", lag: meta.KafkaLagParams{LagThreshold: 2, AllowIdleConsumers: true}, polls: []poll{
			{offsets: []kafkaPartitionOffsets{p(0, 0, 100), p(1, 0, 100)}, metric: 200, active: 200}}},
		{name: "limitToPartitionsWithLag", lag: meta.KafkaLagParams{LagThreshold: 2, LimitToPartitionsWithLag: true}, polls: []poll{
			{offsets: []kafkaPartitionOffsets{p(0, 0, 100), p(1, 5, 5), p(2, 7, 7)}, metric: 2, active: 100}}},
		{name: "no commit, latest", lag: meta.KafkaLagParams{LagThreshold: 10, OffsetResetPolicy: "latest"}, polls: []poll{
			{offsets: []kafkaPartitionOffsets{p(0, -1, 50), p(1, -1, 0)}, metric: 2, active: 2}}},
		{name: "no commit, earliest", lag: meta.KafkaLagParams{LagThreshold: 10, OffsetResetPolicy: "earliest", AllowIdleConsumers: true}, polls: []poll{
			{offsets: []kafkaPartitionOffsets{p(0, -1, 50), p(1, -1, 0)}, metric: 50, active: 50}}},
		{name: "no commit, scaleToZeroOnInvalidOffset", lag: meta.KafkaLagParams{LagThreshold: 10, OffsetResetPolicy: "earliest", ScaleToZeroOnInvalidOffset: true}, polls: []poll{
			{offsets: []kafkaPartitionOffsets{p(0, -1, 50)}, metric: 0, active: 0}}},
		{name: "excludePersistentLag", lag: meta.KafkaLagParams{LagThreshold: 10, ExcludePersistentLag: true}, polls: []poll{
			// First poll: nothing known, everything counts.
			{offsets: []kafkaPartitionOffsets{p(0, 3, 8), p(1, 0, 4)}, metric: 9, active: 9},
			// Partition 0 did not move: its lag is excluded from the value, not from activation.
			{offsets: []kafkaPartitionOffsets{p(0, 3, 9), p(1, 2, 4)}, metric: 2, active: 8},
			// It moved again: counted again.
			{offsets: []kafkaPartitionOffsets{p(0, 4, 9), p(1, 2, 4)}, metric: 5, active: 7},
		}},
		{name: "ensureEvenDistributionOfPartitions rounds up to a divisor", lag: meta.KafkaLagParams{LagThreshold: 10, EnsureEvenDistributionOfPartitions: true}, polls: []poll{
			// 6 partitions, lag 25 wants 3 replicas: 3 divides 6.
			{offsets: []kafkaPartitionOffsets{p(0, 0, 25), p(1, 0, 0), p(2, 0, 0), p(3, 0, 0), p(4, 0, 0), p(5, 0, 0)}, metric: 30, active: 25},
			// lag 41 wants 5 replicas: the next divisor is 6.
			{offsets: []kafkaPartitionOffsets{p(0, 0, 41), p(1, 0, 0), p(2, 0, 0), p(3, 0, 0), p(4, 0, 0), p(5, 0, 0)}, metric: 60, active: 41},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &kafkaScaler{t: &meta.KafkaTrigger{KafkaLagParams: tc.lag}, previous: map[string]map[int32]int64{}}
			for i, pl := range tc.polls {
				got := s.lag(pl.offsets)
				if got.metric != pl.metric || got.withPersistent != pl.active {
					t.Errorf("poll %d: metric %d, with persistent lag %d; want %d and %d", i, got.metric, got.withPersistent, pl.metric, pl.active)
				}
			}
		})
	}
}

// TestKafkaOAuthBearerToken: the OAUTHBEARER mechanism gets its token from the token endpoint
// with the client-credentials grant, once, and sends the extensions.
func TestKafkaOAuthBearerToken(t *testing.T) {
	calls := 0
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "client_credentials" || r.Form.Get("scope") != "kafka read" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if id, secret, ok := r.BasicAuth(); !ok || id != "client" || secret != testKafkaPassword {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "tok-1", "token_type": "bearer", "expires_in": 3600})
	}))
	defer idp.Close()
	p := meta.KafkaConnParams{Sasl: meta.KafkaSASLOAuthBearer, Username: "client", Password: testKafkaPassword, OauthTokenEndpointURI: idp.URL,
		Scopes: []string{"kafka", " read"}, OauthExtensions: []string{"logicalCluster=lc-1"}}
	if err := p.CheckSASL(false); err != nil {
		t.Fatal(err)
	}
	mech, err := kafkaMechanism(&p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 2 {
		_, first, err := mech.Authenticate(ctx, "127.0.0.1:9092")
		if err != nil {
			t.Fatal(err)
		}
		msg := string(first)
		if !strings.Contains(msg, "auth=Bearer tok-1") || !strings.Contains(msg, "logicalCluster=lc-1") {
			t.Errorf("client-first message %q lacks the token or the extension", msg)
		}
	}
	if calls != 1 {
		t.Errorf("token endpoint called %d times, want 1 (the token is reused until it expires)", calls)
	}
}

package scalers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	"github.com/kedactl/kedactl/test/cluster"
	kafkaserver "github.com/kedactl/kedactl/test/servers/kafka"
)

const (
	kafkaAdminPassword = "Kafka-admin-pw-never-in-errors-5b1e"
	kafkaUserPassword  = "Kafka-user-pw-never-in-errors-c09d"
)

// kafkaPollTimeout is the triggers' timeout in these tests.
const kafkaPollTimeout = 2 * time.Second

// TestKafkaScalersAgainstKfake runs the kafka and apache-kafka triggers against franz-go's kfake
// broker: the lag per partition and in total as a consumer group commits, the caps, persistent
// lag, the offset reset policy, activation, SASL and TLS, and every failure a poll can meet, each
// bounded by the trigger's timeout and free of the password.
func TestKafkaScalersAgainstKfake(t *testing.T) {
	for _, typ := range []string{"kafka", "apache-kafka"} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			testKafkaType(t, typ)
		})
	}
}

func testKafkaType(t *testing.T, typ string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := kafkaserver.Start(t, kafkaserver.Options{Users: []kafkaserver.User{
		{Mechanism: kafkaserver.ScramSHA256, Name: "admin", Password: kafkaAdminPassword},
		{Mechanism: kafkaserver.Plain, Name: "plain-user", Password: kafkaUserPassword},
		{Mechanism: kafkaserver.ScramSHA512, Name: "scram-user", Password: kafkaUserPassword},
	}})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// jobs has 3 partitions holding 5, 3 and 4 records; other has 1 holding 2.
	must(srv.CreateTopic(ctx, "jobs", 3))
	must(srv.CreateTopic(ctx, "other", 1))
	for p, n := range []int{5, 3, 4} {
		must(srv.Produce(ctx, "jobs", int32(p), n))
	}
	must(srv.Produce(ctx, "other", 0, 2))

	sasl := map[string]string{"sasl": "scram_sha256", "username": "admin", "password": kafkaAdminPassword}
	build := func(t *testing.T, meta, auth map[string]string) scalers.Scaler {
		t.Helper()
		s, err := scalers.New(ctx, &scalers.Config{TriggerType: typ, TriggerMetadata: meta, AuthParams: auth, Timeout: kafkaPollTimeout})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(ctx) })
		return s
	}
	trigger := func(group string, kv ...string) map[string]string {
		m := map[string]string{"bootstrapServers": srv.Bootstrap, "consumerGroup": group, "topic": "jobs", "lagThreshold": "100"}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	metricOf := func(s scalers.Scaler) string {
		return s.GetMetricSpecForScaling(ctx)[0].External.Metric.Name
	}
	read := func(t *testing.T, s scalers.Scaler) (int64, bool) {
		t.Helper()
		vals, active, err := s.GetMetricsAndActivity(ctx, metricOf(s))
		if err != nil {
			t.Fatal(err)
		}
		return vals[0].Value.Value(), active
	}
	expect := func(t *testing.T, s scalers.Scaler, value int64, active bool) {
		t.Helper()
		if v, a := read(t, s); v != value || a != active {
			t.Errorf("value %d, active %t; want %d, %t", v, a, value, active)
		}
	}

	// Group tool commits as a tool would: 2 on partition 0, 3 (all) on partition 1, nothing on 2.
	must(srv.Commit(ctx, "tool", "jobs", map[int32]int64{0: 2, 1: 3}))

	t.Run("lag per partition and in total", func(t *testing.T) {
		tests := []struct {
			name  string
			extra []string
			want  int64
		}{
			// Partition 2 has no commit: latest counts it as 1, earliest as all its 4 records.
			{name: "total, latest", want: 3 + 0 + 1},
			{name: "total, earliest", extra: []string{"offsetResetPolicy", "earliest"}, want: 3 + 0 + 4},
			{name: "scaleToZeroOnInvalidOffset", extra: []string{"scaleToZeroOnInvalidOffset", "true", "offsetResetPolicy", "earliest"}, want: 3},
			{name: "partition 0", extra: []string{"partitionLimitation", "0"}, want: 3},
			{name: "partition 1", extra: []string{"partitionLimitation", "1"}, want: 0},
			{name: "partitions 1-2", extra: []string{"partitionLimitation", "1-2", "offsetResetPolicy", "earliest"}, want: 4},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := build(t, trigger("tool", tc.extra...), sasl)
				if got := metricOf(s); got != "s0-kafka-jobs" {
					t.Errorf("metric name %q, want s0-kafka-jobs", got)
				}
				expect(t, s, tc.want, tc.want > 0)
			})
		}
	})

	t.Run("a real consumer group", func(t *testing.T) {
		// Its own topic, so that the other cases' offsets stay as set above.
		must(srv.CreateTopic(ctx, "stream", 2))
		must(srv.Produce(ctx, "stream", 0, 7))
		must(srv.Produce(ctx, "stream", 1, 5))
		s := build(t, trigger("workers", "topic", "stream", "offsetResetPolicy", "earliest"), sasl)
		// Before the group exists, earliest counts every record.
		expect(t, s, 12, true)
		must(srv.Consume(ctx, "workers", 12, "stream"))
		expect(t, s, 0, false)
		must(srv.Produce(ctx, "stream", 1, 4))
		expect(t, s, 4, true)
		must(srv.Consume(ctx, "workers", 4, "stream"))
		expect(t, s, 0, false)
	})

	t.Run("every topic of the group when no topic is set", func(t *testing.T) {
		group := "multi"
		must(srv.Commit(ctx, group, "jobs", map[int32]int64{0: 5, 1: 3, 2: 1}))
		must(srv.Commit(ctx, group, "other", map[int32]int64{0: 0}))
		s := build(t, trigger(group, "topic", ""), sasl)
		if got, want := metricOf(s), "s0-kafka-"+group+"-topics"; got != want {
			t.Errorf("metric name %q, want %q", got, want)
		}
		// jobs: 0 + 0 + 3; other: 2.
		expect(t, s, 3+2, true)
		// A group that commits to nothing has no lag.
		expect(t, build(t, trigger("nobody", "topic", ""), sasl), 0, false)
	})

	t.Run("caps", func(t *testing.T) {
		// tool, earliest: lags 3, 0, 4 (7 in total) over 3 partitions, 2 of them with lag.
		tests := []struct {
			name  string
			extra []string
			want  int64
		}{
			{name: "one replica per partition", want: 3},
			{name: "allowIdleConsumers", extra: []string{"allowIdleConsumers", "true"}, want: 7},
			{name: "limitToPartitionsWithLag", extra: []string{"limitToPartitionsWithLag", "true"}, want: 2},
			// 7 wants 7 replicas; capped to 3, which divides 3.
			{name: "ensureEvenDistributionOfPartitions", extra: []string{"ensureEvenDistributionOfPartitions", "true"}, want: 3},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := build(t, trigger("tool", append([]string{"lagThreshold", "1", "offsetResetPolicy", "earliest"}, tc.extra...)...), sasl)
				expect(t, s, tc.want, true)
			})
		}
	})

	t.Run("excludePersistentLag", func(t *testing.T) {
		group := "stuck"
		must(srv.Commit(ctx, group, "jobs", map[int32]int64{0: 1, 1: 3, 2: 4}))
		s := build(t, trigger(group, "excludePersistentLag", "true", "partitionLimitation", "0-1"), sasl)
		// First poll: lag 4 on partition 0, 0 on partition 1, all counted.
		expect(t, s, 4, true)
		// Nothing moved: the stuck partition's lag leaves the value but keeps the trigger active.
		expect(t, s, 0, true)
		// The group moves on partition 0: counted again.
		must(srv.Commit(ctx, group, "jobs", map[int32]int64{0: 3}))
		expect(t, s, 2, true)
	})

	t.Run("activation", func(t *testing.T) {
		// tool, latest: lag 4.
		expect(t, build(t, trigger("tool", "activationLagThreshold", "4"), sasl), 4, false)
		expect(t, build(t, trigger("tool", "activationLagThreshold", "3"), sasl), 4, true)
	})

	t.Run("SASL mechanisms from the TriggerAuthentication", func(t *testing.T) {
		mechanisms := []struct{ sasl, user string }{{"plaintext", "plain-user"}, {"scram_sha512", "scram-user"}, {"scram_sha256", "admin"}}
		for _, m := range mechanisms {
			t.Run(m.sasl, func(t *testing.T) {
				pw := kafkaUserPassword
				if m.user == "admin" {
					pw = kafkaAdminPassword
				}
				expect(t, build(t, trigger("tool"), map[string]string{"sasl": m.sasl, "username": m.user, "password": pw}), 4, true)
			})
		}
	})

	// failing polls once and checks the error: it comes within the timeout, names the trigger
	// type and what went wrong, and never shows a password.
	failing := func(t *testing.T, s scalers.Scaler, wants ...string) {
		t.Helper()
		start := time.Now()
		_, _, err := s.GetMetricsAndActivity(ctx, metricOf(s))
		took := time.Since(start)
		if err == nil {
			t.Fatal("want an error")
		}
		t.Logf("error after %s: %v", took.Round(time.Millisecond), err)
		if took > kafkaPollTimeout+time.Second {
			t.Errorf("failed after %s, the trigger's timeout is %s", took, kafkaPollTimeout)
		}
		for _, w := range append([]string{"(" + typ + ")"}, wants...) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not mention %q", err, w)
			}
		}
		for _, pw := range []string{kafkaAdminPassword, kafkaUserPassword, "wrong-" + kafkaAdminPassword} {
			if strings.Contains(err.Error(), pw) {
				t.Errorf("error %q shows a password", err)
			}
		}
	}

	t.Run("failures", func(t *testing.T) {
		ports, err := cluster.FreePorts(1)
		if err != nil {
			t.Fatal(err)
		}
		dead := fmt.Sprintf("127.0.0.1:%d", ports[0])
		tests := []struct {
			name  string
			meta  map[string]string
			auth  map[string]string
			wants []string
		}{
			{name: "wrong password", meta: trigger("tool"), auth: map[string]string{"sasl": "scram_sha256", "username": "admin", "password": "wrong-" + kafkaAdminPassword},
				wants: []string{"refuse the credentials", "check username and password"}},
			{name: "unknown user", meta: trigger("tool"), auth: map[string]string{"sasl": "plaintext", "username": "mallory", "password": kafkaUserPassword},
				wants: []string{"check username and password"}},
			{name: "no SASL", meta: trigger("tool"), wants: []string{srv.Bootstrap, "require SASL set sasl, username and password"}},
			{name: "unknown topic", meta: trigger("tool", "topic", "nope"), auth: sasl, wants: []string{`topic "nope" does not exist`, "check topic"}},
			{name: "partitions the topic lacks", meta: trigger("tool", "partitionLimitation", "7-9"), auth: sasl, wants: []string{"none of the partitions 7-9", "partitionLimitation"}},
			{name: "nothing listens", meta: trigger("tool", "bootstrapServers", dead), auth: sasl, wants: []string{dead}},
			{name: "silent broker", meta: trigger("tool", "bootstrapServers", silentServer(t)), auth: sasl, wants: []string{"within the trigger's timeout"}},
			{name: "TLS to a plain broker", meta: trigger("tool", "tls", "enable"), auth: sasl, wants: []string{srv.Bootstrap, "within the trigger's timeout", "tls matches"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				failing(t, build(t, tc.meta, tc.auth), tc.wants...)
			})
		}
	})

	t.Run("TLS", func(t *testing.T) {
		tlsSrv := kafkaserver.Start(t, kafkaserver.Options{TLS: true, ClientCerts: true,
			Users: []kafkaserver.User{{Mechanism: kafkaserver.ScramSHA512, Name: "admin", Password: kafkaAdminPassword}}})
		must(tlsSrv.CreateTopic(ctx, "jobs", 2))
		must(tlsSrv.Produce(ctx, "jobs", 0, 6))
		must(tlsSrv.Commit(ctx, "tool", "jobs", map[int32]int64{0: 1, 1: 0}))
		meta := map[string]string{"bootstrapServers": tlsSrv.Bootstrap, "consumerGroup": "tool", "topic": "jobs", "lagThreshold": "100"}
		auth := map[string]string{"tls": "enable", "ca": string(tlsSrv.TLS.CAPEM), "cert": string(tlsSrv.TLS.CertPEM), "key": string(tlsSrv.TLS.KeyPEM),
			"sasl": "scram_sha512", "username": "admin", "password": kafkaAdminPassword}
		expect(t, build(t, meta, auth), 5, true)

		without := func(keys ...string) map[string]string {
			m := map[string]string{}
			for k, v := range auth {
				m[k] = v
			}
			for _, k := range keys {
				delete(m, k)
			}
			return m
		}
		t.Run("unknown CA", func(t *testing.T) {
			failing(t, build(t, meta, without("ca")), "TLS failed", "parameter ca")
		})
		t.Run("no client certificate", func(t *testing.T) {
			failing(t, build(t, meta, without("cert", "key")), "certificate required", "client certificate in cert and key")
		})
		t.Run("plain to a TLS broker", func(t *testing.T) {
			failing(t, build(t, meta, without("tls")), "is TLS missing", `set tls: "enable"`)
		})
		if typ == "kafka" {
			t.Run("unsafeSsl skips verification", func(t *testing.T) {
				m := map[string]string{"unsafeSsl": "true"}
				for k, v := range meta {
					m[k] = v
				}
				expect(t, build(t, m, without("ca")), 5, true)
			})
		}
	})
}

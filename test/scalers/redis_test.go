package scalers_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kedactl/kedactl/scalers"
	"github.com/kedactl/kedactl/test/cluster"
	redisserver "github.com/kedactl/kedactl/test/servers/redis"
)

const (
	redisTestPassword    = "Redis-pw-never-in-errors-91c2"
	sentinelTestPassword = "Sentinel-pw-never-in-errors-4d7e"
)

// redisSetup is one topology with real servers behind it.
type redisSetup struct {
	// listType and streamsType are its trigger types.
	listType, streamsType string
	// conn is the connection metadata without passwords; auth holds the passwords, as a
	// TriggerAuthentication would.
	conn map[string]string
	auth map[string]string
	// admin writes test data.
	admin goredis.UniversalClient
	// at is conn pointing at another host:port (a dead or silent server).
	at func(addr string) map[string]string
}

func startStandalone(t *testing.T) *redisSetup {
	srv := redisserver.Start(t, redisserver.Options{Password: redisTestPassword})
	admin := srv.Client()
	t.Cleanup(func() { admin.Close() })
	at := func(addr string) map[string]string { return map[string]string{"address": addr} }
	return &redisSetup{listType: "redis", streamsType: "redis-streams", conn: at(srv.Addr), auth: map[string]string{"password": redisTestPassword}, admin: admin, at: at}
}

func startCluster(t *testing.T) *redisSetup {
	c := redisserver.StartCluster(t, redisserver.ClusterOptions{Password: redisTestPassword})
	admin := c.Client()
	t.Cleanup(func() { admin.Close() })
	// hosts and ports here, addresses in the failure cases: both ways of naming the nodes.
	var hosts, ports []string
	for _, n := range c.Nodes {
		hosts, ports = append(hosts, n.Host), append(ports, fmt.Sprint(n.Port))
	}
	return &redisSetup{listType: "redis-cluster", streamsType: "redis-cluster-streams",
		conn: map[string]string{"hosts": strings.Join(hosts, ","), "ports": strings.Join(ports, ",")},
		auth: map[string]string{"password": redisTestPassword}, admin: admin,
		at: func(addr string) map[string]string { return map[string]string{"addresses": addr} }}
}

func startSentinel(t *testing.T) *redisSetup {
	s := redisserver.StartSentinel(t, redisserver.SentinelOptions{Password: redisTestPassword, SentinelPassword: sentinelTestPassword, MasterName: "jobs-master"})
	admin := s.Client()
	t.Cleanup(func() { admin.Close() })
	at := func(addr string) map[string]string {
		return map[string]string{"addresses": addr, "sentinelMaster": "jobs-master"}
	}
	return &redisSetup{listType: "redis-sentinel", streamsType: "redis-sentinel-streams", conn: at(s.Addr),
		auth: map[string]string{"password": redisTestPassword, "sentinelPassword": sentinelTestPassword}, admin: admin, at: at}
}

// TestRedisFamilyAgainstRealServers runs the list and stream triggers against a redis-server, a
// three-master Redis Cluster and a master behind a sentinel, all with passwords: values and
// activation of every measurement, and the failures a poll can meet, each bounded by the
// trigger's timeout and free of passwords.
func TestRedisFamilyAgainstRealServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	for _, setup := range []struct {
		name  string
		start func(*testing.T) *redisSetup
	}{{"standalone", startStandalone}, {"cluster", startCluster}, {"sentinel", startSentinel}} {
		t.Run(setup.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			r := setup.start(t)
			t.Logf("%s ready in %s", setup.name, time.Since(start).Round(time.Millisecond))
			testRedisSetup(t, r)
		})
	}
}

// redisPollTimeout is the triggers' timeout in these tests.
const redisPollTimeout = time.Second

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func buildRedis(t *testing.T, typ string, meta, auth, env map[string]string) scalers.Scaler {
	t.Helper()
	ctx := context.Background()
	s, err := scalers.New(ctx, &scalers.Config{TriggerType: typ, TriggerName: "jobs", TriggerMetadata: meta, AuthParams: auth, ResolvedEnv: env, Timeout: redisPollTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(ctx) })
	return s
}

func readRedis(t *testing.T, s scalers.Scaler) (int64, bool) {
	t.Helper()
	name := s.GetMetricSpecForScaling(context.Background())[0].External.Metric.Name
	vals, active, err := s.GetMetricsAndActivity(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return vals[0].Value.Value(), active
}

// failingRedis polls s once and checks the error: it comes within the timeout, names the trigger
// type, says what went wrong and never shows a password.
func failingRedis(t *testing.T, s scalers.Scaler, typ string, wants ...string) {
	t.Helper()
	start := time.Now()
	_, _, err := s.GetMetricsAndActivity(context.Background(), "m")
	took := time.Since(start)
	if err == nil {
		t.Fatal("want an error")
	}
	t.Logf("error after %s: %v", took.Round(time.Millisecond), err)
	if took > redisPollTimeout+time.Second {
		t.Errorf("failed after %s, the trigger's timeout is %s", took, redisPollTimeout)
	}
	for _, w := range append([]string{`trigger 0 (` + typ + ` "jobs")`}, wants...) {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	for _, pw := range []string{redisTestPassword, sentinelTestPassword} {
		if strings.Contains(err.Error(), pw) {
			t.Errorf("error %q shows a password", err)
		}
	}
}

func testRedisSetup(t *testing.T, r *redisSetup) {
	ctx := context.Background()
	admin := r.admin
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	t.Run("list", func(t *testing.T) {
		// The password from the target's env here, from a TriggerAuthentication everywhere else.
		env := map[string]string{"REDIS_PASSWORD": redisTestPassword, "SENTINEL_PASSWORD": sentinelTestPassword}
		s := buildRedis(t, r.listType, merge(r.conn, map[string]string{"listName": "jobs", "activationListLength": "2", "passwordFromEnv": "REDIS_PASSWORD", "sentinelPasswordFromEnv": "SENTINEL_PASSWORD"}), nil, env)
		specs := s.GetMetricSpecForScaling(ctx)
		if len(specs) != 1 || specs[0].External.Metric.Name != "s0-redis-jobs" || specs[0].External.Target.AverageValue.Value() != 5 {
			t.Fatalf("metric spec = %+v", specs)
		}
		for _, step := range []struct {
			push   int
			value  int64
			active bool
		}{{0, 0, false}, {2, 2, false}, {1, 3, true}, {10, 13, true}} {
			for range step.push {
				must(admin.RPush(ctx, "jobs", "x").Err())
			}
			if v, active := readRedis(t, s); v != step.value || active != step.active {
				t.Errorf("list of %d: value=%d active=%v, want %d %v", step.value, v, active, step.value, step.active)
			}
		}
	})

	t.Run("many lists", func(t *testing.T) {
		// In a cluster, these keys live on every master.
		for i := range 12 {
			key := fmt.Sprintf("list-%d", i)
			for range i {
				must(admin.RPush(ctx, key, "x").Err())
			}
			s := buildRedis(t, r.listType, merge(r.conn, map[string]string{"listName": key}), r.auth, nil)
			if v, _ := readRedis(t, s); v != int64(i) {
				t.Errorf("%s: value %d, want %d", key, v, i)
			}
		}
	})

	t.Run("stream length", func(t *testing.T) {
		s := buildRedis(t, r.streamsType, merge(r.conn, map[string]string{"stream": "events", "streamLength": "3", "activationLagCount": "1"}), r.auth, nil)
		specs := s.GetMetricSpecForScaling(ctx)
		if specs[0].External.Metric.Name != "s0-redis-streams-events" || specs[0].External.Target.AverageValue.Value() != 3 {
			t.Fatalf("metric spec = %+v", specs)
		}
		if v, active := readRedis(t, s); v != 0 || active {
			t.Errorf("missing stream: value=%d active=%v, want 0 false", v, active)
		}
		for i, want := range []bool{false, true, true} {
			must(admin.XAdd(ctx, &goredis.XAddArgs{Stream: "events", Values: []string{"n", fmt.Sprint(i)}}).Err())
			if v, active := readRedis(t, s); v != int64(i+1) || active != want {
				t.Errorf("%d entries: value=%d active=%v, want %d %v", i+1, v, active, i+1, want)
			}
		}
	})

	t.Run("pending entries and lag", func(t *testing.T) {
		pending := buildRedis(t, r.streamsType, merge(r.conn, map[string]string{"stream": "orders", "consumerGroup": "workers", "pendingEntriesCount": "4"}), r.auth, nil)
		lag := buildRedis(t, r.streamsType, merge(r.conn, map[string]string{"stream": "orders", "consumerGroup": "workers", "lagCount": "2", "activationLagCount": "1"}), r.auth, nil)
		check := func(what string, wantPending, wantLag int64) {
			t.Helper()
			if v, active := readRedis(t, pending); v != wantPending || active != (wantPending > 0) {
				t.Errorf("%s: pending=%d active=%v, want %d", what, v, active, wantPending)
			}
			if v, active := readRedis(t, lag); v != wantLag || active != (wantLag > 1) {
				t.Errorf("%s: lag=%d active=%v, want %d", what, v, active, wantLag)
			}
		}
		check("no stream, no group", 0, 0)
		must(admin.XGroupCreateMkStream(ctx, "orders", "workers", "$").Err())
		check("empty group", 0, 0)
		for i := range 5 {
			must(admin.XAdd(ctx, &goredis.XAddArgs{Stream: "orders", Values: []string{"n", fmt.Sprint(i)}}).Err())
		}
		check("5 entries, none delivered", 0, 5)
		read, err := admin.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: "workers", Consumer: "w1", Streams: []string{"orders", ">"}, Count: 3}).Result()
		must(err)
		check("3 delivered", 3, 2)
		for _, m := range read[0].Messages[:2] {
			must(admin.XAck(ctx, "orders", "workers", m.ID).Err())
		}
		check("2 of them acknowledged", 1, 2)
	})

	t.Run("wrong password", func(t *testing.T) {
		auth := merge(r.auth, map[string]string{"password": "wrong-" + redisTestPassword})
		s := buildRedis(t, r.listType, merge(r.conn, map[string]string{"listName": "jobs"}), auth, nil)
		failingRedis(t, s, r.listType, "check username and password")
	})

	t.Run("nothing listens", func(t *testing.T) {
		ports, err := cluster.FreePorts(1)
		must(err)
		s := buildRedis(t, r.streamsType, merge(r.at(fmt.Sprintf("127.0.0.1:%d", ports[0])), map[string]string{"stream": "events"}), r.auth, nil)
		failingRedis(t, s, r.streamsType, "connection refused")
	})

	t.Run("server accepts and never answers", func(t *testing.T) {
		addr := silentServer(t)
		s := buildRedis(t, r.listType, merge(r.at(addr), map[string]string{"listName": "jobs"}), r.auth, nil)
		failingRedis(t, s, r.listType, "no answer within the trigger's timeout of 1s")
	})

	t.Run("closed scaler", func(t *testing.T) {
		s := buildRedis(t, r.listType, merge(r.conn, map[string]string{"listName": "jobs"}), r.auth, nil)
		readRedis(t, s)
		must(s.Close(ctx))
		failingRedis(t, s, r.listType, "closed")
	})

	if r.listType == "redis-sentinel" {
		t.Run("wrong sentinel password", func(t *testing.T) {
			auth := merge(r.auth, map[string]string{"sentinelPassword": "wrong-" + sentinelTestPassword})
			s := buildRedis(t, r.listType, merge(r.conn, map[string]string{"listName": "jobs"}), auth, nil)
			failingRedis(t, s, r.listType, "the sentinels refused the credentials: check sentinelUsername and sentinelPassword")
		})
		t.Run("unknown master name", func(t *testing.T) {
			s := buildRedis(t, r.streamsType, merge(r.conn, map[string]string{"stream": "events", "sentinelMaster": "no-such-master"}), r.auth, nil)
			failingRedis(t, s, r.streamsType, `the sentinels monitor no master named "no-such-master": check sentinelMaster`)
		})
	}
}

// silentServer accepts connections and never answers; it closes when the test ends.
func silentServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 64)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		l.Close()
		for c := range accepted {
			c.Close()
		}
	})
	return l.Addr().String()
}

// TestRedisTLSAgainstRealServer: a TLS-only redis-server that requires client certificates, read
// with the CA and a client certificate from a TriggerAuthentication, and every way TLS can be
// misconfigured.
func TestRedisTLSAgainstRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	ctx := context.Background()
	srv := redisserver.Start(t, redisserver.Options{Password: redisTestPassword, TLS: true, TLSClientAuth: true})
	admin := srv.Client()
	defer admin.Close()
	if err := admin.RPush(ctx, "jobs", "a", "b", "c").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.XAdd(ctx, &goredis.XAddArgs{Stream: "events", Values: []string{"k", "v"}}).Err(); err != nil {
		t.Fatal(err)
	}
	files := srv.TLS
	ca, cert, key := string(files.CAPEM), string(files.CertPEM), string(files.KeyPEM)
	encryptedKey := encryptKey(t, files.KeyPEM, "key-passphrase")
	list := map[string]string{"address": srv.Addr, "listName": "jobs"}
	tlsOn := map[string]string{"enableTLS": "true"}
	auth := func(kv ...string) map[string]string {
		m := map[string]string{"password": redisTestPassword}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}

	for _, ok := range []struct {
		name string
		meta map[string]string
		auth map[string]string
	}{
		{"enableTLS with ca, cert and key", merge(list, tlsOn), auth("ca", ca, "cert", cert, "key", key)},
		{"tls enable in the TriggerAuthentication", list, auth("tls", "enable", "ca", ca, "cert", cert, "key", key)},
		{"legacy Cert parameter", merge(list, tlsOn), auth("ca", ca, "Cert", cert, "key", key)},
		{"encrypted key with keyPassword", merge(list, tlsOn), auth("ca", ca, "cert", cert, "key", encryptedKey, "keyPassword", "key-passphrase")},
		{"unsafeSsl instead of ca", merge(list, tlsOn, map[string]string{"unsafeSsl": "true"}), auth("cert", cert, "key", key)},
	} {
		t.Run(ok.name, func(t *testing.T) {
			s := buildRedis(t, "redis", ok.meta, ok.auth, nil)
			if v, active := readRedis(t, s); v != 3 || !active {
				t.Errorf("value=%d active=%v, want 3 true", v, active)
			}
		})
	}
	t.Run("streams over TLS", func(t *testing.T) {
		s := buildRedis(t, "redis-streams", map[string]string{"address": srv.Addr, "stream": "events", "enableTLS": "true"}, auth("ca", ca, "cert", cert, "key", key), nil)
		if v, _ := readRedis(t, s); v != 1 {
			t.Errorf("value=%d, want 1", v)
		}
	})

	t.Run("unknown CA", func(t *testing.T) {
		s := buildRedis(t, "redis", merge(list, tlsOn), auth("cert", cert, "key", key), nil)
		failingRedis(t, s, "redis", "certificate signed by unknown authority", "parameter ca")
	})
	t.Run("no client certificate", func(t *testing.T) {
		s := buildRedis(t, "redis", merge(list, tlsOn), auth("ca", ca), nil)
		failingRedis(t, s, "redis", "cert and key")
	})
	t.Run("plain connection to a TLS server", func(t *testing.T) {
		s := buildRedis(t, "redis", list, auth(), nil)
		failingRedis(t, s, "redis", "enableTLS")
	})
}

// encryptKey re-encrypts a PKCS#8 EC key the traditional way (Proc-Type: 4,ENCRYPTED), which is
// what keyPassword decrypts.
func encryptKey(t *testing.T, keyPEM []byte, password string) string {
	t.Helper()
	block, _ := pem.Decode(keyPEM)
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(parsed)
	if err != nil {
		t.Fatal(err)
	}
	//nolint:staticcheck // the legacy encryption keyPassword exists for
	enc, err := x509.EncryptPEMBlock(rand.Reader, "PRIVATE KEY", der, []byte(password), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(enc))
}

package scalers

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
	"github.com/redis/go-redis/v9"
)

// parseRedis validates a trigger of typ the way the webhook does and returns its metadata.
func parseRedis(t *testing.T, typ string, meta, auth map[string]string, offline bool) (any, error) {
	t.Helper()
	cfg := &Config{TriggerType: typ, TriggerIndex: 2, TriggerName: "orders", TriggerMetadata: meta, AuthParams: auth, Offline: offline}
	m := reflect.New(reflect.TypeOf(metadataOf(typ))).Interface()
	return m, ParseMetadata(cfg, m)
}

func connOf(t *testing.T, m any) *meta.RedisConnection {
	t.Helper()
	switch m := m.(type) {
	case *meta.RedisMetadata:
		return m.Conn
	case *meta.RedisClusterMetadata:
		return m.Conn
	case *meta.RedisSentinelMetadata:
		return m.Conn
	case *meta.RedisStreamsMetadata:
		return m.Conn
	case *meta.RedisClusterStreamsMetadata:
		return m.Conn
	case *meta.RedisSentinelStreamsMetadata:
		return m.Conn
	}
	t.Fatalf("not a redis metadata: %T", m)
	return nil
}

func TestRedisConnectionParameters(t *testing.T) {
	list := func(kv ...string) map[string]string {
		m := map[string]string{"listName": "jobs"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		typ     string
		meta    map[string]string
		auth    map[string]string
		offline bool
		want    []string // addresses
		wantErr []string
	}{
		{name: "cluster addresses", typ: "redis-cluster", meta: list("addresses", "a:1, b:2,c:3"), want: []string{"a:1", "b:2", "c:3"}},
		{name: "cluster hosts and ports", typ: "redis-cluster", meta: list("hosts", " a, b ", "ports", "1,2"), want: []string{"a:1", "b:2"}},
		{name: "cluster addresses win over address", typ: "redis-cluster", meta: list("addresses", "a:1", "address", "z:9"), want: []string{"a:1"}},
		{name: "cluster falls back to address", typ: "redis-cluster", meta: list("address", "a:1"), want: []string{"a:1"}},
		{name: "cluster addresses from a TriggerAuthentication", typ: "redis-cluster", meta: list(), auth: map[string]string{"addresses": "a:1,b:2"}, want: []string{"a:1", "b:2"}},
		{name: "sentinel", typ: "redis-sentinel", meta: list("addresses", "s:26379", "sentinelMaster", "mymaster", "databaseIndex", "3"), want: []string{"s:26379"}},
		{name: "standalone ignores addresses when address is set", typ: "redis", meta: list("address", "a:1", "addresses", "b:2"), want: []string{"a:1"}},
		{name: "ipv6", typ: "redis", meta: list("host", "::1", "port", "6379"), want: []string{"[::1]:6379"}},

		{name: "cluster without addresses", typ: "redis-cluster", meta: list(), wantErr: []string{`trigger 2 (redis-cluster "orders")`, "metadata.addresses is required", "metadata.hosts and metadata.ports"}},
		{name: "unequal hosts and ports", typ: "redis-cluster", meta: list("hosts", "a,b,c", "ports", "1,2"), wantErr: []string{"metadata.ports has 2 entries for 3 hosts", "one port per host"}},
		{name: "not host:port", typ: "redis-cluster", meta: list("addresses", "a:1,b"), wantErr: []string{`metadata.addresses has "b", which is not host:port`}},
		{name: "bad port", typ: "redis", meta: list("address", "a:99999"), wantErr: []string{"metadata.address", "port is not a number from 1 to 65535"}},
		{name: "cluster has only database 0", typ: "redis-cluster", meta: list("addresses", "a:1", "databaseIndex", "1"), wantErr: []string{"metadata.databaseIndex is 1", "only database 0"}},
		{name: "negative database", typ: "redis", meta: list("address", "a:1", "databaseIndex", "-1"), wantErr: []string{"metadata.databaseIndex is -1"}},
		{name: "sentinel without master", typ: "redis-sentinel-streams", meta: map[string]string{"stream": "s", "addresses": "s:26379"}, wantErr: []string{"metadata.sentinelMaster is required", "sentinelMasterFromEnv"}},
		{name: "standalone given only addresses", typ: "redis", meta: list("addresses", "a:1"), wantErr: []string{"metadata.address is required", "are for the redis-cluster and redis-sentinel triggers"}},

		{name: "offline: the sentinel master may come from a TriggerAuthentication", typ: "redis-sentinel", meta: list("addresses", "s:1"), offline: true},
		{name: "offline: so may the addresses", typ: "redis-cluster-streams", meta: map[string]string{"stream": "s"}, offline: true},
		{name: "offline: a bad target is still found", typ: "redis-cluster", meta: list("listLength", "0"), offline: true, wantErr: []string{"metadata.listLength is 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseRedis(t, tt.typ, tt.meta, tt.auth, tt.offline)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("want an error mentioning %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.offline {
				return
			}
			if got := connOf(t, m).Addrs; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("addresses = %q, want %q", got, tt.want)
			}
		})
	}
}

// testPEMs makes a CA certificate and a client certificate with its key (PKCS#8 PEM).
func testPEMs(t *testing.T) (caPEM, certPEM, keyPEM []byte, key *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return certPEM, certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), key
}

func TestRedisTLSParameters(t *testing.T) {
	caPEM, certPEM, keyPEM, key := testPEMs(t)
	ecDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	//nolint:staticcheck // the legacy encryption keyPassword exists for
	encBlock, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", ecDER, []byte("key-passphrase-secret"), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	encrypted := string(pem.EncodeToMemory(encBlock))
	pkcs8Encrypted := "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
	meta := func(kv ...string) map[string]string {
		m := map[string]string{"listName": "jobs", "address": "127.0.0.1:6379"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name     string
		meta     map[string]string
		auth     map[string]string
		wantTLS  bool
		insecure bool
		certs    int
		roots    bool
		wantErr  []string
	}{
		{name: "off by default", meta: meta()},
		{name: "off, certificates unused", meta: meta(), auth: map[string]string{"ca": string(caPEM)}},
		{name: "enableTLS", meta: meta("enableTLS", "true"), wantTLS: true},
		{name: "enableTLS false", meta: meta("enableTLS", "false")},
		{name: "tls enable from a TriggerAuthentication, with ca, cert and key", meta: meta(), auth: map[string]string{"tls": "enable", "ca": string(caPEM), "cert": string(certPEM), "key": string(keyPEM)}, wantTLS: true, certs: 1, roots: true},
		{name: "legacy Cert", meta: meta("enableTLS", "true"), auth: map[string]string{"Cert": string(certPEM), "key": string(keyPEM)}, wantTLS: true, certs: 1},
		{name: "unsafeSsl", meta: meta("enableTLS", "true", "unsafeSsl", "true"), wantTLS: true, insecure: true},
		{name: "both places agree", meta: meta("enableTLS", "true"), auth: map[string]string{"tls": "enable"}, wantTLS: true},
		{name: "encrypted key with keyPassword", meta: meta("enableTLS", "true"), auth: map[string]string{"cert": string(certPEM), "key": encrypted, "keyPassword": "key-passphrase-secret"}, wantTLS: true, certs: 1},

		{name: "both places disagree", meta: meta("enableTLS", "false"), auth: map[string]string{"tls": "enable"}, wantErr: []string{"metadata.tls", "set TLS in one place"}},
		{name: "ca is not PEM", meta: meta("enableTLS", "true"), auth: map[string]string{"ca": "ca-garbage-secret"}, wantErr: []string{"metadata.ca holds no PEM certificate"}},
		{name: "cert without key", meta: meta("enableTLS", "true"), auth: map[string]string{"cert": string(certPEM)}, wantErr: []string{"metadata.key is required when cert is set"}},
		{name: "key without cert", meta: meta("enableTLS", "true"), auth: map[string]string{"key": string(keyPEM)}, wantErr: []string{"metadata.cert is required when key is set"}},
		{name: "cert and key do not match", meta: meta("enableTLS", "true"), auth: map[string]string{"cert": string(certPEM), "key": encrypted, "keyPassword": "wrong-passphrase-secret"}, wantErr: []string{"metadata.keyPassword does not decrypt key"}},
		{name: "encrypted key without keyPassword", meta: meta("enableTLS", "true"), auth: map[string]string{"cert": string(certPEM), "key": encrypted}, wantErr: []string{"metadata.keyPassword is required: key is encrypted"}},
		{name: "encrypted PKCS#8", meta: meta("enableTLS", "true"), auth: map[string]string{"cert": string(certPEM), "key": pkcs8Encrypted}, wantErr: []string{"encrypted PKCS#8 key, which is not supported"}},
		{name: "key is not PEM", meta: meta("enableTLS", "true"), auth: map[string]string{"cert": string(certPEM), "key": "key-garbage-secret"}, wantErr: []string{"metadata.key holds no PEM block"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseRedis(t, "redis", tt.meta, tt.auth, false)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("want an error mentioning %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				for _, secret := range []string{"garbage-secret", "passphrase-secret", "AAAA", string(keyPEM[40:80]), string(certPEM[40:80])} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q shows secret material %q", err, secret)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cfg := connOf(t, m).TLSConfig
			if (cfg != nil) != tt.wantTLS {
				t.Fatalf("TLS config = %v, want TLS %v", cfg, tt.wantTLS)
			}
			if cfg == nil {
				return
			}
			if cfg.InsecureSkipVerify != tt.insecure || len(cfg.Certificates) != tt.certs || (cfg.RootCAs != nil) != tt.roots {
				t.Errorf("TLS config: insecure=%v certs=%d roots=%v, want %v %d %v", cfg.InsecureSkipVerify, len(cfg.Certificates), cfg.RootCAs != nil, tt.insecure, tt.certs, tt.roots)
			}
		})
	}
}

func TestRedisStreamsModes(t *testing.T) {
	base := func(kv ...string) map[string]string {
		m := map[string]string{"stream": "my-stream", "address": "a:1"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name       string
		meta       map[string]string
		mode       meta.RedisStreamsMode
		target     int64
		activation int64
		wantErr    []string
	}{
		{name: "no group: stream length, default 5", meta: base(), mode: meta.RedisStreamLength, target: 5},
		{name: "no group: streamLength", meta: base("streamLength", "15", "pendingEntriesCount", "30"), mode: meta.RedisStreamLength, target: 15},
		{name: "no group: lagCount ignored as in KEDA", meta: base("lagCount", "7"), mode: meta.RedisStreamLength, target: 5},
		{name: "group: pending entries, default 5", meta: base("consumerGroup", "g"), mode: meta.RedisStreamPending, target: 5},
		{name: "group: pendingEntriesCount, streamLength ignored", meta: base("consumerGroup", "g", "pendingEntriesCount", "10", "streamLength", "99"), mode: meta.RedisStreamPending, target: 10},
		{name: "group and lagCount: lag", meta: base("consumerGroup", "g", "lagCount", "7", "activationLagCount", "3", "pendingEntriesCount", "10"), mode: meta.RedisStreamLag, target: 7, activation: 3},
		{name: "activationLagCount applies to every mode", meta: base("activationLagCount", "4"), mode: meta.RedisStreamLength, target: 5, activation: 4},

		{name: "no stream", meta: map[string]string{"address": "a:1"}, wantErr: []string{"metadata.stream is required"}},
		{name: "lagCount zero", meta: base("consumerGroup", "g", "lagCount", "0"), wantErr: []string{"metadata.lagCount is 0", "greater than 0"}},
		{name: "lagCount junk", meta: base("consumerGroup", "g", "lagCount", "junk"), wantErr: []string{`metadata.lagCount "junk" is not a valid integer`}},
		{name: "pendingEntriesCount zero", meta: base("consumerGroup", "g", "pendingEntriesCount", "0"), wantErr: []string{"metadata.pendingEntriesCount is 0"}},
		{name: "streamLength negative", meta: base("streamLength", "-1"), wantErr: []string{"metadata.streamLength is -1"}},
		{name: "activationLagCount negative", meta: base("activationLagCount", "-1"), wantErr: []string{"metadata.activationLagCount is -1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &Config{TriggerType: "redis-streams", TriggerIndex: 3, TriggerMetadata: tt.meta, Timeout: time.Second}
			s, err := New(context.Background(), cfg)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("want an error mentioning %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(context.Background())
			var m meta.RedisStreamsMetadata
			if err := ParseMetadata(cfg, &m); err != nil {
				t.Fatal(err)
			}
			rs := s.(*redisScaler)
			if m.Mode != tt.mode || rs.target != tt.target || rs.activation != tt.activation {
				t.Errorf("mode=%d target=%d activation=%d, want %d %d %d", m.Mode, rs.target, rs.activation, tt.mode, tt.target, tt.activation)
			}
			specs := s.GetMetricSpecForScaling(context.Background())
			if len(specs) != 1 || specs[0].External.Metric.Name != "s3-redis-streams-my-stream" || specs[0].External.Target.AverageValue.Value() != tt.target {
				t.Errorf("metric spec = %+v", specs)
			}
		})
	}
}

// TestRedisMetricNames: KEDA's names, the same for every topology.
func TestRedisMetricNames(t *testing.T) {
	for typ, meta := range map[string]map[string]string{
		"redis":                  {"address": "a:1", "listName": "my.list"},
		"redis-cluster":          {"addresses": "a:1", "listName": "my.list"},
		"redis-sentinel":         {"addresses": "a:1", "sentinelMaster": "m", "listName": "my.list"},
		"redis-streams":          {"address": "a:1", "stream": "my.stream"},
		"redis-cluster-streams":  {"addresses": "a:1", "stream": "my.stream"},
		"redis-sentinel-streams": {"addresses": "a:1", "sentinelMaster": "m", "stream": "my.stream"},
	} {
		want := "s1-redis-my-list"
		if strings.HasSuffix(typ, "streams") {
			want = "s1-redis-streams-my-stream"
		}
		s, err := New(context.Background(), &Config{TriggerType: typ, TriggerIndex: 1, TriggerMetadata: meta})
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if got := s.GetMetricSpecForScaling(context.Background())[0].External.Metric.Name; got != want {
			t.Errorf("%s: metric %s, want %s", typ, got, want)
		}
		_ = s.Close(context.Background())
	}
}

// fakeRedis answers the scalers' four commands from fields.
type fakeRedis struct {
	n       int64
	pending *redis.XPending
	groups  []redis.XInfoGroup
	err     error
	wait    bool // block until the context ends
}

func (f *fakeRedis) block(ctx context.Context) error {
	if f.wait {
		<-ctx.Done()
		return ctx.Err()
	}
	return f.err
}
func (f *fakeRedis) LLen(ctx context.Context, _ string) *redis.IntCmd {
	return redis.NewIntResult(f.n, f.block(ctx))
}
func (f *fakeRedis) XLen(ctx context.Context, _ string) *redis.IntCmd {
	return redis.NewIntResult(f.n, f.block(ctx))
}
func (f *fakeRedis) XPending(ctx context.Context, _, _ string) *redis.XPendingCmd {
	return redis.NewXPendingResult(f.pending, f.block(ctx))
}
func (f *fakeRedis) XInfoGroups(ctx context.Context, stream string) *redis.XInfoGroupsCmd {
	cmd := redis.NewXInfoGroupsCmd(ctx, stream)
	cmd.SetVal(f.groups)
	cmd.SetErr(f.block(ctx))
	return cmd
}
func (f *fakeRedis) Close() error { return nil }

// fakeScaler builds the scaler of typ and swaps its client for fake.
func fakeScaler(t *testing.T, typ string, meta, auth map[string]string, fake *fakeRedis) *redisScaler {
	t.Helper()
	s, err := New(context.Background(), &Config{TriggerType: typ, TriggerName: "orders", TriggerMetadata: meta, AuthParams: auth, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rs := s.(*redisScaler)
	_ = rs.client.Close()
	rs.client = fake
	return rs
}

func TestRedisScalerValues(t *testing.T) {
	group := func(name string, lag int64) redis.XInfoGroup { return redis.XInfoGroup{Name: name, Lag: lag} }
	stream := map[string]string{"address": "a:1", "stream": "s", "activationLagCount": "2"}
	withGroup := map[string]string{"address": "a:1", "stream": "s", "consumerGroup": "g", "activationLagCount": "2"}
	withLag := map[string]string{"address": "a:1", "stream": "s", "consumerGroup": "g", "lagCount": "3", "activationLagCount": "2"}
	tests := []struct {
		name    string
		typ     string
		meta    map[string]string
		fake    fakeRedis
		value   int64
		active  bool
		wantErr string
	}{
		{name: "list below activation", typ: "redis", meta: map[string]string{"address": "a:1", "listName": "l", "activationListLength": "2"}, fake: fakeRedis{n: 2}, value: 2},
		{name: "list above activation", typ: "redis-cluster", meta: map[string]string{"addresses": "a:1", "listName": "l", "activationListLength": "2"}, fake: fakeRedis{n: 3}, value: 3, active: true},
		{name: "stream length", typ: "redis-streams", meta: stream, fake: fakeRedis{n: 3}, value: 3, active: true},
		{name: "pending", typ: "redis-streams", meta: withGroup, fake: fakeRedis{pending: &redis.XPending{Count: 2}}, value: 2},
		{name: "no group yet: 0", typ: "redis-streams", meta: withGroup, fake: fakeRedis{err: errors.New("NOGROUP No such key 's' or consumer group 'g' in XPENDING command")}},
		{name: "lag of the group", typ: "redis-sentinel-streams", meta: withSentinel(withLag), fake: fakeRedis{groups: []redis.XInfoGroup{group("other", 50), group("g", 5)}}, value: 5, active: true},
		{name: "lag: no stream yet", typ: "redis-streams", meta: withLag, fake: fakeRedis{err: errors.New("ERR no such key")}},
		{name: "lag: no such group", typ: "redis-streams", meta: withLag, fake: fakeRedis{groups: []redis.XInfoGroup{group("other", 50)}}},
		{name: "lag unknown to Redis", typ: "redis-streams", meta: withLag, fake: fakeRedis{groups: []redis.XInfoGroup{group("g", -1)}}, wantErr: "lag is unknown to Redis"},
		{name: "wrong type", typ: "redis-streams", meta: stream, fake: fakeRedis{err: errors.New("WRONGTYPE Operation against a key holding the wrong kind of value")}, wantErr: "another type than a stream: check stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeScaler(t, tt.typ, tt.meta, nil, &tt.fake)
			vals, active, err := s.GetMetricsAndActivity(context.Background(), "m")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if vals[0].MetricName != "m" || vals[0].Value.Value() != tt.value || active != tt.active {
				t.Errorf("value=%d active=%v, want %d %v", vals[0].Value.Value(), active, tt.value, tt.active)
			}
		})
	}
}

func withSentinel(m map[string]string) map[string]string {
	out := map[string]string{"sentinelMaster": "mymaster"}
	for k, v := range m {
		if k == "address" {
			k = "addresses"
		}
		out[k] = v
	}
	return out
}

// TestRedisErrorsNameTriggerAndFixButNoPassword: every failure names the trigger, what was read
// from where and the parameters to check, and never shows a password, even when the server's
// message echoes it.
func TestRedisErrorsNameTriggerAndFixButNoPassword(t *testing.T) {
	const pw, sentinelPW = "data-pw-secret-1", "sentinel-pw-secret-2"
	auth := map[string]string{"password": pw, "sentinelPassword": sentinelPW}
	tests := []struct {
		name string
		typ  string
		meta map[string]string
		fake fakeRedis
		want []string
	}{
		{name: "wrong password", typ: "redis", meta: map[string]string{"address": "10.0.0.1:6379", "listName": "jobs", "databaseIndex": "2"},
			fake: fakeRedis{err: errors.New("WRONGPASS invalid username-password pair or user is disabled.")},
			want: []string{`trigger 0 (redis "orders")`, `could not read the length of list "jobs" from Redis 10.0.0.1:6379 (database 2)`, "check username and password", "passwordFromEnv", "TriggerAuthentication"}},
		{name: "sentinel password", typ: "redis-sentinel-streams", meta: map[string]string{"addresses": "s:26379", "sentinelMaster": "mymaster", "stream": "st", "consumerGroup": "g"},
			fake: fakeRedis{err: errors.New("redis: all sentinels specified in configuration are unreachable: ERR AUTH " + sentinelPW + " called without any password configured")},
			want: []string{`redis-sentinel-streams "orders"`, `pending entries of consumer group "g" of stream "st" from master "mymaster" of Redis Sentinel s:26379`, "the sentinels refused the credentials: check sentinelUsername and sentinelPassword"}},
		{name: "unknown master", typ: "redis-sentinel", meta: map[string]string{"addresses": "s:26379", "sentinelMaster": "nope", "listName": "jobs"},
			fake: fakeRedis{err: errors.New("redis: all sentinels specified in configuration are unreachable: redis: nil")},
			want: []string{`the sentinels monitor no master named "nope": check sentinelMaster`}},
		{name: "echoed password", typ: "redis-cluster", meta: map[string]string{"addresses": "a:1,b:2", "listName": "jobs"},
			fake: fakeRedis{err: errors.New("NOAUTH bad password " + pw)},
			want: []string{"Redis Cluster a:1,b:2", "check username and password"}},
		{name: "refused", typ: "redis-cluster", meta: map[string]string{"hosts": "a,b", "ports": "1,2", "listName": "jobs"},
			fake: fakeRedis{err: errors.New("dial tcp 127.0.0.1:1: connect: connection refused")},
			want: []string{"nothing listens there: check addresses (or hosts and ports)"}},
		{name: "timeout", typ: "redis-sentinel", meta: map[string]string{"addresses": "s:1", "sentinelMaster": "m", "listName": "jobs"},
			fake: fakeRedis{wait: true},
			want: []string{"no answer within the trigger's timeout of 200ms: check addresses (or hosts and ports) of the sentinels"}},
		{name: "tls", typ: "redis-streams", meta: map[string]string{"address": "a:1", "stream": "st", "enableTLS": "true"},
			fake: fakeRedis{err: errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority")},
			want: []string{"TLS failed", "parameter ca", "unsafeSsl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeScaler(t, tt.typ, tt.meta, auth, &tt.fake)
			start := time.Now()
			_, _, err := s.GetMetricsAndActivity(context.Background(), "m")
			if took := time.Since(start); took > time.Second {
				t.Errorf("took %s with a timeout of 200ms", took)
			}
			if err == nil {
				t.Fatal("want an error")
			}
			t.Log(err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), sentinelPW) {
				t.Errorf("error %q shows a password", err)
			}
			if tt.fake.err != nil && !errors.Is(err, tt.fake.err) {
				t.Errorf("errors.Is does not find the cause in %v", err)
			}
		})
	}
}

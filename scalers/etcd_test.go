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
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// etcdTestPair is a self-signed certificate and its key, as PEM, for the TLS parameter tests.
func etcdTestPair(t *testing.T) (certPEM, keyPEM string, key *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "etcd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})), key
}

func TestParseEtcdMetadata(t *testing.T) {
	const password = "etcd-secret-never-in-errors"
	const keyPassword = "key-passphrase-never-in-errors"
	certPEM, keyPEM, key := etcdTestPair(t)
	keyDER, _ := x509.MarshalECPrivateKey(key)
	//nolint:staticcheck // keyPassword is for traditionally encrypted keys
	encBlock, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", keyDER, []byte(keyPassword), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	encKey := string(pem.EncodeToMemory(encBlock))
	base := func(extra ...string) map[string]string {
		m := map[string]string{"endpoints": "http://127.0.0.1:2379", "watchKey": "/queue/length", "value": "5"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	tests := []parseCase[meta.EtcdMetadata]{
		{name: "KEDA's defaults", meta: base(), check: func(t *testing.T, m *meta.EtcdMetadata) {
			if len(m.Endpoints) != 1 || m.WatchKey != "/queue/length" || m.Value != 5 || m.ActivationValue != 0 ||
				m.WatchProgressNotifyInterval != 600 || m.TLS != "disable" || m.TLSConfig != nil || m.Username != "" {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "everything", meta: base("endpoints", "10.0.0.1:2379, https://etcd-1.etcd:2379,unix://var/run/etcd.sock", "value", "2.5",
			"activationValue", "0.5", "watchProgressNotifyInterval", "30"),
			auth: map[string]string{"username": "keda", "password": password, "tls": "enable", "ca": certPEM, "cert": certPEM, "key": keyPEM},
			check: func(t *testing.T, m *meta.EtcdMetadata) {
				if strings.Join(m.Endpoints, "|") != "10.0.0.1:2379|https://etcd-1.etcd:2379|unix://var/run/etcd.sock" || m.Value != 2.5 ||
					m.ActivationValue != 0.5 || m.WatchProgressNotifyInterval != 30 || m.Username != "keda" || m.Password != password {
					t.Errorf("parsed %+v", m)
				}
				if m.TLSConfig == nil || m.TLSConfig.RootCAs == nil || len(m.TLSConfig.Certificates) != 1 {
					t.Errorf("TLS %+v, want the CA and the client certificate", m.TLSConfig)
				}
			}},
		{name: "credentials from the target's env", meta: base("usernameFromEnv", "ETCD_USER", "passwordFromEnv", "ETCD_PASSWORD"),
			env: map[string]string{"ETCD_USER": "keda", "ETCD_PASSWORD": password}, check: func(t *testing.T, m *meta.EtcdMetadata) {
				if m.Username != "keda" || m.Password != password {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "credentials in the metadata are not read", meta: base("username", "keda", "password", password), check: func(t *testing.T, m *meta.EtcdMetadata) {
			// KEDA reads them only from a TriggerAuthentication or the env.
			if m.Username != "" || m.Password != "" {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "TLS with the system's CAs", meta: base(), auth: map[string]string{"tls": "enable"}, check: func(t *testing.T, m *meta.EtcdMetadata) {
			if m.TLSConfig == nil || m.TLSConfig.RootCAs != nil || len(m.TLSConfig.Certificates) != 0 {
				t.Errorf("TLS %+v", m.TLSConfig)
			}
		}},
		{name: "encrypted key with keyPassword", meta: base(), auth: map[string]string{"tls": "enable", "cert": certPEM, "key": encKey, "keyPassword": keyPassword},
			check: func(t *testing.T, m *meta.EtcdMetadata) {
				if m.TLSConfig == nil || len(m.TLSConfig.Certificates) != 1 {
					t.Errorf("TLS %+v", m.TLSConfig)
				}
			}},
		{name: "TLS material without tls enable is unused", meta: base(), auth: map[string]string{"ca": "not PEM"}, check: func(t *testing.T, m *meta.EtcdMetadata) {
			if m.TLSConfig != nil {
				t.Errorf("TLS %+v, want none", m.TLSConfig)
			}
		}},
		{name: "offline without the TriggerAuthentication", meta: base("passwordFromEnv", "P"), offline: true, check: func(*testing.T, *meta.EtcdMetadata) {}},

		{name: "no endpoints", meta: map[string]string{"watchKey": "k", "value": "1"}, wantErr: []string{"metadata.endpoints is required"}},
		{name: "blank endpoints", meta: base("endpoints", " , "), wantErr: []string{"endpoints lists no endpoint"}},
		{name: "endpoint without port", meta: base("endpoints", "etcd.default.svc"), wantErr: []string{"endpoints", "no host and port", "host:port"}},
		{name: "endpoint with a bad port", meta: base("endpoints", "http://etcd:99999"), wantErr: []string{"endpoints", "1 to 65535"}},
		{name: "endpoint of another scheme", meta: base("endpoints", "grpc://etcd:2379"), wantErr: []string{"endpoints", "neither http nor https"}},
		{name: "no watchKey", meta: map[string]string{"endpoints": "a:1", "value": "1"}, wantErr: []string{"metadata.watchKey is required"}},
		{name: "no value", meta: map[string]string{"endpoints": "a:1", "watchKey": "k"}, wantErr: []string{"metadata.value is required"}},
		{name: "value not a number", meta: base("value", "five"), wantErr: []string{"value", `"five" is not a valid number`}},
		{name: "value 0", meta: base("value", "0"), wantErr: []string{"value is 0", "above 0"}},
		{name: "activationValue NaN", meta: base("activationValue", "NaN"), wantErr: []string{"activationValue", "finite number"}},
		{name: "watchProgressNotifyInterval 0", meta: base("watchProgressNotifyInterval", "0"), wantErr: []string{"watchProgressNotifyInterval is 0", "above 0"}},
		{name: "watchProgressNotifyInterval a duration", meta: base("watchProgressNotifyInterval", "10m"), wantErr: []string{"watchProgressNotifyInterval", "whole number"}},
		{name: "tls neither enable nor disable", meta: base(), auth: map[string]string{"tls": "true"}, wantErr: []string{"tls", "enable, disable"}},
		{name: "password without username", meta: base(), auth: map[string]string{"password": password}, wantErr: []string{"username is required when password is set"}},
		{name: "username without password", meta: base(), auth: map[string]string{"username": "keda"}, wantErr: []string{"password is required when username is set"}},
		{name: "env var missing", meta: base("passwordFromEnv", "NOPE"), wantErr: []string{"NOPE", "no such variable"}},
		{name: "ca not PEM", meta: base(), auth: map[string]string{"tls": "enable", "ca": "-----BEGIN nothing"}, wantErr: []string{"ca holds no PEM certificate"}},
		{name: "key without cert", meta: base(), auth: map[string]string{"tls": "enable", "key": keyPEM}, wantErr: []string{"cert is required when key is set"}},
		{name: "cert without key", meta: base(), auth: map[string]string{"tls": "enable", "cert": certPEM}, wantErr: []string{"key is required when cert is set"}},
		{name: "encrypted key without keyPassword", meta: base(), auth: map[string]string{"tls": "enable", "cert": certPEM, "key": encKey}, wantErr: []string{"keyPassword is required"}},
		{name: "wrong keyPassword", meta: base(), auth: map[string]string{"tls": "enable", "cert": certPEM, "key": encKey, "keyPassword": "wrong-" + keyPassword},
			wantErr: []string{"keyPassword does not decrypt key"}},
	}
	runParseCases(t, "etcd", tests, password, keyPassword, keyPEM)
}

func TestEtcdMetricName(t *testing.T) {
	for _, tt := range []struct {
		index int
		key   string
		want  string
	}{
		{0, "queue-length", "s0-etcd-queue-length"},
		{2, "/jobs/pending", "s2-etcd--jobs-pending"},
		{1, "app:queue.len", "s1-etcd-app-queue-len"},
	} {
		s, err := New(context.Background(), &Config{TriggerType: "etcd", TriggerIndex: tt.index,
			TriggerMetadata: map[string]string{"endpoints": "127.0.0.1:1", "watchKey": tt.key, "value": "3"}})
		if err != nil {
			t.Fatal(err)
		}
		specs := s.GetMetricSpecForScaling(context.Background())
		if len(specs) != 1 || specs[0].External.Metric.Name != tt.want || specs[0].External.Target.AverageValue.MilliValue() != 3000 {
			t.Errorf("key %q: spec %+v, want %s with AverageValue 3", tt.key, specs, tt.want)
		}
		_ = s.Close(context.Background())
	}
}

func TestParseEtcdValue(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want float64
		ok   bool
	}{
		{"12", 12, true},
		{"0.25", 0.25, true},
		{"5\n", 5, true}, // echo 5 | etcdctl put
		{" -3 ", -3, true},
		{"1e3", 1000, true},
		{"", 0, false},
		{"twelve", 0, false},
		{"NaN", 0, false},
		{"+Inf", 0, false},
		{"1e400", 0, false},
	} {
		v, err := parseEtcdValue([]byte(tt.raw))
		if (err == nil) != tt.ok || v != tt.want {
			t.Errorf("parseEtcdValue(%q) = %v, %v; want %v (ok %v)", tt.raw, v, err, tt.want, tt.ok)
		}
	}
	_, err := parseEtcdValue([]byte(strings.Repeat("x", 10000)))
	if err == nil || len(err.Error()) > 120 {
		t.Errorf("a long value's error is %d bytes, want it cut short", len(err.Error()))
	}
}

func TestEtcdActiveAfterEvent(t *testing.T) {
	s := &etcdScaler{meta: meta.EtcdMetadata{ActivationValue: 2}}
	put := func(v string) *clientv3.Event {
		return &clientv3.Event{Type: clientv3.EventTypePut, Kv: &mvccpb.KeyValue{Value: []byte(v)}}
	}
	for _, tt := range []struct {
		ev   *clientv3.Event
		want bool
	}{
		{put("3"), true},
		{put("2"), false}, // above the threshold, not at it
		{put("junk"), false},
		{&clientv3.Event{Type: clientv3.EventTypeDelete, Kv: &mvccpb.KeyValue{}}, false},
	} {
		if got := s.activeAfter(tt.ev); got != tt.want {
			t.Errorf("after %v %q: active %v, want %v", tt.ev.Type, tt.ev.Kv.Value, got, tt.want)
		}
	}
	s.meta.ActivationValue = -1
	if !s.activeAfter(&clientv3.Event{Type: clientv3.EventTypeDelete, Kv: &mvccpb.KeyValue{}}) {
		t.Error("a deleted key counts as 0, above an activationValue of -1")
	}
}

func TestEtcdFix(t *testing.T) {
	for _, tt := range []struct {
		err      error
		timedOut bool
		tlsOn    bool
		want     string
	}{
		{errors.New("etcdserver: authentication failed, invalid user ID or password"), false, false, "check username and password"},
		{errors.New("etcdserver: user name is empty"), false, false, "authentication enabled"},
		{errors.New("etcdserver: permission denied"), false, false, "grant its role read"},
		{errors.New("connection error: desc = \"transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority\""), false, true, "parameter ca"},
		{errors.New("transport: authentication handshake failed"), false, false, `tls to "enable"`},
		{errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), false, false, "nothing listens there"},
		{errors.New("dial tcp: lookup etcd: no such host"), false, false, "does not resolve"},
		{context.DeadlineExceeded, true, false, "timeout of 3s"},
		{errors.New("something else"), false, false, ""},
	} {
		got := etcdFix(tt.err, tt.timedOut, tt.tlsOn, 3*time.Second)
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("etcdFix(%q) = %q, want it to mention %q", tt.err, got, tt.want)
		}
	}
}

// TestEtcdSharesOneClient: triggers of the same endpoints and identity share one client; another
// password is another client, and the last Close closes it.
func TestEtcdSharesOneClient(t *testing.T) {
	pool := NewClientPool()
	build := func(key, password string) Scaler {
		t.Helper()
		s, err := New(context.Background(), &Config{TriggerType: "etcd", Clients: pool,
			TriggerMetadata: map[string]string{"endpoints": "127.0.0.1:1", "watchKey": key, "value": "1"},
			AuthParams:      map[string]string{"username": "u", "password": password}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b, c := build("a", "p1"), build("b", "p1"), build("a", "p2")
	if a.(*etcdScaler).conn != b.(*etcdScaler).conn || a.(*etcdScaler).conn == c.(*etcdScaler).conn || pool.Len() != 2 {
		t.Fatalf("%d clients; a and b share: %v", pool.Len(), a.(*etcdScaler).conn == b.(*etcdScaler).conn)
	}
	for _, s := range []Scaler{a, b, c} {
		_ = s.Close(context.Background())
	}
	if pool.Len() != 0 {
		t.Errorf("%d clients left after every Close", pool.Len())
	}
}

// TestEtcdUnreachable: a poll of nothing fails within the timeout, naming the trigger, the key
// and the endpoints with the fix, never the password.
func TestEtcdUnreachable(t *testing.T) {
	const password = "unreachable-secret"
	s, err := New(context.Background(), &Config{TriggerType: "etcd", TriggerName: "queue", Timeout: time.Second,
		TriggerMetadata: map[string]string{"endpoints": "127.0.0.1:1", "watchKey": "jobs", "value": "1"},
		AuthParams:      map[string]string{"username": "u", "password": password}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	start := time.Now()
	_, _, err = s.GetMetricsAndActivity(context.Background(), "s0-etcd-jobs")
	if err == nil {
		t.Fatal("no error from an endpoint where nothing listens")
	}
	for _, want := range []string{`trigger 0 (etcd "queue")`, "etcd 127.0.0.1:1", "check endpoints"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), password) {
		t.Errorf("error %q shows the password", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the poll took %s, beyond the timeout of 1s", d)
	}
}

package scalers

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counted is a pooled value that counts its builds and closes.
type counted struct{ id int }

func countingBuild(builds, closes *atomic.Int64) func() (*counted, func(), error) {
	return func() (*counted, func(), error) {
		n := builds.Add(1)
		return &counted{id: int(n)}, func() { closes.Add(1) }, nil
	}
}

func TestClientPoolSharesByIdentityAndClosesOnLastRelease(t *testing.T) {
	p := NewClientPool()
	var builds, closes atomic.Int64
	build := countingBuild(&builds, &closes)

	a, releaseA, err := acquirePooled(p, "test", []any{"host:1", "secret"}, build)
	if err != nil {
		t.Fatal(err)
	}
	b, releaseB, _ := acquirePooled(p, "test", []any{"host:1", "secret"}, build)
	if a != b || builds.Load() != 1 {
		t.Fatalf("same identity: got %p and %p after %d builds, want one shared value", a, b, builds.Load())
	}
	for name, parts := range map[string][]any{"other password": {"host:1", "other"}, "other host": {"host:2", "secret"}} {
		c, release, _ := acquirePooled(p, "test", parts, build)
		if c == a {
			t.Errorf("%s: shares the client of another identity", name)
		}
		release()
	}
	if other, release, _ := acquirePooled(p, "other-kind", []any{"host:1", "secret"}, build); other == a {
		t.Error("another kind of client with the same parts shares the client")
	} else {
		release()
	}
	if closes.Load() != 3 || p.Len() != 1 {
		t.Fatalf("after releasing the three single-user clients: %d closed, %d open; want 3 closed, 1 open", closes.Load(), p.Len())
	}

	releaseA()
	releaseA() // a second release of the same handle must not drop b's reference
	if closes.Load() != 3 {
		t.Fatal("the shared client was closed while a trigger still uses it")
	}
	releaseB()
	if closes.Load() != 4 || p.Len() != 0 {
		t.Fatalf("after the last release: %d closed, %d open; want 4 closed, none open", closes.Load(), p.Len())
	}
	// A new user after the last release gets a new client.
	c, releaseC, _ := acquirePooled(p, "test", []any{"host:1", "secret"}, build)
	if c == a {
		t.Error("a closed client was handed out again")
	}
	releaseC()
}

func TestClientPoolKeepsNoSecretInClear(t *testing.T) {
	p := NewClientPool()
	const secret = "pa55word-in-identity"
	_, release, _ := acquirePooled(p, "test", []any{"host:1", secret}, func() (int, func(), error) { return 1, nil, nil })
	defer release()
	for id := range p.entries {
		if strings.Contains(id, secret) || strings.Contains(id, "host:1") {
			t.Fatalf("the pool's key %q holds the identity in clear", id)
		}
	}
}

func TestNilClientPoolSharesNothing(t *testing.T) {
	var p *ClientPool
	var builds, closes atomic.Int64
	a, releaseA, _ := acquirePooled(p, "test", []any{"x"}, countingBuild(&builds, &closes))
	b, releaseB, _ := acquirePooled(p, "test", []any{"x"}, countingBuild(&builds, &closes))
	if a == b {
		t.Fatal("a nil pool shared a client")
	}
	releaseA()
	releaseA()
	releaseB()
	if closes.Load() != 2 || p.Len() != 0 {
		t.Fatalf("%d closed, want 2", closes.Load())
	}
	p.Close()
}

func TestClientPoolConcurrentUse(t *testing.T) {
	p := NewClientPool()
	var builds, closes atomic.Int64
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				v, release, err := acquirePooled(p, "test", []any{fmt.Sprint("host:", (g+i)%3)}, countingBuild(&builds, &closes))
				if err != nil || v == nil {
					t.Error(err)
					return
				}
				release()
			}
		}()
	}
	wg.Wait()
	if builds.Load() != closes.Load() || p.Len() != 0 {
		t.Fatalf("%d built, %d closed, %d still open: every client must be closed after its last release", builds.Load(), closes.Load(), p.Len())
	}
}

// httpConnCounter is a loopback server that counts the TCP connections it accepts.
func httpConnCounter(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"v": 3}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// TestHTTPTriggersShareTransport: 50 metrics-api triggers polling one server (each its own
// path) open one connection between them with a pool, one each without; the transport is
// closed with the last trigger.
func TestHTTPTriggersShareTransport(t *testing.T) {
	const triggers = 50
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		pool      *ClientPool
		wantConns int64
	}{{"no pool", nil, triggers}, {"pool", NewClientPool(), 1}} {
		t.Run(tc.name, func(t *testing.T) {
			srv, conns := httpConnCounter(t)
			var scalers []Scaler
			for i := range triggers {
				s, err := New(ctx, &Config{TriggerType: "metrics-api", TriggerIndex: 0, Clients: tc.pool, Timeout: 5 * time.Second,
					TriggerMetadata: map[string]string{"url": fmt.Sprintf("%s/stats/%d", srv.URL, i), "valueLocation": "v", "targetValue": "1"}})
				if err != nil {
					t.Fatal(err)
				}
				scalers = append(scalers, s)
			}
			for round := range 2 {
				for _, s := range scalers {
					if _, _, err := s.GetMetricsAndActivity(ctx, "m"); err != nil {
						t.Fatalf("round %d: %v", round, err)
					}
				}
			}
			t.Logf("%d triggers, 2 polls each: %d connections", triggers, conns.Load())
			if got := conns.Load(); got != tc.wantConns {
				t.Errorf("%d connections, want %d", got, tc.wantConns)
			}
			if tc.pool != nil && tc.pool.Len() != 1 {
				t.Errorf("the pool holds %d transports, want 1", tc.pool.Len())
			}
			for _, s := range scalers {
				_ = s.Close(ctx)
			}
			if tc.pool.Len() != 0 {
				t.Errorf("the pool holds %d transports after every trigger closed, want 0", tc.pool.Len())
			}
		})
	}
}

// TestHTTPTransportIdentity: only triggers of the same TLS identity share a transport; the
// timeout and the credentials sent in headers are the trigger's own.
func TestHTTPTransportIdentity(t *testing.T) {
	ctx := context.Background()
	pool := NewClientPool()
	build := func(meta, auth map[string]string) *prometheusScaler {
		t.Helper()
		m := map[string]string{"serverAddress": "https://prom.example:9090", "query": "up", "threshold": "1"}
		for k, v := range meta {
			m[k] = v
		}
		s, err := New(ctx, &Config{TriggerType: "prometheus", Clients: pool, Timeout: 3 * time.Second, TriggerMetadata: m, AuthParams: auth})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(ctx) })
		return s.(*prometheusScaler)
	}
	transport := func(s *prometheusScaler) http.RoundTripper { return s.client.client.Transport }
	base := build(nil, nil)
	same := []*prometheusScaler{
		build(map[string]string{"query": "other"}, nil),
		build(map[string]string{"timeout": "9000"}, nil),
		build(map[string]string{"authModes": "bearer"}, map[string]string{"bearerToken": "t0ken"}),
	}
	for i, s := range same {
		if transport(s) != transport(base) {
			t.Errorf("same TLS identity %d: a transport of its own", i)
		}
	}
	if same[1].client.client.Timeout != 9*time.Second || base.client.client.Timeout != 3*time.Second {
		t.Error("the timeout is not the trigger's own")
	}
	ca, cert, key, _ := testPEMs(t)
	different := map[string]*prometheusScaler{
		"unsafeSsl":   build(map[string]string{"unsafeSsl": "true"}, nil),
		"ca":          build(nil, map[string]string{"ca": string(ca)}),
		"client cert": build(map[string]string{"authModes": "tls"}, map[string]string{"cert": string(cert), "key": string(key)}),
	}
	for name, s := range different {
		if transport(s) == transport(base) {
			t.Errorf("%s: shares the transport of triggers without it", name)
		}
	}
	if pool.Len() != 4 {
		t.Errorf("%d transports, want 4", pool.Len())
	}
}

// TestConnectionIdentities: triggers share a client only when everything the connection is
// made of is equal: the Redis database and password, the Kafka credentials, the SQL
// connection string; the list, topic or query never matters.
func TestConnectionIdentities(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		typ        string
		base       map[string]string
		same       []map[string]string
		different  []map[string]string
		baseAuth   map[string]string
		otherCreds map[string]string
	}{
		{typ: "redis-streams", base: map[string]string{"address": "127.0.0.1:1", "stream": "a", "streamLength": "5"},
			same:      []map[string]string{{"stream": "b"}, {"streamLength": "9"}},
			different: []map[string]string{{"databaseIndex": "2"}, {"address": "127.0.0.1:2"}},
			baseAuth:  map[string]string{"password": "one"}, otherCreds: map[string]string{"password": "two"}},
		{typ: "kafka", base: map[string]string{"bootstrapServers": "127.0.0.1:1", "consumerGroup": "g", "topic": "a", "lagThreshold": "5", "sasl": "plaintext"},
			same:      []map[string]string{{"topic": "b"}, {"consumerGroup": "h"}},
			different: []map[string]string{{"bootstrapServers": "127.0.0.1:2"}},
			baseAuth:  map[string]string{"username": "u", "password": "one"}, otherCreds: map[string]string{"username": "u", "password": "two"}},
		{typ: "postgresql", base: map[string]string{"host": "127.0.0.1", "port": "1", "userName": "u", "dbName": "d", "sslmode": "disable", "query": "SELECT 1", "targetQueryValue": "1"},
			same:      []map[string]string{{"query": "SELECT 2"}},
			different: []map[string]string{{"dbName": "other"}},
			baseAuth:  map[string]string{"password": "one"}, otherCreds: map[string]string{"password": "two"}},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			pool := NewClientPool()
			build := func(change, auth map[string]string) {
				t.Helper()
				meta := map[string]string{}
				for k, v := range tc.base {
					meta[k] = v
				}
				for k, v := range change {
					meta[k] = v
				}
				s, err := New(ctx, &Config{TriggerType: tc.typ, Clients: pool, Timeout: time.Second, TriggerMetadata: meta, AuthParams: auth})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close(ctx) })
			}
			build(nil, tc.baseAuth)
			for _, change := range tc.same {
				build(change, tc.baseAuth)
			}
			if pool.Len() != 1 {
				t.Fatalf("%d clients for triggers that differ only in what they read, want 1", pool.Len())
			}
			for i, change := range tc.different {
				build(change, tc.baseAuth)
				if pool.Len() != 2+i {
					t.Errorf("%v: shares the client of another connection", change)
				}
			}
			build(nil, tc.otherCreds)
			if pool.Len() != 2+len(tc.different) {
				t.Error("other credentials share the client")
			}
		})
	}
}

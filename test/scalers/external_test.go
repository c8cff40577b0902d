package scalers_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	"github.com/kedactl/kedactl/test/cluster"
	extserver "github.com/kedactl/kedactl/test/servers/externalscaler"
)

// TestExternalScalerAgainstGRPCServer runs the external trigger against a gRPC server of KEDA's
// externalscaler protocol: metric spec and name, values and activity, the metadata handed to the
// server, TLS with a client certificate, and errors naming the trigger and the address, bounded
// by the trigger's timeout and never showing the client key.
func TestExternalScalerAgainstGRPCServer(t *testing.T) {
	ctx := context.Background()
	srv := extserver.Start(t, extserver.Options{MetricName: "orders-waiting", Target: 2.5})

	build := func(t *testing.T, typ string, meta, auth map[string]string) (scalers.Scaler, error) {
		t.Helper()
		s, err := scalers.New(ctx, &scalers.Config{ScalableObjectName: "worker", ScalableObjectNamespace: "shop", TriggerIndex: 1, TriggerType: typ,
			TriggerMetadata: meta, AuthParams: auth, ResolvedEnv: map[string]string{"QUEUE_HOST": "queue.shop:5672"}, Timeout: pollTimeout})
		if err == nil {
			t.Cleanup(func() { _ = s.Close(ctx) })
		}
		return s, err
	}
	read := func(t *testing.T, s scalers.Scaler) (int64, bool) {
		t.Helper()
		vals, active, err := s.GetMetricsAndActivity(ctx, "s1-orders-waiting")
		if err != nil {
			t.Fatal(err)
		}
		return vals[0].Value.MilliValue(), active
	}

	t.Run("metric spec, values and activity", func(t *testing.T) {
		s, err := build(t, "external", map[string]string{"scalerAddress": srv.Addr}, nil)
		if err != nil {
			t.Fatal(err)
		}
		specs := s.GetMetricSpecForScaling(ctx)
		if len(specs) != 1 || specs[0].External.Metric.Name != "s1-orders-waiting" || specs[0].External.Target.AverageValue.MilliValue() != 2500 {
			t.Fatalf("metric spec = %+v", specs)
		}
		for _, step := range []struct {
			value  float64
			active bool
		}{{0, false}, {1, true}, {20.5, true}, {0, false}} {
			srv.Set(step.value, step.active)
			v, active := read(t, s)
			if v != int64(step.value*1000) || active != step.active {
				t.Errorf("server value %g active %v: read %dm %v", step.value, step.active, v, active)
			}
		}
	})

	t.Run("metadata is handed to the server", func(t *testing.T) {
		s, err := build(t, "external", map[string]string{"scalerAddress": srv.Addr, "queue": "orders", "hostFromEnv": "QUEUE_HOST", "missingFromEnv": "NO_SUCH_VAR"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		read(t, s)
		ref := srv.LastRef()
		want := map[string]string{"scalerAddress": srv.Addr, "queue": "orders", "hostFromEnv": "queue.shop:5672"}
		if ref.GetName() != "worker" || ref.GetNamespace() != "shop" || len(ref.GetScalerMetadata()) != len(want) {
			t.Fatalf("server got %+v, want worker/shop with %v", ref, want)
		}
		for k, v := range want {
			if ref.GetScalerMetadata()[k] != v {
				t.Errorf("scalerMetadata[%s] = %q, want %q", k, ref.GetScalerMetadata()[k], v)
			}
		}
	})

	t.Run("TLS with a client certificate", func(t *testing.T) {
		ca := newPKICert(t, "external scaler CA", nil)
		server := newPKICert(t, "127.0.0.1", ca)
		client := newPKICert(t, "keda-client", ca)
		pair, err := tls.X509KeyPair([]byte(server.certPEM), []byte(server.keyPEM))
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AddCert(ca.cert)
		secure := extserver.Start(t, extserver.Options{MetricName: "orders-waiting", TLS: &tls.Config{
			Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12}})
		secure.Set(4, true)
		auth := map[string]string{"caCert": ca.certPEM, "tlsClientCert": client.certPEM, "tlsClientKey": client.keyPEM}
		s, err := build(t, "external", map[string]string{"scalerAddress": secure.Addr}, auth)
		if err != nil {
			t.Fatal(err)
		}
		if v, active := read(t, s); v != 4000 || !active {
			t.Errorf("over TLS: %dm %v", v, active)
		}

		for name, tc := range map[string]struct {
			meta  map[string]string
			auth  map[string]string
			wants []string
		}{
			"untrusted server": {map[string]string{"scalerAddress": secure.Addr, "enableTLS": "true"}, nil, []string{"TLS handshake failed", "caCert"}},
			// With TLS 1.3 the server refuses a client without a certificate after the client's side
			// of the handshake is done: the client sees a TLS alert or just a closed connection,
			// whichever comes first, so only the failed call is certain.
			"no client cert":     {map[string]string{"scalerAddress": secure.Addr}, map[string]string{"caCert": ca.certPEM}, []string{"GetMetricSpec"}},
			"plaintext":          {map[string]string{"scalerAddress": secure.Addr}, nil, []string{"GetMetricSpec", "metadata.scalerAddress " + secure.Addr}},
			"key without cert":   {map[string]string{"scalerAddress": secure.Addr}, map[string]string{"tlsClientKey": client.keyPEM}, []string{"metadata.tlsClientCert", "is required with tlsClientKey"}},
			"mismatched key":     {map[string]string{"scalerAddress": secure.Addr}, map[string]string{"tlsClientCert": client.certPEM, "tlsClientKey": server.keyPEM}, []string{"do not make a client certificate"}},
			"caCert is not PEM":  {map[string]string{"scalerAddress": secure.Addr}, map[string]string{"caCert": "not a certificate"}, []string{"metadata.caCert", "holds no PEM"}},
			"unsafeSsl, no cert": {map[string]string{"scalerAddress": secure.Addr, "enableTLS": "true", "unsafeSsl": "true"}, nil, []string{"GetMetricSpec"}},
		} {
			t.Run(name, func(t *testing.T) {
				start := time.Now()
				_, err := build(t, "external", tc.meta, tc.auth)
				if err == nil {
					t.Fatal("want an error")
				}
				t.Logf("error after %s: %v", time.Since(start).Round(time.Millisecond), err)
				if took := time.Since(start); took > pollTimeout+time.Second {
					t.Errorf("failed after %s, the trigger's timeout is %s", took, pollTimeout)
				}
				for _, w := range append([]string{"trigger 1 (external)"}, tc.wants...) {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				if strings.Contains(err.Error(), strings.TrimSpace(client.keyPEM)) || strings.Contains(err.Error(), "PRIVATE KEY") {
					t.Errorf("error %q shows the client key", err)
				}
			})
		}
	})

	t.Run("nothing listens on the address", func(t *testing.T) {
		ports, err := cluster.FreePorts(1)
		if err != nil {
			t.Fatal(err)
		}
		addr := "127.0.0.1:" + strconv.Itoa(ports[0])
		start := time.Now()
		_, err = build(t, "external", map[string]string{"scalerAddress": addr}, nil)
		if err == nil || time.Since(start) > pollTimeout+time.Second {
			t.Fatalf("err=%v after %s", err, time.Since(start))
		}
		for _, w := range []string{"trigger 1 (external)", "GetMetricSpec", "check that the external scaler runs at metadata.scalerAddress " + addr, "Unavailable"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not mention %q", err, w)
			}
		}
	})

	t.Run("a server that went away", func(t *testing.T) {
		gone := extserver.Start(t, extserver.Options{MetricName: "orders-waiting"})
		s, err := build(t, "external", map[string]string{"scalerAddress": gone.Addr}, nil)
		if err != nil {
			t.Fatal(err)
		}
		gone.Stop()
		_, _, err = s.GetMetricsAndActivity(ctx, "s1-orders-waiting")
		if err == nil || !strings.Contains(err.Error(), "trigger 1 (external): GetMetrics: check that the external scaler runs at metadata.scalerAddress") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("scalerAddress with a scheme", func(t *testing.T) {
		_, err := build(t, "external", map[string]string{"scalerAddress": "http://" + srv.Addr}, nil)
		if err == nil || !strings.Contains(err.Error(), "metadata.scalerAddress") || !strings.Contains(err.Error(), "is not host:port") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestExternalPushScalerStreamsActivity: an external-push trigger keeps a StreamIsActive stream
// open, hands every activity the server pushes to its callback, and reopens the stream when the
// server comes back after going away.
func TestExternalPushScalerStreamsActivity(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := extserver.StartServer(extserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := scalers.New(ctx, &scalers.Config{TriggerType: "external-push", TriggerMetadata: map[string]string{"scalerAddress": srv.Addr}, Timeout: pollTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	ps, ok := s.(scalers.PushScaler)
	if !ok {
		t.Fatalf("external-push scaler %T does not push", s)
	}
	var mu sync.Mutex
	var pushed []bool
	got := func() []bool { mu.Lock(); defer mu.Unlock(); return append([]bool(nil), pushed...) }
	done := make(chan struct{})
	go func() {
		defer close(done)
		ps.Run(ctx, func(active bool) { mu.Lock(); pushed = append(pushed, active); mu.Unlock() })
	}()

	waitUntil(t, 10*time.Second, "the stream to open and deliver the current activity", func() bool { return srv.Streams() == 1 && len(got()) == 1 })
	srv.Push(true)
	waitUntil(t, 10*time.Second, "the pushed activity", func() bool { return len(got()) == 2 && got()[1] })

	// The server goes away and comes back on the same address: the stream is reopened.
	addr := srv.Addr
	srv.Stop()
	back, err := extserver.StartServer(extserver.Options{Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer back.Stop()
	waitUntil(t, 30*time.Second, "the stream to be reopened", func() bool { return back.Streams() == 1 })
	back.Push(true)
	waitUntil(t, 10*time.Second, "a push over the reopened stream", func() bool { p := got(); return len(p) >= 4 && p[len(p)-1] })

	cancel()
	<-done
}

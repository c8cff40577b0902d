package scalers_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	etcdserver "github.com/kedactl/kedactl/test/servers/etcd"
)

// The etcd trigger's credentials; no error may show them.
const (
	etcdRootPassword   = "etcd-root-never-in-errors-81c2"
	etcdReaderPassword = "etcd-reader-never-in-errors-3fa9"
)

// newEtcdTrigger builds an etcd trigger on srv reading key.
func newEtcdTrigger(t *testing.T, srv *etcdserver.Server, key string, meta, auth map[string]string) scalers.Scaler {
	t.Helper()
	m := map[string]string{"endpoints": srv.Endpoint, "watchKey": key, "value": "5", "activationValue": "1"}
	for k, v := range meta {
		m[k] = v
	}
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "etcd", TriggerName: "queue", TriggerMetadata: m, AuthParams: auth, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// pollEtcd polls once: the value in thousandths, the activity and the error.
func pollEtcd(t *testing.T, s scalers.Scaler) (int64, bool, error) {
	t.Helper()
	name := s.GetMetricSpecForScaling(context.Background())[0].External.Metric.Name
	vals, active, err := s.GetMetricsAndActivity(context.Background(), name)
	if err != nil {
		for _, secret := range []string{etcdRootPassword, etcdReaderPassword} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows a password", err)
			}
		}
		return 0, false, err
	}
	if len(vals) != 1 || vals[0].MetricName != name {
		t.Fatalf("poll gave %+v", vals)
	}
	return vals[0].Value.MilliValue(), active, nil
}

func wantEtcdErr(t *testing.T, s scalers.Scaler, mentions ...string) {
	t.Helper()
	_, _, err := pollEtcd(t, s)
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", mentions)
	}
	for _, m := range mentions {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
}

// TestEtcdScalerAgainstRealServer: on an etcd member with authentication on, a user that may read
// /queues/ only reads the key's number and its activity; a missing key, a value that is no
// number, a key it may not read, a wrong password and no credentials each fail naming the cause
// and the fix, never a password.
func TestEtcdScalerAgainstRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	ctx := context.Background()
	srv := etcdserver.Start(t, etcdserver.Options{RootPassword: etcdRootPassword})
	if err := srv.AddReader(ctx, "keda", etcdReaderPassword, "/queues/"); err != nil {
		t.Fatal(err)
	}
	reader := map[string]string{"username": "keda", "password": etcdReaderPassword}
	s := newEtcdTrigger(t, srv, "/queues/jobs", nil, reader)
	if name := s.GetMetricSpecForScaling(ctx)[0].External.Metric.Name; name != "s0-etcd--queues-jobs" {
		t.Errorf("metric %s, want KEDA's s0-etcd--queues-jobs", name)
	}

	wantEtcdErr(t, s, `trigger 0 (etcd "queue")`, `key "/queues/jobs" does not exist`, srv.Endpoint, "check watchKey")
	for _, tt := range []struct {
		value  string
		milli  int64
		active bool
	}{{"7", 7000, true}, {"1", 1000, false}, {"1.5\n", 1500, true}, {"0", 0, false}, {"-2", -2000, false}} {
		if err := srv.Put(ctx, "/queues/jobs", tt.value); err != nil {
			t.Fatal(err)
		}
		milli, active, err := pollEtcd(t, s)
		if err != nil || milli != tt.milli || active != tt.active {
			t.Errorf("value %q: %dm, active %v, %v; want %dm, active %v", tt.value, milli, active, err, tt.milli, tt.active)
		}
	}
	if err := srv.Put(ctx, "/queues/jobs", "lots"); err != nil {
		t.Fatal(err)
	}
	wantEtcdErr(t, s, `the value "lots" is not a finite number`, "must hold a number")

	if err := srv.Put(ctx, "/private/jobs", "3"); err != nil {
		t.Fatal(err)
	}
	wantEtcdErr(t, newEtcdTrigger(t, srv, "/private/jobs", nil, reader), "permission denied", "grant its role read")
	wantEtcdErr(t, newEtcdTrigger(t, srv, "/queues/jobs", nil, map[string]string{"username": "keda", "password": "wrong-" + etcdReaderPassword}),
		"authentication failed", "check username and password")
	wantEtcdErr(t, newEtcdTrigger(t, srv, "/queues/jobs", nil, nil), "authentication enabled", "set username and password")

	// The password from the target's env, as KEDA's passwordFromEnv.
	s, err := scalers.New(ctx, &scalers.Config{TriggerType: "etcd", Timeout: 3 * time.Second,
		TriggerMetadata: map[string]string{"endpoints": srv.Endpoint, "watchKey": "/queues/jobs", "value": "5", "usernameFromEnv": "U", "passwordFromEnv": "P"},
		ResolvedEnv:     map[string]string{"U": "keda", "P": etcdReaderPassword}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if err := srv.Put(ctx, "/queues/jobs", "9"); err != nil {
		t.Fatal(err)
	}
	if milli, _, err := pollEtcd(t, s); err != nil || milli != 9000 {
		t.Errorf("credentials from the env: %dm, %v; want 9000m", milli, err)
	}
}

// TestEtcdScalerOverTLS: a TLS member that requires client certificates and passwords is read with
// tls enable, ca, cert and key from the TriggerAuthentication; without the client certificate,
// without the CA or without tls the poll fails naming TLS.
func TestEtcdScalerOverTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	ctx := context.Background()
	srv := etcdserver.Start(t, etcdserver.Options{RootPassword: etcdRootPassword, TLS: true, TLSClientAuth: true})
	if err := srv.Put(ctx, "/queues/tls", "4"); err != nil {
		t.Fatal(err)
	}
	full := map[string]string{"username": "root", "password": etcdRootPassword, "tls": "enable",
		"ca": string(srv.TLS.CAPEM), "cert": string(srv.TLS.CertPEM), "key": string(srv.TLS.KeyPEM)}
	without := func(drop ...string) map[string]string {
		m := map[string]string{}
		for k, v := range full {
			m[k] = v
		}
		for _, d := range drop {
			delete(m, d)
		}
		return m
	}
	milli, active, err := pollEtcd(t, newEtcdTrigger(t, srv, "/queues/tls", nil, full))
	if err != nil || milli != 4000 || !active {
		t.Fatalf("over TLS: %dm, active %v, %v; want 4000m, active", milli, active, err)
	}
	// A host:port endpoint is dialled over TLS too when tls is enable.
	u, _ := url.Parse(srv.Endpoint)
	if milli, _, err := pollEtcd(t, newEtcdTrigger(t, srv, "/queues/tls", map[string]string{"endpoints": u.Host}, full)); err != nil || milli != 4000 {
		t.Errorf("host:port over TLS: %dm, %v", milli, err)
	}
	wantEtcdErr(t, newEtcdTrigger(t, srv, "/queues/tls", nil, without("cert", "key")), "tls: certificate required", "client certificate", "cert and key")
	wantEtcdErr(t, newEtcdTrigger(t, srv, "/queues/tls", nil, without("ca")), "x509", "parameter ca")
	wantEtcdErr(t, newEtcdTrigger(t, srv, "/queues/tls", map[string]string{"endpoints": u.Host}, without("tls", "ca", "cert", "key")), `tls to "enable"`)
}

// TestEtcdTriggersShareOneClient: triggers on different keys of one member hold one connection
// between them with a pool, one each without.
func TestEtcdTriggersShareOneClient(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	srv := etcdserver.Start(t, etcdserver.Options{RootPassword: etcdRootPassword})
	for i := range sharedTriggers {
		if err := srv.Put(context.Background(), fmt.Sprintf("/queues/%d", i), "1"); err != nil {
			t.Fatal(err)
		}
	}
	u, _ := url.Parse(srv.Endpoint)
	port, _ := strconv.Atoi(u.Port())
	without, with := shareCase(t, sharedTriggers, func(t *testing.T) int { return establishedTo(t, port) }, func(i int) *scalers.Config {
		return &scalers.Config{TriggerType: "etcd", Timeout: 5 * time.Second,
			TriggerMetadata: map[string]string{"endpoints": srv.Endpoint, "watchKey": fmt.Sprintf("/queues/%d", i), "value": "5"},
			AuthParams:      map[string]string{"username": "root", "password": etcdRootPassword}}
	})
	if with != 1 || without != sharedTriggers {
		t.Errorf("connections to etcd: %d without a pool, %d with; want %d and 1", without, with, sharedTriggers)
	}
}

// TestEtcdPushesOnChange: the trigger's watch pushes on each put and delete of its key (active
// when the new value is above activationValue), not on other keys, keeps pushing across progress
// notifications, and ends with its context.
func TestEtcdPushesOnChange(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	ctx := context.Background()
	srv := etcdserver.Start(t, etcdserver.Options{RootPassword: etcdRootPassword, ProgressNotifyInterval: 500 * time.Millisecond})
	s := newEtcdTrigger(t, srv, "/queues/push", map[string]string{"watchProgressNotifyInterval": "1"},
		map[string]string{"username": "root", "password": etcdRootPassword})
	ps, ok := s.(scalers.PushScaler)
	if !ok {
		t.Fatal("the etcd trigger is not a PushScaler")
	}
	pushes := make(chan bool, 100)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { ps.Run(runCtx, func(active bool) { pushes <- active }); close(done) }()
	// The watch starts from the revision current when it is made: put until it hears.
	deadline := time.Now().Add(20 * time.Second)
	heard := false
	for !heard && time.Now().Before(deadline) {
		if err := srv.Put(ctx, "/queues/push", "3"); err != nil {
			t.Fatal(err)
		}
		select {
		case active := <-pushes:
			heard = true
			if !active {
				t.Error("a value of 3 above activationValue 1 pushed inactive")
			}
		case <-time.After(500 * time.Millisecond):
		}
	}
	if !heard {
		t.Fatal("no push within 20s of puts")
	}
	for len(pushes) > 0 {
		<-pushes
	}
	// Several progress notification intervals pass: the watch stays, and still hears.
	time.Sleep(3 * time.Second)
	for _, tt := range []struct {
		do     func() error
		active bool
	}{
		{func() error { return srv.Put(ctx, "/queues/push", "0") }, false},
		{func() error { return srv.Put(ctx, "/queues/push", "12") }, true},
		{func() error {
			c, err := srv.Client()
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.Delete(ctx, "/queues/push")
			return err
		}, false},
	} {
		if err := srv.Put(ctx, "/queues/other", "100"); err != nil {
			t.Fatal(err)
		}
		if err := tt.do(); err != nil {
			t.Fatal(err)
		}
		select {
		case active := <-pushes:
			if active != tt.active {
				t.Errorf("pushed active %v, want %v", active, tt.active)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no push within 10s of a change")
		}
		select {
		case active := <-pushes:
			t.Errorf("a second push (%v) for one change, or one for another key", active)
		case <-time.After(300 * time.Millisecond):
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

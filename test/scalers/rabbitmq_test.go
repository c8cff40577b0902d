package scalers_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	"github.com/kedactl/kedactl/test/cluster"
	rabbitserver "github.com/kedactl/kedactl/test/servers/rabbitmq"
)

const rabbitTestPassword = "Rabbit-pw/never:in@errors#5e1"

// statsWait bounds the wait for the management API's statistics, which lag the queues by up to
// the server's statistics interval (one second).
const statsWait = 30 * time.Second

// TestRabbitMQScalerAgainstRealServer runs the rabbitmq scaler against a real RabbitMQ node:
// queue length over AMQP and over the management API, on a non-default vhost from host's path
// or vhostName, unacknowledged messages, the publish rate, regexes with each operation, and
// every failure a poll can meet, each bounded by the trigger's timeout and free of the password.
func TestRabbitMQScalerAgainstRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts rabbitmq-server")
	}
	srv := rabbitserver.Start(t, rabbitserver.Options{Password: rabbitTestPassword, Vhost: "keda/orders", TLS: true})
	ctx := context.Background()
	vhost := srv.Vhost
	hosts := map[string]string{"amqp": srv.AMQPURL(vhost), "http": srv.ManagementURL(vhost)}

	build := func(t *testing.T, meta, auth, env map[string]string) scalers.Scaler {
		t.Helper()
		s, err := scalers.New(ctx, &scalers.Config{TriggerType: "rabbitmq", TriggerMetadata: meta, AuthParams: auth, ResolvedEnv: env, Timeout: pollTimeout})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(ctx) })
		return s
	}
	metricOf := func(s scalers.Scaler) string { return s.GetMetricSpecForScaling(ctx)[0].External.Metric.Name }
	read := func(s scalers.Scaler) (int64, bool, error) {
		vals, active, err := s.GetMetricsAndActivity(ctx, metricOf(s))
		if err != nil {
			return 0, false, err
		}
		return vals[0].Value.MilliValue(), active, nil
	}
	// settle polls until the value is want (the management API's statistics lag), bounded.
	settle := func(t *testing.T, s scalers.Scaler, want int64) (int64, bool) {
		t.Helper()
		deadline := time.Now().Add(statsWait)
		for {
			v, active, err := read(s)
			if err != nil {
				t.Fatal(err)
			}
			if v == want || time.Now().After(deadline) {
				return v, active
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// failingWithin polls the scaler once and checks the error: it happens within the trigger's
	// timeout, names the trigger type, says what went wrong and never shows the password.
	failingWithin := func(t *testing.T, timeout time.Duration, s scalers.Scaler, wants ...string) {
		t.Helper()
		start := time.Now()
		_, _, err := read(s)
		took := time.Since(start)
		if err == nil {
			t.Fatal("want an error")
		}
		t.Logf("error after %s: %v", took.Round(time.Millisecond), err)
		if took > timeout+time.Second {
			t.Errorf("failed after %s, the trigger's timeout is %s", took, timeout)
		}
		for _, w := range append([]string{"rabbitmq"}, wants...) {
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(w)) {
				t.Errorf("error %q does not mention %q", err, w)
			}
		}
		for _, pw := range []string{rabbitTestPassword, url.PathEscape(rabbitTestPassword), url.QueryEscape(rabbitTestPassword), "wrong-pw"} {
			if strings.Contains(err.Error(), pw) {
				t.Errorf("error %q shows the password %q", err, pw)
			}
		}
	}
	failing := func(t *testing.T, s scalers.Scaler, wants ...string) {
		t.Helper()
		failingWithin(t, pollTimeout, s, wants...)
	}
	declare := func(t *testing.T, vhost string, queues ...string) {
		t.Helper()
		for _, q := range queues {
			if err := srv.DeclareQueue(vhost, q); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish := func(t *testing.T, vhost, queue string, n int) {
		t.Helper()
		if err := srv.Publish(ctx, vhost, queue, n); err != nil {
			t.Fatal(err)
		}
	}

	for _, protocol := range []string{"amqp", "http"} {
		t.Run("queue length over "+protocol, func(t *testing.T) {
			queue := "length-" + protocol
			declare(t, vhost, queue)
			// The host comes from the target's env, the way hostFromEnv reads a Secret-backed variable.
			s := build(t, map[string]string{"hostFromEnv": "RABBITMQ_HOST", "queueName": queue, "mode": "QueueLength", "value": "2", "activationValue": "2"},
				nil, map[string]string{"RABBITMQ_HOST": hosts[protocol]})
			if specs := s.GetMetricSpecForScaling(ctx); specs[0].External.Metric.Name != "s0-rabbitmq-"+queue || specs[0].External.Target.AverageValue.Value() != 2 {
				t.Fatalf("metric spec = %+v", specs)
			}
			for _, step := range []struct {
				publish int
				value   int64
				active  bool
			}{{0, 0, false}, {2, 2, false}, {1, 3, true}, {7, 10, true}} {
				publish(t, vhost, queue, step.publish)
				if v, active := settle(t, s, step.value*1000); v != step.value*1000 || active != step.active {
					t.Errorf("%d messages: value=%dm active=%v, want %d %v", step.value, v, active, step.value, step.active)
				}
			}
			if err := srv.Purge(vhost, queue); err != nil {
				t.Fatal(err)
			}
			if v, active := settle(t, s, 0); v != 0 || active {
				t.Errorf("purged: value=%dm active=%v, want 0 false", v, active)
			}
		})

		t.Run("vhostName over "+protocol+", credentials from a TriggerAuthentication", func(t *testing.T) {
			queue := "vhostname-" + protocol
			declare(t, vhost, queue)
			publish(t, vhost, queue, 4)
			// The host names the default vhost and no credentials; vhostName and the
			// TriggerAuthentication's username and password complete it.
			bare := map[string]string{
				"amqp": "amqp://" + net.JoinHostPort(srv.Host, strconv.Itoa(srv.AMQPPort)) + "/",
				"http": "http://" + net.JoinHostPort(srv.Host, strconv.Itoa(srv.ManagementPort)) + "/",
			}[protocol]
			s := build(t, map[string]string{"host": bare, "vhostName": vhost, "queueName": queue, "queueLength": "1"},
				map[string]string{"username": srv.User, "password": srv.Password}, nil)
			if v, active := settle(t, s, 4000); v != 4000 || !active {
				t.Errorf("value=%dm active=%v, want 4000m true", v, active)
			}
		})

		t.Run("default vhost over "+protocol, func(t *testing.T) {
			queue := "default-vhost-" + protocol
			declare(t, "/", queue)
			publish(t, "/", queue, 1)
			s := build(t, map[string]string{"host": map[string]string{"amqp": srv.AMQPURL("/"), "http": srv.ManagementURL("/")}[protocol], "queueName": queue}, nil, nil)
			if v, active := settle(t, s, 1000); v != 1000 || !active {
				t.Errorf("value=%dm active=%v, want 1000m true", v, active)
			}
		})

		t.Run("wrong password over "+protocol, func(t *testing.T) {
			declare(t, vhost, "jobs")
			wrong := strings.Replace(hosts[protocol], url.UserPassword(srv.User, srv.Password).String(), url.UserPassword(srv.User, "wrong-pw").String(), 1)
			// RabbitMQ takes about 3 s to refuse a login over AMQP: within a 1 s timeout the
			// error still points at the credentials, and within 5 s it is the refusal.
			s := build(t, map[string]string{"host": wrong, "queueName": "jobs"}, nil, nil)
			failing(t, s, "check the credentials", map[string]string{"amqp": "did not accept the login", "http": "401"}[protocol])
			s = build(t, map[string]string{"host": wrong, "queueName": "jobs", "timeout": "5000"}, nil, nil)
			failingWithin(t, 5*time.Second, s, "check the credentials", map[string]string{"amqp": "refused the user, the password or the vhost", "http": "refused the user or password"}[protocol])
			// A password from a TriggerAuthentication stays out of errors as well.
			s = build(t, map[string]string{"host": hosts[protocol], "queueName": "jobs"}, map[string]string{"username": srv.User, "password": "wrong-" + rabbitTestPassword}, nil)
			failing(t, s, "check the credentials")
		})

		t.Run("missing queue over "+protocol, func(t *testing.T) {
			s := build(t, map[string]string{"host": hosts[protocol], "queueName": "no-such-queue"}, nil, nil)
			failing(t, s, `queue "no-such-queue"`, "does not exist")
			// The AMQP connection survives the closed channel: the next poll of a real queue works.
			declare(t, vhost, "after-missing")
			s = build(t, map[string]string{"host": hosts[protocol], "queueName": "after-missing"}, nil, nil)
			if _, _, err := read(s); err != nil {
				t.Error(err)
			}
		})

		t.Run("unknown vhost over "+protocol, func(t *testing.T) {
			s := build(t, map[string]string{"host": hosts[protocol], "vhostName": "no-such-vhost", "queueName": "jobs"}, nil, nil)
			failing(t, s, `vhost "no-such-vhost"`)
		})

		t.Run("nothing listens on the port over "+protocol, func(t *testing.T) {
			ports, err := cluster.FreePorts(1)
			if err != nil {
				t.Fatal(err)
			}
			dead := fmt.Sprintf("%s://%s@127.0.0.1:%d/%s", protocol, url.UserPassword(srv.User, srv.Password), ports[0], url.PathEscape(vhost))
			s := build(t, map[string]string{"host": dead, "queueName": "jobs"}, nil, nil)
			failing(t, s, "refused")
		})

		t.Run("server accepts and never answers over "+protocol, func(t *testing.T) {
			addr := silentServer(t)
			s := build(t, map[string]string{"host": fmt.Sprintf("%s://%s@%s/v", protocol, url.UserPassword(srv.User, srv.Password), addr), "queueName": "jobs"}, nil, nil)
			failing(t, s, "no answer within the trigger's timeout of 1s")
		})
	}

	t.Run("garbage: amqp to the management port, http to the AMQP port", func(t *testing.T) {
		toMgmt := fmt.Sprintf("amqp://%s@%s/%s", url.UserPassword(srv.User, srv.Password), net.JoinHostPort(srv.Host, strconv.Itoa(srv.ManagementPort)), url.PathEscape(vhost))
		failing(t, build(t, map[string]string{"host": toMgmt, "queueName": "jobs"}, nil, nil), "could not connect")
		toAMQP := fmt.Sprintf("http://%s@%s/%s", url.UserPassword(srv.User, srv.Password), net.JoinHostPort(srv.Host, strconv.Itoa(srv.AMQPPort)), url.PathEscape(vhost))
		failing(t, build(t, map[string]string{"host": toAMQP, "queueName": "jobs"}, nil, nil), "could not reach the server")
	})

	t.Run("unacknowledged messages", func(t *testing.T) {
		queue := "unacked"
		declare(t, vhost, queue)
		publish(t, vhost, queue, 5)
		// A consumer holds 2 messages without acknowledging them.
		conn, err := srv.Dial(vhost)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		if err := ch.Qos(2, 0, false); err != nil {
			t.Fatal(err)
		}
		deliveries, err := ch.Consume(queue, "holder", false, false, false, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			select {
			case <-deliveries:
			case <-time.After(10 * time.Second):
				t.Fatal("no delivery within 10s")
			}
		}
		for _, c := range []struct {
			name string
			meta map[string]string
			want int64
		}{
			{"http counts ready and unacknowledged", map[string]string{"host": hosts["http"]}, 5},
			{"http with excludeUnacknowledged counts ready", map[string]string{"host": hosts["http"], "excludeUnacknowledged": "true"}, 3},
			{"amqp counts ready", map[string]string{"host": hosts["amqp"]}, 3},
		} {
			c.meta["queueName"] = queue
			if v, _ := settle(t, build(t, c.meta, nil, nil), c.want*1000); v != c.want*1000 {
				t.Errorf("%s: value=%dm, want %d", c.name, v, c.want)
			}
		}
	})

	t.Run("MessageRate", func(t *testing.T) {
		queue := "rate"
		declare(t, vhost, queue)
		s := build(t, map[string]string{"host": hosts["http"], "queueName": queue, "mode": "MessageRate", "value": "10", "activationValue": "1"}, nil, nil)
		if specs := s.GetMetricSpecForScaling(ctx); specs[0].External.Target.AverageValue.Value() != 10 {
			t.Fatalf("metric spec = %+v", specs)
		}
		if v, active, err := read(s); err != nil || v != 0 || active {
			t.Fatalf("before publishing: value=%dm active=%v err=%v, want 0 false", v, active, err)
		}
		// waitRate polls until cond holds for the publish rate (bounded) and returns the last read.
		waitRate := func(what string, cond func(rate int64) bool) (int64, bool) {
			t.Helper()
			deadline := time.Now().Add(statsWait)
			for {
				v, active, err := read(s)
				if err != nil {
					t.Fatal(err)
				}
				if cond(v) {
					return v, active
				}
				if time.Now().After(deadline) {
					t.Fatalf("no %s within %s: last rate %dm/s", what, statsWait, v)
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
		// Publish steadily until the management API reports a rate.
		pubCtx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 0; i < 600 && pubCtx.Err() == nil; i++ {
				_ = srv.Publish(pubCtx, vhost, queue, 5)
				time.Sleep(50 * time.Millisecond)
			}
		})
		rate, active := waitRate("publish rate above 1/s", func(v int64) bool { return v > 1000 })
		stop()
		wg.Wait()
		t.Logf("publish rate %dm/s", rate)
		if !active {
			t.Errorf("rate %dm/s above activationValue 1: active=false", rate)
		}
		// Once publishing stops the rate falls to 0, but the backlog keeps the trigger active.
		if _, active := waitRate("rate of 0", func(v int64) bool { return v == 0 }); !active {
			t.Error("rate 0 with a backlog: active=false, want true")
		}
		if err := srv.Purge(vhost, queue); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(statsWait)
		for {
			v, active, err := read(s)
			if err != nil {
				t.Fatal(err)
			}
			if !active {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("rate %dm/s and an empty queue: still active after %s", v, statsWait)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	t.Run("useRegex with each operation", func(t *testing.T) {
		declare(t, vhost, "batch-a", "batch-b", "batch-c", "other")
		publish(t, vhost, "batch-a", 3)
		publish(t, vhost, "batch-b", 6)
		publish(t, vhost, "other", 50)
		for _, c := range []struct {
			operation string
			want      int64
		}{{"sum", 9}, {"max", 6}, {"avg", 3}} {
			s := build(t, map[string]string{"host": hosts["http"], "queueName": "^batch-", "useRegex": "true", "operation": c.operation, "value": "4", "mode": "QueueLength"}, nil, nil)
			if v, active := settle(t, s, c.want*1000); v != c.want*1000 || !active {
				t.Errorf("%s: value=%dm active=%v, want %d true", c.operation, v, active, c.want)
			}
		}
		s := build(t, map[string]string{"host": hosts["http"], "queueName": "^nothing-matches$", "useRegex": "true"}, nil, nil)
		if v, active, err := read(s); err != nil || v != 0 || active {
			t.Errorf("no match: value=%dm active=%v err=%v, want 0 false", v, active, err)
		}
		s = build(t, map[string]string{"host": hosts["http"], "queueName": "^batch-", "useRegex": "true", "pageSize": "2"}, nil, nil)
		failing(t, s, "more queues than one page of metadata.pageSize 2")
	})

	t.Run("TLS", func(t *testing.T) {
		queue := "tls"
		declare(t, vhost, queue)
		publish(t, vhost, queue, 2)
		keyDER, err := x509.MarshalECPrivateKey(srv.TLS.ClientKey)
		if err != nil {
			t.Fatal(err)
		}
		const keyPassword = "key-pass-never-in-errors"
		//nolint:staticcheck // the traditional PEM encryption keyPassword decrypts
		encrypted, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", keyDER, []byte(keyPassword), x509.PEMCipherAES256)
		if err != nil {
			t.Fatal(err)
		}
		clientAuth := map[string]string{"tls": "enable", "ca": string(srv.TLS.CAPEM), "cert": string(srv.TLS.CertPEM), "key": string(srv.TLS.KeyPEM)}
		with := func(base map[string]string, kv ...string) map[string]string {
			m := map[string]string{}
			for k, v := range base {
				m[k] = v
			}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i]] = kv[i+1]
			}
			return m
		}
		amqps, https := srv.AMQPSURL(vhost), srv.ManagementTLSURL(vhost)
		for _, c := range []struct {
			name       string
			host       string
			meta, auth map[string]string
		}{
			{"amqps with a client certificate", amqps, nil, clientAuth},
			{"amqps with an encrypted key and keyPassword", amqps, nil, with(clientAuth, "key", string(pem.EncodeToMemory(encrypted)), "keyPassword", keyPassword)},
			{"amqps, server certificate unchecked", amqps, map[string]string{"unsafeSsl": "true"}, with(clientAuth, "ca", "")},
			{"https with a client certificate", https, nil, clientAuth},
		} {
			t.Run(c.name, func(t *testing.T) {
				s := build(t, with(c.meta, "host", c.host, "queueName", queue), c.auth, nil)
				if v, active := settle(t, s, 2000); v != 2000 || !active {
					t.Errorf("value=%dm active=%v, want 2000m true", v, active)
				}
			})
		}
		for _, c := range []struct {
			name  string
			host  string
			auth  map[string]string
			wants []string
		}{
			{"amqps without the CA", amqps, with(clientAuth, "ca", ""), []string{"certificate is not trusted", "parameter ca"}},
			{"https without the CA", https, with(clientAuth, "ca", ""), []string{"certificate is not trusted", "parameter ca"}},
			{"amqps without a client certificate", amqps, map[string]string{"ca": string(srv.TLS.CAPEM)}, []string{"tls"}},
			{"https without a client certificate", https, map[string]string{"ca": string(srv.TLS.CAPEM)}, []string{"tls"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				failing(t, build(t, map[string]string{"host": c.host, "queueName": queue}, c.auth, nil), c.wants...)
			})
		}
	})

	t.Run("closed scaler over amqp", func(t *testing.T) {
		declare(t, vhost, "closing")
		s := build(t, map[string]string{"host": hosts["amqp"], "queueName": "closing"}, nil, nil)
		if _, _, err := read(s); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := read(s); err == nil || !strings.Contains(err.Error(), "closed") {
			t.Errorf("poll after Close: %v, want a closed-scaler error", err)
		}
	})
}

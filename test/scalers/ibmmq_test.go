package scalers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	ibmmqserver "github.com/kedactl/kedactl/test/servers/ibmmq"
)

// The REST API user's password on the IBM MQ fake; no error may show it.
const ibmmqTestPassword = "MQ-pa55-never-in-errors-5d2c"

func newIBMMQTrigger(t *testing.T, meta, auth map[string]string) scalers.Scaler {
	t.Helper()
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "ibmmq", TriggerMetadata: meta, AuthParams: auth, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// TestIBMMQTrigger: the ibmmq trigger on the REST API fake over TLS (the server's certificate as
// ca): one POST of DISPLAY QLOCAL(<queue>) CURDEPTH per queue with basic credentials and the CSRF
// header; several queues combine by operation; refused credentials, an unknown queue, an unknown
// queue manager and an untrusted certificate fail with what to check, never showing the password.
func TestIBMMQTrigger(t *testing.T) {
	srv := ibmmqserver.Start(t, ibmmqserver.Options{Username: "app", Password: ibmmqTestPassword})
	srv.SetDepth("DEV.QUEUE.1", 0)
	srv.SetDepth("DEV.QUEUE.2", 6)
	auth := map[string]string{"username": "app", "password": ibmmqTestPassword, "ca": srv.CertPEM}
	poll := func(s scalers.Scaler, metric string) (float64, bool, error) {
		vals, active, err := s.GetMetricsAndActivity(context.Background(), metric)
		if err != nil {
			return 0, false, err
		}
		if len(vals) != 1 || vals[0].MetricName != metric {
			t.Fatalf("poll gave %+v", vals)
		}
		return vals[0].Value.AsApproximateFloat64(), active, nil
	}
	wantErr := func(err error, mentions ...string) {
		t.Helper()
		if err == nil {
			t.Fatalf("want an error mentioning %q", mentions)
		}
		for _, m := range append(mentions, "trigger 0 (ibmmq)") {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("error %q does not mention %q", err, m)
			}
		}
		if strings.Contains(err.Error(), ibmmqTestPassword) {
			t.Errorf("error %q shows the password", err)
		}
	}

	one := newIBMMQTrigger(t, map[string]string{"host": srv.MQSC, "queueName": "DEV.QUEUE.1", "queueDepth": "5", "activationQueueDepth": "1"}, auth)
	for _, step := range []struct {
		n      int64
		active bool
	}{{0, false}, {1, false}, {12, true}} {
		srv.SetDepth("DEV.QUEUE.1", step.n)
		if v, active, err := poll(one, "s0-ibmmq-DEV-QUEUE-1"); err != nil || v != float64(step.n) || active != step.active {
			t.Fatalf("depth %d read as %g active %v: %v", step.n, v, active, err)
		}
	}
	r := srv.Requests()[0]
	if r.User != "app" || r.CSRFToken == "" || r.ContentType != "application/json" || r.Command.Command != "display" || r.Command.Qualifier != "qlocal" ||
		r.Command.Name != "DEV.QUEUE.1" || len(r.Command.ResponseParameters) != 1 || r.Command.ResponseParameters[0] != "CURDEPTH" || r.Status != 200 {
		t.Fatalf("request %+v", r)
	}

	// Two queues (12 and 6): max by default, sum and avg on request; named after the first.
	for op, want := range map[string]float64{"": 12, "max": 12, "sum": 18, "avg": 9} {
		meta := map[string]string{"host": srv.MQSC, "queueNames": "DEV.QUEUE.1, DEV.QUEUE.2"}
		if op != "" {
			meta["operation"] = op
		}
		if v, _, err := poll(newIBMMQTrigger(t, meta, auth), "s0-ibmmq-DEV-QUEUE-1"); err != nil || v != want {
			t.Errorf("operation %q: %g, %v; want %g", op, v, err, want)
		}
	}

	_, _, err := poll(newIBMMQTrigger(t, map[string]string{"host": srv.MQSC, "queueName": "DEV.QUEUE.1"},
		map[string]string{"username": "app", "password": "wrong", "ca": srv.CertPEM}), "s0-ibmmq-DEV-QUEUE-1")
	wantErr(err, "401 Unauthorized", "MQWB0112E", "refused username and password")

	_, _, err = poll(newIBMMQTrigger(t, map[string]string{"host": srv.MQSC, "queueName": "DEV.QUEUE.1,DEV.GONE"}, auth), "s0-ibmmq-DEV-QUEUE-1")
	wantErr(err, "queue DEV.GONE", "reason 2085", "AMQ8147E: IBM MQ object DEV.GONE not found")

	_, _, err = poll(newIBMMQTrigger(t, map[string]string{"host": strings.Replace(srv.MQSC, "/QM1/", "/QM9/", 1), "queueName": "DEV.QUEUE.1"}, auth), "s0-ibmmq-DEV-QUEUE-1")
	wantErr(err, "404 Not Found", "MQWB0009E", "queue manager's name in metadata.host")

	noCA := map[string]string{"username": "app", "password": ibmmqTestPassword}
	_, _, err = poll(newIBMMQTrigger(t, map[string]string{"host": srv.MQSC, "queueName": "DEV.QUEUE.1"}, noCA), "s0-ibmmq-DEV-QUEUE-1")
	wantErr(err, "certificate is not trusted")
	if v, _, err := poll(newIBMMQTrigger(t, map[string]string{"host": srv.MQSC, "queueName": "DEV.QUEUE.1", "unsafeSsl": "true"}, noCA), "s0-ibmmq-DEV-QUEUE-1"); err != nil || v != 12 {
		t.Fatalf("unsafeSsl: %g %v", v, err)
	}
}

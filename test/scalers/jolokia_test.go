package scalers_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	jolokiaserver "github.com/kedactl/kedactl/test/servers/jolokia"
)

// The console's password on the Jolokia fake; no error may show it.
const jolokiaTestPassword = "Jolokia-pa55-never-in-errors-93be"

// jolokiaCase is one trigger type on its broker flavour.
type jolokiaCase struct {
	triggerType, broker, metric string
	// meta is the trigger's metadata on srv naming queue; mbean the queue's MBean.
	meta  func(srv *jolokiaserver.Server, queue string) map[string]string
	mbean func(queue string) string
}

var jolokiaCases = []jolokiaCase{
	{triggerType: "activemq", broker: jolokiaserver.ActiveMQ, metric: "s0-activemq-jobs",
		meta: func(srv *jolokiaserver.Server, queue string) map[string]string {
			return map[string]string{"managementEndpoint": srv.Endpoint, "brokerName": "localhost", "destinationName": queue,
				"targetQueueSize": "5", "activationTargetQueueSize": "1"}
		},
		mbean: func(queue string) string { return jolokiaserver.ActiveMQQueue("localhost", queue) }},
	{triggerType: "artemis-queue", broker: jolokiaserver.Artemis, metric: "s0-artemis-jobs",
		meta: func(srv *jolokiaserver.Server, queue string) map[string]string {
			return map[string]string{"managementEndpoint": srv.Endpoint, "brokerName": "0.0.0.0", "brokerAddress": "work", "queueName": queue,
				"queueLength": "5", "activationQueueLength": "1"}
		},
		mbean: func(queue string) string { return jolokiaserver.ArtemisQueue("0.0.0.0", "work", queue) }},
}

func newJolokiaTrigger(t *testing.T, triggerType string, meta, auth map[string]string) scalers.Scaler {
	t.Helper()
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: triggerType, TriggerMetadata: meta, AuthParams: auth, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// pollJolokia polls once, checking the metric's name.
func pollJolokia(t *testing.T, s scalers.Scaler, metric string) (float64, bool, error) {
	t.Helper()
	vals, active, err := s.GetMetricsAndActivity(context.Background(), metric)
	if err != nil {
		return 0, false, err
	}
	if len(vals) != 1 || vals[0].MetricName != metric {
		t.Fatalf("poll gave %+v", vals)
	}
	return vals[0].Value.AsApproximateFloat64(), active, nil
}

func wantJolokiaErr(t *testing.T, err error, triggerType string, mentions ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error mentioning %q", mentions)
	}
	for _, m := range append(mentions, "trigger 0 ("+triggerType+")") {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
	if strings.Contains(err.Error(), jolokiaTestPassword) {
		t.Errorf("error %q shows the password", err)
	}
}

// TestJolokiaQueueTriggers: activemq and artemis-queue on the Jolokia fake of their broker's
// console: each poll is one GET of the queue's MBean attribute under the console's agent, with
// the basic credentials and the Origin KEDA sends (http://<managementEndpoint>, or corsHeader);
// the value is the queue's size, active above the activation threshold; the console's refusals,
// a queue that does not exist, a strict CORS policy and no console at all fail the poll with
// what to check, never showing the password.
func TestJolokiaQueueTriggers(t *testing.T) {
	auth := map[string]string{"username": "admin", "password": jolokiaTestPassword}
	for _, tc := range jolokiaCases {
		t.Run(tc.triggerType, func(t *testing.T) {
			srv := jolokiaserver.Start(t, jolokiaserver.Options{Broker: tc.broker, Username: "admin", Password: jolokiaTestPassword})
			srv.SetQueue(tc.mbean("jobs"), 0)
			s := newJolokiaTrigger(t, tc.triggerType, tc.meta(srv, "jobs"), auth)
			for _, step := range []struct {
				n      int64
				active bool
			}{{0, false}, {1, false}, {7, true}} {
				srv.SetQueue(tc.mbean("jobs"), step.n)
				v, active, err := pollJolokia(t, s, tc.metric)
				if err != nil || v != float64(step.n) || active != step.active {
					t.Fatalf("queue of %d read as %g, active %v, %v", step.n, v, active, err)
				}
			}
			reqs := srv.Requests()
			r := reqs[len(reqs)-1]
			if len(reqs) != 3 || r.Method != "GET" || r.Origin != "http://"+srv.Endpoint || r.User != "admin" || r.ReadStatus != 200 ||
				len(r.Reads) != 1 || !strings.HasPrefix(r.Path, srv.Agent+"/read/") {
				t.Fatalf("requests %+v", reqs)
			}

			// A strict CORS policy allowing another origin refuses the default one, until
			// corsHeader names it.
			srv.SetAllowedOrigins("https://console.example")
			_, _, err := pollJolokia(t, s, tc.metric)
			wantJolokiaErr(t, err, tc.triggerType, "status 403", "is not allowed to call this agent", "metadata.corsHeader")
			withCors := tc.meta(srv, "jobs")
			withCors["corsHeader"] = "https://console.example"
			if v, _, err := pollJolokia(t, newJolokiaTrigger(t, tc.triggerType, withCors, auth), tc.metric); err != nil || v != 7 {
				t.Fatalf("with corsHeader: %g, %v", v, err)
			}
			srv.SetAllowedOrigins()

			_, _, err = pollJolokia(t, newJolokiaTrigger(t, tc.triggerType, tc.meta(srv, "jobs"), map[string]string{"username": "admin", "password": "wrong"}), tc.metric)
			wantJolokiaErr(t, err, tc.triggerType, "401 Unauthorized", "refused username and password")

			missing := strings.Replace(tc.metric, "jobs", "gone", 1)
			_, _, err = pollJolokia(t, newJolokiaTrigger(t, tc.triggerType, tc.meta(srv, "gone"), auth), missing)
			wantJolokiaErr(t, err, tc.triggerType, "status 404 javax.management.InstanceNotFoundException", "MBean was not found", "brokerName")

			down := tc.meta(srv, "jobs")
			down["managementEndpoint"] = "127.0.0.1:1"
			_, _, err = pollJolokia(t, newJolokiaTrigger(t, tc.triggerType, down, auth), tc.metric)
			wantJolokiaErr(t, err, tc.triggerType, "could not reach the server")
		})
	}
}

// TestJolokiaRestAPITemplates: the whole read URL in restApiTemplate (artemis-queue) or
// restAPITemplate (activemq) reads the same queue; the metric is named after the queue the
// template's MBean names, as KEDA names it (Artemis's value keeps its quotes).
func TestJolokiaRestAPITemplates(t *testing.T) {
	auth := map[string]string{"username": "admin", "password": jolokiaTestPassword}
	amq := jolokiaserver.Start(t, jolokiaserver.Options{Broker: jolokiaserver.ActiveMQ, Username: "admin", Password: jolokiaTestPassword})
	amq.SetQueue(jolokiaserver.ActiveMQQueue("b1", "orders"), 4)
	s := newJolokiaTrigger(t, "activemq", map[string]string{"restAPITemplate": amq.URL + amq.Agent + "/read/" + jolokiaserver.ActiveMQQueue("b1", "orders") + "/QueueSize"}, auth)
	if v, active, err := pollJolokia(t, s, "s0-activemq-orders"); err != nil || v != 4 || !active {
		t.Fatalf("activemq template: %g %v %v", v, active, err)
	}
	if specs := s.GetMetricSpecForScaling(context.Background()); len(specs) != 1 || specs[0].External.Metric.Name != "s0-activemq-orders" || specs[0].External.Target.AverageValue.Value() != 10 {
		t.Fatalf("activemq spec %+v", specs)
	}

	art := jolokiaserver.Start(t, jolokiaserver.Options{Broker: jolokiaserver.Artemis, Username: "admin", Password: jolokiaTestPassword})
	art.SetQueue(jolokiaserver.ArtemisQueue("b1", "a1", "orders"), 12)
	s = newJolokiaTrigger(t, "artemis-queue", map[string]string{"restApiTemplate": art.URL + art.Agent + "/read/" + jolokiaserver.ArtemisQueue("b1", "a1", "orders") + "/MessageCount"}, auth)
	// Artemis's default activation is 10 messages.
	if v, active, err := pollJolokia(t, s, `s0-artemis--orders-`); err != nil || v != 12 || !active {
		t.Fatalf("artemis template: %g %v %v", v, active, err)
	}
	if specs := s.GetMetricSpecForScaling(context.Background()); len(specs) != 1 || specs[0].External.Metric.Name != `s0-artemis--orders-` {
		t.Fatalf("artemis spec %+v", specs)
	}
}

// TestArtemisQueueTLS: an https console asking for a client certificate: ca, cert and key from
// the TriggerAuthentication make the read; without the ca the certificate is not trusted, unless
// unsafeSsl.
func TestArtemisQueueTLS(t *testing.T) {
	ca := newPKICert(t, "artemis test CA", nil)
	server := newPKICert(t, "127.0.0.1", ca)
	client := newPKICert(t, "keda-client", ca)
	pair, err := tls.X509KeyPair([]byte(server.certPEM), []byte(server.keyPEM))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	srv := jolokiaserver.Start(t, jolokiaserver.Options{Broker: jolokiaserver.Artemis, Username: "admin", Password: jolokiaTestPassword,
		TLS: &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12}})
	srv.SetQueue(jolokiaserver.ArtemisQueue("b", "a", "jobs"), 30)
	// KEDA's default template is http://: an https console takes the whole URL in
	// restApiTemplate, whose MBean names the queue.
	meta := map[string]string{"restApiTemplate": srv.URL + srv.Agent + "/read/" + jolokiaserver.ArtemisQueue("b", "a", "jobs") + "/MessageCount"}
	auth := map[string]string{"username": "admin", "password": jolokiaTestPassword, "ca": ca.certPEM, "cert": client.certPEM, "key": client.keyPEM}
	if v, _, err := pollJolokia(t, newJolokiaTrigger(t, "artemis-queue", meta, auth), `s0-artemis--jobs-`); err != nil || v != 30 {
		t.Fatalf("over TLS: %g %v", v, err)
	}
	noCA := map[string]string{"username": "admin", "password": jolokiaTestPassword, "cert": client.certPEM, "key": client.keyPEM}
	_, _, err = pollJolokia(t, newJolokiaTrigger(t, "artemis-queue", meta, noCA), `s0-artemis--jobs-`)
	wantJolokiaErr(t, err, "artemis-queue", "certificate is not trusted")
	meta["unsafeSsl"] = "true"
	if v, _, err := pollJolokia(t, newJolokiaTrigger(t, "artemis-queue", meta, noCA), `s0-artemis--jobs-`); err != nil || v != 30 {
		t.Fatalf("unsafeSsl: %g %v", v, err)
	}
}

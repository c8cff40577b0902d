package scalers_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	asbserver "github.com/kedactl/kedactl/test/servers/azureservicebus"
)

// The shared access keys of the Service Bus fake's policies; no error may show them.
const (
	asbManageKey = "YXNiLW1hbmFnZS1rZXktbmV2ZXItaW4tZXJyb3Jz"
	asbListenKey = "YXNiLWxpc3Rlbi1rZXktbmV2ZXItaW4tZXJyb3Jz"
)

func newServiceBusTrigger(t *testing.T, meta map[string]string, conn string) scalers.Scaler {
	t.Helper()
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "azure-servicebus", TriggerMetadata: meta,
		AuthParams: map[string]string{"connection": conn}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// TestAzureServiceBusTrigger: the azure-servicebus trigger on the management API fake over TLS
// (its CA trusted as the system's): a queue's and a subscription's active messages (dead-lettered
// and scheduled ones do not count) with a token signed per request by the policy's key; useRegex
// pages through the namespace's queues (or a topic's subscriptions) and combines the matches by
// operation; a connection string's own SharedAccessSignature; and the common failures (a policy
// without Manage, a wrong key, an expired signature, an entity or topic that does not exist, an
// unreachable endpoint, an untrusted certificate) with what to check, never showing a key.
func TestAzureServiceBusTrigger(t *testing.T) {
	srv := asbserver.Start(t, asbserver.Options{TLS: serviceBusCA.ServerConfig(), Policies: []asbserver.Policy{
		{Name: "RootManageSharedAccessKey", Key: asbManageKey, Rights: []string{"Manage", "Listen", "Send"}},
		{Name: "reader", Key: asbListenKey, Rights: []string{"Listen"}},
	}})
	conn := srv.ConnectionString("RootManageSharedAccessKey")
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
		for _, m := range append(mentions, "trigger 0 (azure-servicebus)") {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("error %q does not mention %q", err, m)
			}
		}
		for _, key := range []string{asbManageKey, asbListenKey} {
			if strings.Contains(err.Error(), key) {
				t.Errorf("error %q shows a key", err)
			}
		}
	}

	queue := newServiceBusTrigger(t, map[string]string{"queueName": "Orders", "messageCount": "5", "activationMessageCount": "1"}, conn)
	if specs := queue.GetMetricSpecForScaling(context.Background()); len(specs) != 1 || specs[0].External.Metric.Name != "s0-azure-servicebus-Orders" ||
		specs[0].External.Target.AverageValue.Value() != 5 {
		t.Fatalf("spec %+v", specs)
	}
	for _, step := range []struct {
		active int64
		want   bool
	}{{0, false}, {1, false}, {12, true}} {
		srv.SetQueue("orders", asbserver.Counts{Active: step.active, DeadLetter: 3, Scheduled: 2})
		if v, active, err := poll(queue, "s0-azure-servicebus-Orders"); err != nil || v != float64(step.active) || active != step.want {
			t.Fatalf("%d active read as %g active %v: %v", step.active, v, active, err)
		}
	}
	r := srv.Requests()[0]
	if r.Path != "/Orders" || r.Query.Get("api-version") != "2021-05" || r.KeyName != "RootManageSharedAccessKey" ||
		r.Audience != "https://"+srv.Host+"/orders" || r.Status != 200 {
		t.Fatalf("request %+v", r)
	}

	srv.SetSubscription("events", "billing", asbserver.Counts{Active: 9, DeadLetter: 1})
	srv.SetSubscription("events", "billing-eu", asbserver.Counts{Active: 4})
	srv.SetSubscription("events", "audit", asbserver.Counts{Active: 100})
	sub := newServiceBusTrigger(t, map[string]string{"topicName": "events", "subscriptionName": "billing"}, conn)
	if v, active, err := poll(sub, "s0-azure-servicebus-events"); err != nil || v != 9 || !active {
		t.Fatalf("subscription: %g %v %v", v, active, err)
	}

	// 150 queues matching orders-.* (one message each but the last, with 51) beside others.
	for i := range 150 {
		n := int64(1)
		if i == 149 {
			n = 51
		}
		srv.SetQueue(fmt.Sprintf("orders-%03d", i), asbserver.Counts{Active: n})
	}
	srv.SetQueue("payments", asbserver.Counts{Active: 1000})
	before := len(srv.Requests())
	for op, want := range map[string]float64{"": 200, "sum": 200, "max": 51, "avg": 1} {
		meta := map[string]string{"queueName": "orders-.*", "useRegex": "true"}
		if op != "" {
			meta["operation"] = op
		}
		if v, _, err := poll(newServiceBusTrigger(t, meta, conn), "s0-azure-servicebus-queue-regex"); err != nil || v != want {
			t.Errorf("queues, operation %q: %g %v, want %g", op, v, err, want)
		}
	}
	// 152 queues: a page of 100 and one of 52 per poll.
	pages := srv.Requests()[before : before+3]
	for i, r := range pages {
		if r.Path != "/$Resources/Queues" || r.Query.Get("$skip") != fmt.Sprint(i%2*100) || r.Query.Get("$top") != "100" || r.Status != 200 {
			t.Fatalf("page %d: %+v", i, r)
		}
	}
	subs := newServiceBusTrigger(t, map[string]string{"topicName": "events", "subscriptionName": "billing.*", "useRegex": "true", "operation": "max"}, conn)
	if v, _, err := poll(subs, "s0-azure-servicebus-topic-regex"); err != nil || v != 9 {
		t.Fatalf("subscriptions: %g %v", v, err)
	}

	// A connection string with its own token, signed for the namespace.
	exp := time.Now().Add(time.Hour).Unix()
	sasConn := "Endpoint=sb://" + srv.Host + "/;SharedAccessSignature=" + signedToken("https://"+srv.Host+"/", "RootManageSharedAccessKey", asbManageKey, exp)
	if v, _, err := poll(newServiceBusTrigger(t, map[string]string{"queueName": "orders"}, sasConn), "s0-azure-servicebus-orders"); err != nil || v != 12 {
		t.Fatalf("SharedAccessSignature: %g %v", v, err)
	}
	expired := "Endpoint=sb://" + srv.Host + "/;SharedAccessSignature=" + signedToken("https://"+srv.Host+"/", "RootManageSharedAccessKey", asbManageKey, time.Now().Add(-time.Minute).Unix())
	_, _, err := poll(newServiceBusTrigger(t, map[string]string{"queueName": "orders"}, expired), "s0-azure-servicebus-orders")
	wantErr(err, "401 Unauthorized (ExpiredToken: The token is expired.", "refused the credential")

	_, _, err = poll(newServiceBusTrigger(t, map[string]string{"queueName": "orders"}, srv.ConnectionString("reader")), "s0-azure-servicebus-orders")
	wantErr(err, "401 Unauthorized (Manage,EntityRead claims required for this operation.)", "Manage rights")
	wrongKey := strings.Replace(conn, asbManageKey, asbListenKey, 1)
	_, _, err = poll(newServiceBusTrigger(t, map[string]string{"queueName": "orders"}, wrongKey), "s0-azure-servicebus-orders")
	wantErr(err, "InvalidSignature", "refused the credential")

	_, _, err = poll(newServiceBusTrigger(t, map[string]string{"queueName": "shipping"}, conn), "s0-azure-servicebus-shipping")
	wantErr(err, `queue "shipping" (metadata.queueName) does not exist in the namespace`)
	_, _, err = poll(newServiceBusTrigger(t, map[string]string{"topicName": "events", "subscriptionName": "gone"}, conn), "s0-azure-servicebus-events")
	wantErr(err, `subscription "gone" of topic "events"`, "does not exist")
	_, _, err = poll(newServiceBusTrigger(t, map[string]string{"topicName": "nope", "subscriptionName": "billing"}, conn), "s0-azure-servicebus-nope")
	wantErr(err, "404 Not Found", "was not found", "does not exist")
	_, _, err = poll(newServiceBusTrigger(t, map[string]string{"topicName": "nope", "subscriptionName": ".*", "useRegex": "true"}, conn), "s0-azure-servicebus-topic-regex")
	wantErr(err, "404 Not Found", `topic "nope" (metadata.topicName) does not exist`)

	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	_ = l.Close()
	_, _, err = poll(newServiceBusTrigger(t, map[string]string{"queueName": "orders"}, strings.Replace(conn, srv.Host, closed, 1)), "s0-azure-servicebus-orders")
	wantErr(err, "could not reach the Service Bus namespace", "Endpoint of the connection string")

	// httptest's own certificate, which no CA the operator trusts signed.
	untrusted := asbserver.Start(t, asbserver.Options{Policies: []asbserver.Policy{{Name: "RootManageSharedAccessKey", Key: asbManageKey, Rights: []string{"Manage"}}}})
	_, _, err = poll(newServiceBusTrigger(t, map[string]string{"queueName": "orders"}, untrusted.ConnectionString("RootManageSharedAccessKey")), "s0-azure-servicebus-orders")
	wantErr(err, "certificate is not trusted", "--ca-dir")
}

// signedToken is a shared access signature as Microsoft documents it, made without the scaler's
// code: sr the URL-encoded resource, sig the URL-encoded base64 HMAC-SHA256 of "sr\nse" keyed by
// the key's text.
func signedToken(resource, keyName, key string, expiry int64) string {
	sr := url.QueryEscape(resource)
	se := strconv.FormatInt(expiry, 10)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(sr + "\n" + se))
	return "SharedAccessSignature sr=" + sr + "&sig=" + url.QueryEscape(base64.StdEncoding.EncodeToString(mac.Sum(nil))) + "&se=" + se + "&skn=" + keyName
}

package scalers

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// asbTestKey is the shared access key of the tests' connection strings; no error may show it.
const asbTestKey = "c2VydmljZWJ1cy10ZXN0LWtleS1uZXZlci1zaG93bg=="

// fuzzServiceBus answers every request with the current fuzz input, a status and a body.
type fuzzServiceBus struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	body   []byte
}

func (s *fuzzServiceBus) set(status int, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, body
}

// FuzzAzureServiceBusResponse feeds arbitrary answers to the ATOM parsers and, served on 127.0.0.1, to an azure-servicebus trigger on a subscription and one on every queue whose
// name matches (useRegex): a poll reports what the parsers read (an empty feed is an entity that
// does not exist; a listing that fills every page is refused after the last), never a negative
// count, and no error is long or shows the key.
func FuzzAzureServiceBusResponse(f *testing.F) {
	entry := func(desc, counts string) string {
		return `<entry xmlns="http://www.w3.org/2005/Atom"><title type="text">orders</title><content type="application/xml"><` + desc +
			` xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"><CountDetails xmlns:d2p1="http://schemas.microsoft.com/netservices/2011/06/servicebus">` +
			counts + `</CountDetails></` + desc + `></content></entry>`
	}
	for _, seed := range []struct {
		status byte
		body   string
	}{
		{0, entry("SubscriptionDescription", `<d2p1:ActiveMessageCount>7</d2p1:ActiveMessageCount><d2p1:DeadLetterMessageCount>2</d2p1:DeadLetterMessageCount>`)},
		{0, entry("QueueDescription", `<d2p1:ActiveMessageCount>-1</d2p1:ActiveMessageCount>`)},
		{0, entry("TopicDescription", `<d2p1:ActiveMessageCount>1</d2p1:ActiveMessageCount>`)},
		{0, `<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">Queues</title>` + strings.Repeat(strings.Replace(entry("QueueDescription", `<d2p1:ActiveMessageCount>3</d2p1:ActiveMessageCount>`), "orders", "orders-eu", 1), 3) + `</feed>`},
		{0, `<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">Publicly Listed Services</title><subtitle type="text">This is the list of publicly-listed services currently available.</subtitle></feed>`},
		{2, `<Error><Code>401</Code><Detail>InvalidSignature: The token has an invalid signature. TrackingId:1, SystemTracker:x, Timestamp:2026-01-01T00:00:00</Detail></Error>`},
		{4, `<Error><Code>404</Code><Detail>` + asbTestKey + `</Detail></Error>`},
		{0, entry("QueueDescription", `<d2p1:ActiveMessageCount>9223372036854775808</d2p1:ActiveMessageCount>`)},
		{0, `<entry><content><QueueDescription><CountDetails>`},
	} {
		f.Add(seed.status, []byte(seed.body))
	}
	srv := &fuzzServiceBus{status: http.StatusOK}
	srv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		srv.mu.Lock()
		status, body := srv.status, srv.body
		srv.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	f.Cleanup(srv.Close)
	conn := "Endpoint=sb://" + srv.Listener.Addr().String() + "/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" + asbTestKey
	build := func(meta map[string]string) Scaler {
		s, err := New(context.Background(), &Config{TriggerType: "azure-servicebus", TriggerMetadata: meta, AuthParams: map[string]string{"connection": conn}, Timeout: fuzzPollTimeout})
		if err != nil {
			f.Fatal(err)
		}
		// Plain http: the management API is https only, but a TLS handshake in the fuzzer's
		// instrumented build takes seconds, and the answers, not the transport, are fuzzed here.
		s.(*azureServiceBusScaler).client.ns.BaseURL.Scheme = "http"
		f.Cleanup(func() { _ = s.Close(context.Background()) })
		return s
	}
	sub := build(map[string]string{"topicName": "events", "subscriptionName": "orders", "activationMessageCount": "1"})
	regex := build(map[string]string{"queueName": "orders.*", "useRegex": "true", "operation": "max", "activationMessageCount": "1"})

	f.Fuzz(func(t *testing.T, statusPick byte, body []byte) {
		status := fuzzStatuses[int(statusPick)%len(fuzzStatuses)]
		if status == http.StatusNoContent {
			body = nil
		}
		srv.set(status, bytes.Clone(body))
		failed := func(err error, mentions ...string) {
			t.Helper()
			if err == nil {
				t.Fatalf("status %d, body %q: no error", status, body)
			}
			checkErr(t, err, append(mentions, "trigger 0 (azure-servicebus)")...)
			if strings.Contains(err.Error(), asbTestKey) {
				t.Fatalf("error shows the key: %v", err)
			}
		}

		n, exists, parseErr := parseAzureServiceBusEntity(body, azureServiceBusSubscription)
		vals, active, err := poll(t, sub, "s0-azure-servicebus-events")
		switch {
		case status != http.StatusOK:
			failed(err, "answered")
		case parseErr != nil:
			failed(err, parseErr.Error())
		case !exists:
			failed(err, "does not exist")
		case n < 0:
			t.Fatalf("count %d", n)
		case err != nil:
			t.Fatalf("the parser read %d, the poll failed: %v", n, err)
		default:
			checkPoll(t, vals, active, "s0-azure-servicebus-events", float64(n), 1)
		}

		page, feedErr := parseAzureServiceBusFeed(body, azureServiceBusQueue)
		vals, active, err = poll(t, regex, "s0-azure-servicebus-queue-regex")
		switch {
		case status != http.StatusOK:
			failed(err, "answered")
		case feedErr != nil:
			failed(err, feedErr.Error())
		case len(page) >= azureServiceBusPageSize:
			failed(err, "lists more than")
		case err != nil:
			t.Fatalf("the parser read %v, the poll failed: %v", page, err)
		default:
			var want int64
			for _, e := range page {
				if e.active < 0 {
					t.Fatalf("entry %+v", e)
				}
				if strings.HasPrefix(e.name, "orders") && !strings.ContainsAny(e.name, "\n") {
					want = max(want, e.active)
				}
			}
			checkPoll(t, vals, active, "s0-azure-servicebus-queue-regex", float64(want), 1)
		}
	})
}

package scalers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseAzureServiceBusMetadata(t *testing.T) {
	conn := "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=keda-monitor;SharedAccessKey=" + asbTestKey
	withConn := map[string]string{"connection": conn}
	queue := map[string]string{"queueName": "orders"}
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
	topic := map[string]string{"topicName": "events", "subscriptionName": "billing"}
	tests := []parseCase[meta.AzureServiceBusMetadata]{
		{name: "queue with defaults", meta: queue, auth: withConn, check: func(t *testing.T, m *meta.AzureServiceBusMetadata) {
			ns := m.ServiceBus
			if m.MessageCount != 5 || m.ActivationMessageCount != 0 || m.Operation != "sum" || m.UseRegex || m.NameRegex != nil ||
				ns.BaseURL.String() != "https://acme.servicebus.windows.net/" || ns.KeyName != "keda-monitor" || ns.Key != asbTestKey || ns.SAS != "" ||
				m.MetricNamePart() != "azure-servicebus-orders" {
				t.Errorf("parsed %+v, namespace %+v", m, ns)
			}
		}},
		{name: "subscription, counts and a port", meta: with(topic, "messageCount", "20", "activationMessageCount", "3"),
			auth: map[string]string{"connection": "endpoint=sb://127.0.0.1:5671;sharedaccesskeyname=k;sharedaccesskey=" + asbTestKey + ";EntityPath=events"},
			check: func(t *testing.T, m *meta.AzureServiceBusMetadata) {
				if m.MessageCount != 20 || m.ActivationMessageCount != 3 || m.ServiceBus.BaseURL.String() != "https://127.0.0.1:5671/" || m.MetricNamePart() != "azure-servicebus-events" {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "connection from the env", meta: with(queue, "connectionFromEnv", "SB_CONN"), env: map[string]string{"SB_CONN": conn},
			check: func(t *testing.T, m *meta.AzureServiceBusMetadata) {
				if m.ServiceBus == nil || m.ServiceBus.Key != asbTestKey {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "a shared access signature", meta: queue,
			auth: map[string]string{"connection": "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessSignature=SharedAccessSignature sr=https%3a%2f%2facme.servicebus.windows.net%2f&sig=abc%3d&se=1999999999&skn=ro"},
			check: func(t *testing.T, m *meta.AzureServiceBusMetadata) {
				if !strings.HasPrefix(m.ServiceBus.SAS, "SharedAccessSignature sr=") || m.ServiceBus.Key != "" {
					t.Errorf("parsed %+v", m.ServiceBus)
				}
			}},
		{name: "queue regex", meta: with(queue, "queueName", "orders-(eu|us)", "useRegex", "true", "operation", "avg"), auth: withConn,
			check: func(t *testing.T, m *meta.AzureServiceBusMetadata) {
				if m.NameRegex == nil || m.Operation != "avg" || m.MetricNamePart() != "azure-servicebus-queue-regex" {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "subscription regex", meta: with(topic, "subscriptionName", "billing-.*", "useRegex", "true"), auth: withConn,
			check: func(t *testing.T, m *meta.AzureServiceBusMetadata) {
				if !m.Matches("billing-eu") || m.Matches("events") || m.MetricNamePart() != "azure-servicebus-topic-regex" {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "offline without the connection", meta: queue, offline: true, check: func(t *testing.T, m *meta.AzureServiceBusMetadata) {
			if m.ServiceBus != nil {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "no entity", meta: map[string]string{}, auth: withConn, wantErr: []string{"queueName", "is required (or topicName and subscriptionName)"}},
		{name: "queue and topic", meta: with(queue, "topicName", "events"), auth: withConn, wantErr: []string{"topicName", "together with queueName"}},
		{name: "queue with a subscription", meta: with(queue, "subscriptionName", "billing"), auth: withConn, wantErr: []string{"subscriptionName", "together with queueName"}},
		{name: "topic without subscription", meta: map[string]string{"topicName": "events"}, auth: withConn, wantErr: []string{"subscriptionName", "required with topicName"}},
		{name: "bad queue regex", meta: with(queue, "queueName", "orders-(", "useRegex", "true"), auth: withConn, wantErr: []string{"queueName", "not a valid regular expression"}},
		{name: "bad subscription regex", meta: with(topic, "subscriptionName", "[", "useRegex", "true"), auth: withConn, wantErr: []string{"subscriptionName", "not a valid regular expression"}},
		{name: "a bracket without useRegex is a name", meta: with(queue, "queueName", "orders-("), auth: withConn, check: func(*testing.T, *meta.AzureServiceBusMetadata) {}},
		{name: "zero target", meta: with(queue, "messageCount", "0"), auth: withConn, wantErr: []string{"messageCount", "at least 1"}},
		{name: "count not a number", meta: with(queue, "messageCount", "five"), auth: withConn, wantErr: []string{"messageCount"}},
		{name: "unknown operation", meta: with(queue, "operation", "median"), auth: withConn, wantErr: []string{"operation"}},
		{name: "useRegex not a bool", meta: with(queue, "useRegex", "yes"), auth: withConn, wantErr: []string{"useRegex"}},
		{name: "no connection", meta: queue, wantErr: []string{"trigger 0 (azure-servicebus)", "connection", "is required"}},
		{name: "namespace alone", meta: with(queue, "namespace", "acme"), wantErr: []string{"connection", "azure-workload"}},
		{name: "connection in the metadata is not read", meta: with(queue, "connection", conn), wantErr: []string{"connection", "is required"}},
		{name: "no endpoint", meta: queue, auth: map[string]string{"connection": "SharedAccessKeyName=k;SharedAccessKey=" + asbTestKey}, wantErr: []string{"connection", "no Endpoint"}},
		{name: "no key", meta: queue, auth: map[string]string{"connection": "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=k"}, wantErr: []string{"no SharedAccessKey"}},
		{name: "no key name", meta: queue, auth: map[string]string{"connection": "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKey=" + asbTestKey}, wantErr: []string{"no SharedAccessKeyName"}},
		{name: "not pairs", meta: queue, auth: map[string]string{"connection": "Endpoint=sb://acme.servicebus.windows.net/;key"}, wantErr: []string{"has no '='"}},
		{name: "a signature that is no token", meta: queue, auth: map[string]string{"connection": "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessSignature=" + asbTestKey}, wantErr: []string{"SharedAccessSignature"}},
	}
	runParseCases(t, "azure-servicebus", tests, asbTestKey)
	// As a metric source, messageCount may be 0 (the HPA reads the formula's composite metric).
	cfg := &Config{TriggerType: "azure-servicebus", AsMetricSource: true, TriggerMetadata: with(queue, "messageCount", "0"), AuthParams: withConn}
	if err := ValidateTrigger(cfg); err != nil {
		t.Errorf("as a metric source: %v", err)
	}
}

// TestAzureServiceBusAuthorization: a token signed with the key is Microsoft's documented
// SharedAccessSignature: sr the URL-encoded resource, se its expiry, and sig the HMAC-SHA256 of
// "<sr>\n<se>" keyed by the key's text; a connection string's own token is sent as it is.
func TestAzureServiceBusAuthorization(t *testing.T) {
	ns, err := meta.ParseAzureServiceBusConnection("Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=keda;SharedAccessKey=" + asbTestKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	token := ns.Authorization("https://acme.servicebus.windows.net/Orders", now)
	fields, err := url.ParseQuery(strings.TrimPrefix(token, "SharedAccessSignature "))
	if err != nil || !strings.HasPrefix(token, "SharedAccessSignature ") {
		t.Fatalf("token %q: %v", token, err)
	}
	rawSR := strings.Split(strings.Split(token, "sr=")[1], "&")[0]
	mac := hmac.New(sha256.New, []byte(asbTestKey))
	mac.Write([]byte("https%3a%2f%2facme.servicebus.windows.net%2forders\n1800003600"))
	if rawSR != "https%3a%2f%2facme.servicebus.windows.net%2forders" || fields.Get("se") != "1800003600" || fields.Get("skn") != "keda" ||
		fields.Get("sig") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Fatalf("token %q", token)
	}
	const sas = "SharedAccessSignature sr=https%3a%2f%2facme.servicebus.windows.net%2f&sig=abc%3d&se=1999999999&skn=ro"
	ns, err = meta.ParseAzureServiceBusConnection("Endpoint=sb://acme.servicebus.windows.net/;SharedAccessSignature=" + sas)
	if err != nil || ns.Authorization("https://acme.servicebus.windows.net/orders", now) != sas {
		t.Fatalf("%+v %v", ns, err)
	}
}

// TestAzureServiceBusCombine: KEDA's operations over the matched entities' counts.
func TestAzureServiceBusCombine(t *testing.T) {
	for _, tc := range []struct {
		counts []int64
		op     string
		want   int64
	}{
		{nil, "sum", 0}, {nil, "avg", 0}, {nil, "max", 0},
		{[]int64{3, 4, 0}, "sum", 7}, {[]int64{3, 4, 0}, "max", 4}, {[]int64{3, 4, 0}, "avg", 2},
		{[]int64{5}, "avg", 5},
	} {
		if got := meta.AzureServiceBusCombine(tc.counts, tc.op); got != tc.want {
			t.Errorf("%s of %v = %d, want %d", tc.op, tc.counts, got, tc.want)
		}
	}
}

// TestAzureServiceBusRegexMatchesWholeNames: as KEDA, a name counts when the expression's
// leftmost-longest match is all of it.
func TestAzureServiceBusRegexMatchesWholeNames(t *testing.T) {
	m := &meta.AzureServiceBusMetadata{QueueName: "orders-(eu|us)|orders", UseRegex: true, MessageCount: 5}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"orders": true, "orders-eu": true, "orders-us": true, "orders-asia": false, "my-orders": false, "orders-eu-2": false} {
		if m.Matches(name) != want {
			t.Errorf("%q matched %t", name, !want)
		}
	}
}

// TestAzureServiceBusURL: entity names are path segments (a slash in a name is a path), escaped,
// with the API version and the paging query.
func TestAzureServiceBusURL(t *testing.T) {
	base, _ := url.Parse("https://127.0.0.1:5671/")
	for _, tc := range []struct {
		names []string
		query url.Values
		want  string
	}{
		{[]string{"orders"}, nil, "https://127.0.0.1:5671/orders?api-version=2021-05"},
		{[]string{"sales/orders eu"}, nil, "https://127.0.0.1:5671/sales/orders%20eu?api-version=2021-05"},
		{[]string{"events", "Subscriptions", "billing"}, nil, "https://127.0.0.1:5671/events/Subscriptions/billing?api-version=2021-05"},
		{[]string{"$Resources", "Queues"}, url.Values{"$skip": {"100"}, "$top": {"100"}}, "https://127.0.0.1:5671/$Resources/Queues?%24skip=100&%24top=100&api-version=2021-05"},
	} {
		if got := azureServiceBusURL(base, tc.query, azureServiceBusPath(tc.names...)...).String(); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.names, got, tc.want)
		}
	}
}

// TestAzureServiceBusStatusError: answers other than 200 say what the service said, without its
// tracking parts, and what to check, in the words plugin/diagnose classifies.
func TestAzureServiceBusStatusError(t *testing.T) {
	for _, tc := range []struct {
		code     int
		body     string
		mentions []string
		absent   string
	}{
		{401, `<Error><Code>401</Code><Detail>InvalidSignature: The token has an invalid signature. TrackingId:8e1c, SystemTracker:acme.servicebus.windows.net:orders, Timestamp:2026-12-07T20:00:00</Detail></Error>`,
			[]string{"401 Unauthorized (InvalidSignature: The token has an invalid signature.)", "refused the credential", "Manage rights"}, "TrackingId"},
		{401, `<Error><Code>401</Code><Detail>Manage,EntityRead claims required for this operation.</Detail></Error>`, []string{"claims required", "refused the credential"}, ""},
		{404, `<Error><Code>404</Code><Detail>Entity 'acme:Topic:events' was not found.</Detail></Error>`, []string{"404 Not Found", "topic \"events\" does not exist"}, ""},
		{429, ``, []string{"429", "rate limit", "retry after 10 s"}, ""},
		{500, `not xml`, []string{"500 Internal Server Error"}, "not xml"},
	} {
		err := azureServiceBusStatusError(tc.code, http.Header{"Retry-After": {"10"}}, []byte(tc.body), `topic "events"`)
		for _, m := range tc.mentions {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%d: %q does not mention %q", tc.code, err, m)
			}
		}
		if tc.absent != "" && strings.Contains(err.Error(), tc.absent) {
			t.Errorf("%d: %q mentions %q", tc.code, err, tc.absent)
		}
	}
}

// TestParseAzureServiceBusATOM: an entry's ActiveMessageCount of the expected description, an
// empty feed for an entity that does not exist, a listing's names and counts, and refusals.
func TestParseAzureServiceBusATOM(t *testing.T) {
	const sub = `<entry xmlns="http://www.w3.org/2005/Atom"><id>https://acme.servicebus.windows.net/events/subscriptions/billing?api-version=2021-05</id><title type="text">billing</title>
<content type="application/xml"><SubscriptionDescription xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
<LockDuration>PT1M</LockDuration><MessageCount>12</MessageCount><CountDetails xmlns:d2p1="http://schemas.microsoft.com/netservices/2011/06/servicebus">
<d2p1:ActiveMessageCount>9</d2p1:ActiveMessageCount><d2p1:DeadLetterMessageCount>3</d2p1:DeadLetterMessageCount></CountDetails></SubscriptionDescription></content></entry>`
	if n, ok, err := parseAzureServiceBusEntity([]byte(sub), azureServiceBusSubscription); n != 9 || !ok || err != nil {
		t.Fatalf("subscription: %d %t %v", n, ok, err)
	}
	if _, _, err := parseAzureServiceBusEntity([]byte(sub), azureServiceBusQueue); err == nil || !strings.Contains(err.Error(), "describes a Subscription, not a queue") {
		t.Fatalf("subscription read as a queue: %v", err)
	}
	empty := `<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">Publicly Listed Services</title><subtitle type="text">This is the list of publicly-listed services currently available.</subtitle></feed>`
	if _, ok, err := parseAzureServiceBusEntity([]byte(empty), azureServiceBusQueue); ok || err != nil {
		t.Fatalf("empty feed: %t %v", ok, err)
	}
	feed := `<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">Subscriptions</title>` + sub + strings.Replace(strings.Replace(sub, ">billing<", ">audit<", 1), ">9<", ">0<", 1) + `</feed>`
	got, err := parseAzureServiceBusFeed([]byte(feed), azureServiceBusSubscription)
	if err != nil || len(got) != 2 || got[0] != (azureServiceBusEntity{"billing", 9}) || got[1] != (azureServiceBusEntity{"audit", 0}) {
		t.Fatalf("feed: %+v %v", got, err)
	}
	for body, want := range map[string]string{
		strings.Replace(sub, ">9<", ">-2<", 1):             "is not a count",
		strings.Replace(sub, "ActiveMessageCount", "X", 2): "no CountDetails/ActiveMessageCount",
		`<Error><Code>401</Code></Error>`:                  "not an ATOM <entry>",
		`{"count":1}`:                                      "EOF",
	} {
		if _, _, err := parseAzureServiceBusEntity([]byte(body), azureServiceBusSubscription); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.60s: %v, want %q", body, err, want)
		}
	}
	if _, err := parseAzureServiceBusFeed([]byte(sub), azureServiceBusSubscription); err == nil || !strings.Contains(err.Error(), "not an ATOM <feed>") {
		t.Errorf("an entry read as a feed: %v", err)
	}
}

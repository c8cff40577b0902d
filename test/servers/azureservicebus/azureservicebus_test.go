package azureservicebus

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	manageKey = "bWFuYWdlLWtleS1vZi10aGUtdGVzdHM="
	listenKey = "bGlzdGVuLWtleS1vZi10aGUtdGVzdHM="
)

// token is a shared access signature as Microsoft's "Service Bus access control with Shared Access
// Signatures" page builds one: sr the URL-encoded resource, sig the URL-encoded base64
// HMAC-SHA256 of "sr\nse" keyed by the key's text.
func token(resource, keyName, key string, expiry time.Time) string {
	sr := url.QueryEscape(resource)
	se := strconv.FormatInt(expiry.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(sr + "\n" + se))
	return fmt.Sprintf("SharedAccessSignature sr=%s&sig=%s&se=%s&skn=%s", sr, url.QueryEscape(base64.StdEncoding.EncodeToString(mac.Sum(nil))), se, keyName)
}

// doc is the part of an answer the tests read: an entry, a feed of entries or an error.
type doc struct {
	XMLName xml.Name
	Title   string `xml:"title"`
	Content struct {
		Inner []struct {
			XMLName      xml.Name
			MessageCount int64 `xml:"MessageCount"`
			CountDetails struct {
				Active     int64 `xml:"ActiveMessageCount"`
				DeadLetter int64 `xml:"DeadLetterMessageCount"`
			} `xml:"CountDetails"`
		} `xml:",any"`
	} `xml:"content"`
	Entries []struct {
		Title string `xml:"title"`
	} `xml:"entry"`
	Code   int    `xml:"Code"`
	Detail string `xml:"Detail"`
}

// TestServiceBusConventions: the fake answers as the Service Bus REST reference describes:
// entries with CountDetails, the empty feed for an entity that does not exist, 404 for a topic
// that does not, paging with $skip and $top (at most 100), and the shared access signature checks
// with their 401 details.
func TestServiceBusConventions(t *testing.T) {
	s := Start(t, Options{Namespace: "acme", Policies: []Policy{
		{Name: "RootManageSharedAccessKey", Key: manageKey, Rights: []string{"Manage", "Listen", "Send"}},
		{Name: "reader", Key: listenKey, Rights: []string{"Listen"}},
	}})
	s.SetQueue("Orders", Counts{Active: 7, DeadLetter: 2, Scheduled: 1})
	s.SetQueue("audit", Counts{})
	s.SetQueue("billing", Counts{Active: 1})
	s.SetSubscription("events", "eu", Counts{Active: 4})
	later := time.Now().Add(time.Hour)
	root := token("https://"+s.Host+"/", "RootManageSharedAccessKey", manageKey, later)
	get := func(path, auth string) (int, string, doc) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := s.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var d doc
		if err := xml.Unmarshal(body, &d); err != nil {
			t.Fatalf("%s: answer is not XML: %v\n%s", path, err, body)
		}
		return resp.StatusCode, resp.Header.Get("Content-Type"), d
	}

	code, ctype, d := get("/orders?api-version=2021-05", root)
	in := d.Content.Inner
	if code != 200 || ctype != "application/atom+xml;type=entry;charset=utf-8" || d.XMLName.Local != "entry" || d.Title != "orders" || len(in) != 1 ||
		in[0].XMLName.Local != "QueueDescription" || in[0].XMLName.Space != connectNS || in[0].CountDetails.Active != 7 || in[0].CountDetails.DeadLetter != 2 || in[0].MessageCount != 10 {
		t.Fatalf("queue: %d %s %+v", code, ctype, d)
	}
	code, _, d = get("/events/Subscriptions/EU?api-version=2021-05", token("https://"+s.Host+"/events", "RootManageSharedAccessKey", manageKey, later))
	if code != 200 || len(d.Content.Inner) != 1 || d.Content.Inner[0].XMLName.Local != "SubscriptionDescription" || d.Content.Inner[0].CountDetails.Active != 4 {
		t.Fatalf("subscription: %d %+v", code, d)
	}
	if code, _, d = get("/events?api-version=2021-05", root); code != 200 || d.Content.Inner[0].XMLName.Local != "TopicDescription" {
		t.Fatalf("topic: %d %+v", code, d)
	}
	for _, path := range []string{"/nope?api-version=2021-05", "/events/Subscriptions/us?api-version=2021-05"} {
		if code, ctype, d := get(path, root); code != 200 || ctype != "application/atom+xml;type=feed;charset=utf-8" || d.XMLName.Local != "feed" ||
			d.Title != "Publicly Listed Services" || len(d.Entries) != 0 {
			t.Errorf("%s: %d %s %+v", path, code, ctype, d)
		}
	}
	for _, path := range []string{"/gone/Subscriptions/eu?api-version=2021-05", "/gone/Subscriptions?api-version=2021-05"} {
		if code, _, d := get(path, root); code != 404 || d.XMLName.Local != "Error" || d.Code != 404 || !strings.Contains(d.Detail, "was not found. TrackingId:") {
			t.Errorf("%s: %d %+v", path, code, d)
		}
	}

	names := func(d doc) (out []string) {
		for _, e := range d.Entries {
			out = append(out, e.Title)
		}
		return out
	}
	if code, _, d = get("/$Resources/Queues?api-version=2021-05&%24top=2", root); code != 200 || d.Title != "Queues" || fmt.Sprint(names(d)) != "[audit billing]" {
		t.Fatalf("first page: %d %+v", code, d)
	}
	if code, _, d = get("/$Resources/Queues?api-version=2021-05&$top=2&$skip=2", root); code != 200 || fmt.Sprint(names(d)) != "[orders]" {
		t.Fatalf("second page: %d %+v", code, d)
	}
	if code, _, d = get("/$Resources/Topics?api-version=2021-05", root); code != 200 || fmt.Sprint(names(d)) != "[events]" {
		t.Fatalf("topics: %d %+v", code, d)
	}
	if code, _, d = get("/events/Subscriptions?api-version=2021-05", root); code != 200 || d.Title != "Subscriptions" || fmt.Sprint(names(d)) != "[eu]" {
		t.Fatalf("subscriptions: %d %+v", code, d)
	}
	for i := range 150 {
		s.SetQueue(fmt.Sprintf("q%03d", i), Counts{})
	}
	if _, _, d = get("/$Resources/Queues?api-version=2021-05&$top=1000", root); len(d.Entries) != 100 {
		t.Fatalf("$top=1000 gave %d entries, want at most 100", len(d.Entries))
	}

	for _, tc := range []struct {
		path, auth string
		code       int
		detail     string
	}{
		{"/orders?api-version=2021-05", "", 401, "MissingToken: "},
		{"/orders?api-version=2021-05", token("https://"+s.Host+"/", "RootManageSharedAccessKey", listenKey, later), 401, "InvalidSignature: "},
		{"/orders?api-version=2021-05", token("https://"+s.Host+"/", "nobody", manageKey, later), 401, "InvalidSignature: "},
		{"/orders?api-version=2021-05", token("https://"+s.Host+"/", "RootManageSharedAccessKey", manageKey, time.Now().Add(-time.Minute)), 401, "ExpiredToken: "},
		{"/orders?api-version=2021-05", token("https://"+s.Host+"/audit", "RootManageSharedAccessKey", manageKey, later), 401, "InvalidAudience: "},
		{"/orders?api-version=2021-05", token("https://other.servicebus.windows.net/", "RootManageSharedAccessKey", manageKey, later), 401, "InvalidAudience: "},
		{"/orders?api-version=2021-05", token("https://"+s.Host+"/", "reader", listenKey, later), 401, "Manage,EntityRead claims required"},
		{"/orders", root, 400, "api-version"},
		{"/orders?api-version=2021-05&$skip=-1", root, 400, "$skip"},
	} {
		code, _, d := get(tc.path, tc.auth)
		if code != tc.code || d.Code != tc.code || !strings.Contains(d.Detail, tc.detail) || !strings.Contains(d.Detail, "TrackingId:") {
			t.Errorf("%s with %.40q: %d %+v, want %d %q", tc.path, tc.auth, code, d, tc.code, tc.detail)
		}
	}
	// A lower-cased audience, as Microsoft's clients send, covers the entity whatever its case.
	if code, _, _ := get("/Orders?api-version=2021-05", token(strings.ToLower("https://"+s.Host+"/ORDERS"), "RootManageSharedAccessKey", manageKey, later)); code != 200 {
		t.Fatalf("lower-cased audience: %d", code)
	}
	reqs := s.Requests()
	if r := reqs[0]; r.Method != "GET" || r.Path != "/orders" || r.Query.Get("api-version") != "2021-05" || r.KeyName != "RootManageSharedAccessKey" ||
		r.Audience != "https://"+s.Host+"/" || r.Status != 200 {
		t.Fatalf("request %+v", r)
	}
}

package azureservicebus

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// The ATOM documents the management API answers with, in the layout of its reference's examples.

const (
	atomNS    = "http://www.w3.org/2005/Atom"
	connectNS = "http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"
	countsNS  = "http://schemas.microsoft.com/netservices/2011/06/servicebus"
	// created is when every entity of the fake was made.
	created = "2026-01-05T10:00:00.1234567Z"
)

// esc escapes s for XML text and attributes.
func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// selfURL is the https URL of path on the server with the API version, an entry's id and link.
func selfURL(r *http.Request, path string) string {
	return (&url.URL{Scheme: "https", Host: r.Host, Path: path, RawQuery: "api-version=" + apiVersion}).String()
}

// entry is the ATOM entry of an entity: its description (QueueDescription, TopicDescription,
// SubscriptionDescription) with counts, and extra elements of the description.
func (s *Server) entry(r *http.Request, path, name, description string, c Counts, extra string) string {
	self := esc(selfURL(r, path))
	total := c.Active + c.DeadLetter + c.Scheduled
	return fmt.Sprintf(`<entry xmlns="%s"><id>%s</id><title type="text">%s</title><published>%s</published><updated>%s</updated>`+
		`<author><name>%s</name></author><link rel="self" href="%s"/><content type="application/xml">`+
		`<%s xmlns="%s" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><LockDuration>PT1M</LockDuration><MaxSizeInMegabytes>1024</MaxSizeInMegabytes>`+
		`<SizeInBytes>%d</SizeInBytes><MessageCount>%d</MessageCount>%s<Status>Active</Status><CreatedAt>%s</CreatedAt><UpdatedAt>%s</UpdatedAt><AccessedAt>%s</AccessedAt>`+
		`<CountDetails xmlns:d2p1="%s"><d2p1:ActiveMessageCount>%d</d2p1:ActiveMessageCount><d2p1:DeadLetterMessageCount>%d</d2p1:DeadLetterMessageCount>`+
		`<d2p1:ScheduledMessageCount>%d</d2p1:ScheduledMessageCount><d2p1:TransferMessageCount>0</d2p1:TransferMessageCount>`+
		`<d2p1:TransferDeadLetterMessageCount>0</d2p1:TransferDeadLetterMessageCount></CountDetails></%s></content></entry>`,
		atomNS, self, esc(name), created, created, esc(s.opts.Namespace), self,
		description, connectNS, total*512, total, extra, created, created, s.now().UTC().Format(time.RFC3339Nano),
		countsNS, c.Active, c.DeadLetter, c.Scheduled, description)
}

// listed is an entity of a listing, by name.
type listed struct {
	name, xml string
}

// sortedNames are m's keys, sorted: listings page through entities in name order.
func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (s *Server) queueEntries(r *http.Request) []listed {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []listed
	for _, n := range sortedNames(s.queues) {
		out = append(out, listed{n, s.entry(r, "/"+n, n, "QueueDescription", s.queues[n], "")})
	}
	return out
}

func (s *Server) topicEntries(r *http.Request) []listed {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []listed
	for _, n := range sortedNames(s.topics) {
		out = append(out, listed{n, s.entry(r, "/"+n, n, "TopicDescription", Counts{}, fmt.Sprintf("<SubscriptionCount>%d</SubscriptionCount>", len(s.topics[n])))})
	}
	return out
}

// subscriptionEntries lists a topic's subscriptions; ok is false when the topic does not exist.
func (s *Server) subscriptionEntries(r *http.Request, topic string) (out []listed, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	subs, ok := s.topics[strings.ToLower(topic)]
	if !ok {
		return nil, false
	}
	for _, n := range sortedNames(subs) {
		out = append(out, listed{n, s.entry(r, "/"+strings.ToLower(topic)+"/Subscriptions/"+n, n, "SubscriptionDescription", subs[n], "")})
	}
	return out, true
}

// writeFeed answers a listing: the entries from skip, at most top.
func (s *Server) writeFeed(w http.ResponseWriter, r *http.Request, title string, all []listed, skip, top int) {
	self := esc((&url.URL{Scheme: "https", Host: r.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery}).String())
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?><feed xmlns="%s"><title type="text">%s</title><id>%s</id><updated>%s</updated><link rel="self" href="%s"/>`,
		atomNS, title, self, s.now().UTC().Format(time.RFC3339), self)
	for i := skip; i < len(all) && i < skip+top; i++ {
		// Each entry of a feed carries the feed's address as its xml:base.
		b.WriteString(strings.Replace(all[i].xml, `<entry xmlns="`+atomNS+`">`, `<entry xml:base="`+self+`">`, 1))
	}
	b.WriteString(`</feed>`)
	writeATOM(w, "feed", b.String())
}

// writeEmptyFeed is the answer to a GET of an entity that does not exist.
func (s *Server) writeEmptyFeed(w http.ResponseWriter) {
	writeATOM(w, "feed", fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?><feed xmlns="%s"><title type="text">Publicly Listed Services</title>`+
		`<subtitle type="text">This is the list of publicly-listed services currently available.</subtitle><id>uuid:%s;id=1</id><updated>%s</updated>`+
		`<generator>Service Bus 1.1</generator></feed>`, atomNS, s.trackingID(), s.now().UTC().Format(time.RFC3339)))
}

func writeATOM(w http.ResponseWriter, kind, body string) {
	w.Header().Set("Content-Type", "application/atom+xml;type="+kind+";charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(body))
}

// writeError answers code with the service's error body.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, code int, detail string) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(code)
	_, _ = fmt.Fprintf(w, `<Error><Code>%d</Code><Detail>%s TrackingId:%s, SystemTracker:%s, Timestamp:%s</Detail></Error>`,
		code, esc(detail), s.trackingID(), esc(r.Host+":"+strings.Trim(r.URL.Path, "/")), s.now().UTC().Format("2006-01-02T15:04:05"))
}

// trackingID is a new tracking ID, as the service gives every answer one.
func (s *Server) trackingID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trackingCount++
	return fmt.Sprintf("8e1c4b2a-0000-4000-8000-%012d_G1", s.trackingCount)
}

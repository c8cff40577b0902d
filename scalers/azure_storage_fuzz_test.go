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

// fuzzAzureStorage answers every request with the current fuzz input: a status, an
// x-ms-approximate-messages-count header and a body.
type fuzzAzureStorage struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	count  string
	body   []byte
}

func (s *fuzzAzureStorage) set(status int, count string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.count, s.body = status, count, body
}

// FuzzAzureStorageResponse feeds arbitrary answers to the parsers of List Blobs, Peek Messages
// and the approximate count and, served on 127.0.0.1, to an azure-blob and an azure-queue
// (visibleonly) trigger: a poll reports what the parsers read (a blob listing with a NextMarker
// pages again and, answered the same, is refused), never a negative count, and no error is long
// or shows the account key.
func FuzzAzureStorageResponse(f *testing.F) {
	for _, seed := range []struct {
		status byte
		count  string
		body   string
	}{
		{0, "7", `<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Blobs><Blob><Name>a</Name></Blob><BlobPrefix><Name>d/</Name></BlobPrefix></Blobs><NextMarker /></EnumerationResults>`},
		{0, "40", `<QueueMessagesList><QueueMessage><MessageId>1</MessageId></QueueMessage></QueueMessagesList>`},
		{0, "-1", `<QueueMessagesList>` + strings.Repeat(`<QueueMessage/>`, 32) + `</QueueMessagesList>`},
		{0, "9223372036854775808", `<EnumerationResults><Blobs/><NextMarker>2!72!MDAwMDA</NextMarker></EnumerationResults>`},
		{3, "", `<?xml version="1.0"?><Error><Code>AuthenticationFailed</Code><Message>` + azureTestKey + `</Message></Error>`},
		{4, "", `<Error><Code>QueueNotFound</Code><Message>The specified queue does not exist.
RequestId:1 Time:2026-01-01T00:00:00Z</Message></Error>`},
		{0, " 12 ", `<EnumerationResults><Blobs><Blob><Name>` + strings.Repeat("x", 5000) + `</Name></Blob></Blobs></EnumerationResults>`},
		{8, "0", ``},
		{0, "1", `<EnumerationResults><Blobs><Blob><Name>&#xffff;</Name></Blob>`},
	} {
		f.Add(seed.status, seed.count, []byte(seed.body))
	}
	srv := &fuzzAzureStorage{status: http.StatusOK}
	srv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		srv.mu.Lock()
		status, count, body := srv.status, srv.count, srv.body
		srv.mu.Unlock()
		if strings.IndexFunc(count, func(r rune) bool { return r < ' ' || r > '~' }) < 0 {
			w.Header().Set("x-ms-approximate-messages-count", count)
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	f.Cleanup(srv.Close)
	conn := "DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=" + azureTestKey + ";BlobEndpoint=" + srv.URL + "/acct;QueueEndpoint=" + srv.URL + "/acct"
	build := func(typ string, meta map[string]string) Scaler {
		s, err := New(context.Background(), &Config{TriggerType: typ, TriggerMetadata: meta, AuthParams: map[string]string{"connection": conn}, Timeout: fuzzPollTimeout})
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { _ = s.Close(context.Background()) })
		return s
	}
	blob := build("azure-blob", map[string]string{"blobContainerName": "inbox", "activationBlobCount": "1"})
	queue := build("azure-queue", map[string]string{"queueName": "orders", "queueLengthStrategy": "visibleonly", "activationQueueLength": "1"})

	f.Fuzz(func(t *testing.T, statusPick byte, count string, body []byte) {
		status := fuzzStatuses[int(statusPick)%len(fuzzStatuses)]
		srv.set(status, count, bytes.Clone(body))
		ok := status/100 == 2
		if status == http.StatusNoContent {
			// An answer of 204 has no body.
			body = nil
		}
		checkSecret := func(err error) {
			t.Helper()
			checkErr(t, err)
			if strings.Contains(err.Error(), azureTestKey) {
				t.Fatalf("error shows the account key: %v", err)
			}
		}

		page, pageErr := parseAzureBlobList(body)
		vals, active, err := poll(t, blob, "s0-azure-blob-inbox")
		switch {
		case !ok || pageErr != nil:
			if err == nil {
				t.Fatalf("status %d, body %q: no error, value %v", status, body, vals)
			}
			checkSecret(err)
		case page.next != "":
			if err == nil || !strings.Contains(err.Error(), "NextMarker repeats") {
				t.Fatalf("a page that repeats its NextMarker: %v", err)
			}
			checkSecret(err)
		default:
			if err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			checkPoll(t, vals, active, "s0-azure-blob-inbox", float64(len(page.names)), 1)
		}

		peeked, peekErr := parseAzurePeekedMessages(body)
		approx, approxErr := parseAzureApproximateCount(count)
		vals, active, err = poll(t, queue, "s0-azure-queue-orders")
		switch {
		case !ok || peekErr != nil || (peeked >= azureQueuePeekMax && (approxErr != nil || strings.IndexFunc(count, func(r rune) bool { return r < ' ' || r > '~' }) >= 0)):
			if err == nil {
				t.Fatalf("status %d, count %q, body %q: no error, value %v", status, count, body, vals)
			}
			checkSecret(err)
		case peeked < azureQueuePeekMax:
			if err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			checkPoll(t, vals, active, "s0-azure-queue-orders", float64(peeked), 1)
		default:
			if err != nil {
				t.Fatalf("count %q: %v", count, err)
			}
			if approx < 0 {
				t.Fatalf("count %q read as %d", count, approx)
			}
			checkPoll(t, vals, active, "s0-azure-queue-orders", float64(approx), 1)
		}
	})
}

package scalers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

// azureTestKey is a base64 account key for tests ("kedactl-test-key-0123456789").
const azureTestKey = "a2VkYWN0bC10ZXN0LWtleS0wMTIzNDU2Nzg5"

const azureTestConn = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + azureTestKey + ";EndpointSuffix=core.windows.net"

func TestParseAzureQueueMetadata(t *testing.T) {
	base := func(kv ...string) map[string]string {
		m := map[string]string{"queueName": "orders"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	auth := map[string]string{"connection": azureTestConn}
	tests := []parseCase[meta.AzureQueueMetadata]{
		{name: "KEDA's defaults", meta: base(), auth: auth, check: func(t *testing.T, m *meta.AzureQueueMetadata) {
			if m.QueueLength != 5 || m.ActivationQueueLength != 0 || m.QueueLengthStrategy != "all" || m.Account == nil ||
				m.Account.ServiceURL.String() != "https://acct.queue.core.windows.net/" || m.EndpointSuffix != "queue.core.windows.net" {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "everything", meta: base("queueLength", "10", "activationQueueLength", "3", "queueLengthStrategy", "visibleonly", "cloud", "AzureChinaCloud", "accountName", "acct"), auth: auth,
			check: func(t *testing.T, m *meta.AzureQueueMetadata) {
				if m.QueueLength != 10 || m.ActivationQueueLength != 3 || m.QueueLengthStrategy != "visibleonly" || m.EndpointSuffix != "queue.core.chinacloudapi.cn" {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "connection from the target's env", meta: base("connectionFromEnv", "STORAGE"), env: map[string]string{"STORAGE": azureTestConn},
			check: func(t *testing.T, m *meta.AzureQueueMetadata) {
				if m.Account == nil || m.Account.AccountName != "acct" {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "connection in the metadata", meta: base("connection", azureTestConn), check: func(t *testing.T, m *meta.AzureQueueMetadata) {}},
		{name: "private cloud", meta: base("cloud", "Private", "endpointSuffix", "queue.azurestack.local"), auth: auth, check: func(t *testing.T, m *meta.AzureQueueMetadata) {
			if m.EndpointSuffix != "queue.azurestack.local" {
				t.Errorf("endpoint suffix %q", m.EndpointSuffix)
			}
		}},
		{name: "offline, the connection in the TriggerAuthentication", meta: base(), offline: true, check: func(t *testing.T, m *meta.AzureQueueMetadata) {
			if m.Account != nil {
				t.Errorf("offline without a connection string, account %+v", m.Account)
			}
		}},

		{name: "missing queueName", meta: map[string]string{}, auth: auth, wantErr: []string{"trigger 0 (azure-queue)", "metadata.queueName", "is required"}},
		{name: "queueLength 0", meta: base("queueLength", "0"), auth: auth, wantErr: []string{"metadata.queueLength", "at least 1"}},
		{name: "queueLength not a number", meta: base("queueLength", "five"), auth: auth, wantErr: []string{"metadata.queueLength", "whole number"}},
		{name: "unknown strategy", meta: base("queueLengthStrategy", "visible"), auth: auth, wantErr: []string{"metadata.queueLengthStrategy", "all, visibleonly"}},
		{name: "no connection", meta: base(), wantErr: []string{"metadata.connection", "is required", "connectionFromEnv"}},
		{name: "accountName alone (workload identity)", meta: base("accountName", "acct"), wantErr: []string{"metadata.connection", "azure-workload", "no credential was found"}},
		{name: "env var missing", meta: base("connectionFromEnv", "NOPE"), env: map[string]string{}, wantErr: []string{"metadata.connection", `"NOPE"`}},
		{name: "unknown cloud", meta: base("cloud", "Mars"), auth: auth, wantErr: []string{"metadata.cloud", `"Mars"`, "AzurePublicCloud"}},
		{name: "private cloud without endpointSuffix", meta: base("cloud", "private"), auth: auth, wantErr: []string{"metadata.endpointSuffix", "cloud Private"}},
		{name: "Azure Stack", meta: base("cloud", "AzureStackCloud"), auth: auth, wantErr: []string{"metadata.cloud", "cloud Private"}},
		{name: "not a connection string", meta: base(), auth: map[string]string{"connection": "secretive"}, wantErr: []string{"metadata.connection", "has no '='"}},
		{name: "key not base64", meta: base(), auth: map[string]string{"connection": "AccountName=acct;AccountKey=not*base64!"}, wantErr: []string{"metadata.connection", "AccountKey is not base64"}},
	}
	runParseCases(t, "azure-queue", tests, azureTestKey, "secretive", "not*base64!")
}

func TestParseAzureBlobMetadata(t *testing.T) {
	base := func(kv ...string) map[string]string {
		m := map[string]string{"blobContainerName": "inbox"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	auth := map[string]string{"connection": azureTestConn}
	tests := []parseCase[meta.AzureBlobMetadata]{
		{name: "KEDA's defaults", meta: base(), auth: auth, check: func(t *testing.T, m *meta.AzureBlobMetadata) {
			if m.BlobCount != 5 || m.ActivationBlobCount != 0 || m.BlobDelimiter != "/" || m.Prefix != "" || m.Pattern != nil ||
				m.Account.ServiceURL.String() != "https://acct.blob.core.windows.net/" {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "prefix ends with the delimiter", meta: base("blobPrefix", "in", "blobDelimiter", "|"), auth: auth, check: func(t *testing.T, m *meta.AzureBlobMetadata) {
			if m.Prefix != "in|" || m.BlobDelimiter != "|" {
				t.Errorf("prefix %q, delimiter %q", m.Prefix, m.BlobDelimiter)
			}
		}},
		{name: "recursive drops the delimiter", meta: base("blobPrefix", "in", "recursive", "true"), auth: auth, check: func(t *testing.T, m *meta.AzureBlobMetadata) {
			if m.Prefix != "in" || m.BlobDelimiter != "" {
				t.Errorf("prefix %q, delimiter %q", m.Prefix, m.BlobDelimiter)
			}
		}},
		{name: "path-style glob", meta: base("globPattern", "/data/*.json"), auth: auth, check: func(t *testing.T, m *meta.AzureBlobMetadata) {
			if m.Pattern == nil || !m.Pattern.Match("data/x/y.json") || m.Pattern.Match("/data/y.json") {
				t.Errorf("pattern %v", m.Pattern)
			}
		}},
		{name: "connectionFromEnv", meta: base("connectionFromEnv", "STORAGE"), env: map[string]string{"STORAGE": azureTestConn}, check: func(t *testing.T, m *meta.AzureBlobMetadata) {
			if m.Account == nil {
				t.Error("no account")
			}
		}},
		{name: "a TriggerAuthentication parameter named connectionFromEnv", meta: base(), auth: map[string]string{"connectionFromEnv": azureTestConn}, check: func(t *testing.T, m *meta.AzureBlobMetadata) {
			if m.Account == nil {
				t.Error("no account")
			}
		}},
		{name: "offline, connectionFromEnv is a name, not a string", meta: base("connectionFromEnv", "STORAGE"), offline: true, check: func(t *testing.T, m *meta.AzureBlobMetadata) {
			if m.Account != nil {
				t.Errorf("account %+v", m.Account)
			}
		}},
		{name: "SAS", meta: base(), auth: map[string]string{"connection": "BlobEndpoint=https://acct.blob.core.windows.net;SharedAccessSignature=sv=2021-12-02&ss=b&sig=c2lnbmF0dXJl"},
			check: func(t *testing.T, m *meta.AzureBlobMetadata) {
				if m.Account.Key != nil || m.Account.Sas.Get("sig") != "c2lnbmF0dXJl" {
					t.Errorf("account %+v", m.Account)
				}
			}},

		{name: "missing container", meta: map[string]string{}, auth: auth, wantErr: []string{"trigger 0 (azure-blob)", "metadata.blobContainerName", "is required"}},
		{name: "blobCount 0", meta: base("blobCount", "0"), auth: auth, wantErr: []string{"metadata.blobCount", "at least 1"}},
		{name: "recursive not a boolean", meta: base("recursive", "yes"), auth: auth, wantErr: []string{"metadata.recursive", "true or false"}},
		{name: "bad glob", meta: base("globPattern", "data/[a-"), auth: auth, wantErr: []string{"metadata.globPattern", "not a glob pattern"}},
		{name: "no connection", meta: base(), wantErr: []string{"metadata.connection", "is required"}},
		{name: "no credential in the string", meta: base(), auth: map[string]string{"connection": "AccountName=acct;EndpointSuffix=core.windows.net"}, wantErr: []string{"metadata.connection", "neither AccountName with AccountKey nor SharedAccessSignature"}},
		{name: "SAS without sig", meta: base(), auth: map[string]string{"connection": "BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=sv=2021"}, wantErr: []string{"metadata.connection", "no sig"}},
		{name: "endpoint not a URL", meta: base(), auth: map[string]string{"connection": "BlobEndpoint=ftp://x;AccountName=a;AccountKey=" + azureTestKey}, wantErr: []string{"metadata.connection", "BlobEndpoint is not an http(s) URL"}},
	}
	runParseCases(t, "azure-blob", tests, azureTestKey)
}

func TestParseAzureStorageConnection(t *testing.T) {
	tests := []struct {
		name, conn string
		service    meta.AzureStorageService
		wantURL    string
		wantErr    string
	}{
		{name: "account and suffix", conn: azureTestConn, service: meta.AzureQueueService, wantURL: "https://acct.queue.core.windows.net/"},
		{name: "defaults: https, core.windows.net", conn: "AccountName=acct;AccountKey=" + azureTestKey, service: meta.AzureBlobService, wantURL: "https://acct.blob.core.windows.net/"},
		{name: "trailing semicolons", conn: azureTestConn + ";;", service: meta.AzureBlobService, wantURL: "https://acct.blob.core.windows.net/"},
		{name: "emulator endpoints", conn: "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + azureTestKey + ";BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1",
			service: meta.AzureQueueService, wantURL: "http://127.0.0.1:10001/devstoreaccount1/"},
		{name: "China", conn: "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + azureTestKey + ";EndpointSuffix=core.chinacloudapi.cn", service: meta.AzureBlobService, wantURL: "https://acct.blob.core.chinacloudapi.cn/"},
		{name: "the other service's endpoint does not help", conn: "QueueEndpoint=https://q.example;SharedAccessSignature=sig=x", service: meta.AzureBlobService, wantErr: "neither AccountName nor BlobEndpoint"},
		{name: "empty", conn: "", service: meta.AzureBlobService, wantErr: "no '='"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := meta.ParseAzureStorageConnection(tt.conn, tt.service)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.ServiceURL.String() != tt.wantURL {
				t.Errorf("service URL %s, want %s", a.ServiceURL, tt.wantURL)
			}
		})
	}
}

// TestAzureSharedKeyString: the string a SharedKey signature signs, laid out as Azure Storage's
// documentation of Shared Key authorization has it: empty standard headers, x-ms- headers
// lowercased and sorted, the resource under the account with its query sorted and lowercased.
func TestAzureSharedKeyString(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:10000/devstoreaccount1/my%20container?restype=container&comp=list&prefix=a%2Fb&Marker=m2&marker=m1")
	h := http.Header{}
	h.Set("X-Ms-Version", "2021-12-02")
	h.Set("x-ms-date", "Mon, 02 Jan 2006 15:04:05 GMT")
	h.Set("Content-Length", "0")
	got := meta.AzureSharedKeyString(http.MethodGet, h, u, "devstoreaccount1")
	want := "GET\n\n\n\n\n\n\n\n\n\n\n\n" +
		"x-ms-date:Mon, 02 Jan 2006 15:04:05 GMT\nx-ms-version:2021-12-02\n" +
		"/devstoreaccount1/devstoreaccount1/my%20container\ncomp:list\nmarker:m1,m2\nprefix:a/b\nrestype:container"
	if got != want {
		t.Errorf("string to sign\n%q\nwant\n%q", got, want)
	}
}

// TestAzureStorageSASAndErrors: with a shared access signature the requests carry its query and
// no Authorization header; no error shows the signature, and Azure's error code is quoted
// without the message of a refused credential.
func TestAzureStorageSASAndErrors(t *testing.T) {
	var gotQuery url.Values
	var gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotQuery, gotAuth = r.URL.Query(), r.Header.Get("Authorization")
		if r.URL.Query().Get("comp") == "metadata" {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`<?xml version="1.0"?><Error><Code>AuthenticationFailed</Code><Message>Signature did not match. String to sign used was c2lnbmF0dXJl</Message></Error>`))
			return
		}
		_, _ = w.Write([]byte(`<EnumerationResults><Blobs><Blob><Name>a</Name></Blob><BlobPrefix><Name>d/</Name></BlobPrefix></Blobs><NextMarker/></EnumerationResults>`))
	}))
	defer srv.Close()
	conn := "BlobEndpoint=" + srv.URL + "/acct;QueueEndpoint=" + srv.URL + "/acct;SharedAccessSignature=sv=2021-12-02&sp=rl&sig=c2lnbmF0dXJl"
	ctx := context.Background()
	blob, err := New(ctx, &Config{TriggerType: "azure-blob", TriggerMetadata: map[string]string{"blobContainerName": "inbox"}, AuthParams: map[string]string{"connection": conn}, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer blob.Close(ctx)
	m, _, err := blob.GetMetricsAndActivity(ctx, "s0-azure-blob-inbox")
	if err != nil {
		t.Fatal(err)
	}
	if m[0].Value.Value() != 1 || gotAuth != "" || gotQuery.Get("sig") != "c2lnbmF0dXJl" || gotQuery.Get("delimiter") != "/" {
		t.Errorf("value %d, Authorization %q, query %v", m[0].Value.Value(), gotAuth, gotQuery)
	}
	queue, err := New(ctx, &Config{TriggerType: "azure-queue", TriggerMetadata: map[string]string{"queueName": "q"}, AuthParams: map[string]string{"connection": conn}, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer queue.Close(ctx)
	_, _, err = queue.GetMetricsAndActivity(ctx, "s0-azure-queue-q")
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "AuthenticationFailed") || !strings.Contains(err.Error(), "SharedAccessSignature") {
		t.Errorf("error %v", err)
	}
	if err != nil && (strings.Contains(err.Error(), "c2lnbmF0dXJl") || strings.Contains(err.Error(), "String to sign")) {
		t.Errorf("error shows the signature or the message of a refused credential: %v", err)
	}
}

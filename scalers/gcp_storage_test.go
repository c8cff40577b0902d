package scalers

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// testGCPKey is a service account key made for a test: its JSON text, its private key and the
// PEM of the private key.
type testGCPKey struct {
	json  string
	key   *rsa.PrivateKey
	pem   string
	email string
}

// newTestGCPKey makes a service account key whose token_uri is tokenURI.
func newTestGCPKey(t testing.TB, tokenURI string) testGCPKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	k := testGCPKey{key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), email: "keda@kedactl-test.iam.gserviceaccount.com"}
	text, err := json.Marshal(map[string]string{"type": "service_account", "project_id": "kedactl-test", "private_key_id": "k1",
		"private_key": k.pem, "client_email": k.email, "client_id": "1", "token_uri": tokenURI})
	if err != nil {
		t.Fatal(err)
	}
	k.json = string(text)
	return k
}

func TestParseGCPStorageMetadata(t *testing.T) {
	k := newTestGCPKey(t, "https://oauth2.googleapis.com/token")
	base := func(extra ...string) map[string]string {
		m := map[string]string{"bucketName": "uploads"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	auth := map[string]string{"GoogleApplicationCredentials": k.json}
	tests := []parseCase[meta.GCPStorageMetadata]{
		{name: "defaults", meta: base(), auth: auth, check: func(t *testing.T, m *meta.GCPStorageMetadata) {
			if m.BucketName != "uploads" || m.TargetObjectCount != 100 || m.ActivationTargetObjectCount != 0 || m.MaxBucketItemsToScan != 1000 || m.BlobPrefix != "" || m.BlobDelimiter != "" {
				t.Errorf("parsed %+v", m)
			}
			if m.Creds == nil || string(m.Creds.Key) != k.json || !strings.Contains(m.Creds.From, "GoogleApplicationCredentials") {
				t.Errorf("credentials from %+v", m.Creds)
			}
		}},
		{name: "everything", meta: base("targetObjectCount", "5", "activationTargetObjectCount", "2", "maxBucketItemsToScan", "50", "blobPrefix", "incoming/", "blobDelimiter", "/"),
			auth: auth, check: func(t *testing.T, m *meta.GCPStorageMetadata) {
				if m.TargetObjectCount != 5 || m.ActivationTargetObjectCount != 2 || m.MaxBucketItemsToScan != 50 || m.BlobPrefix != "incoming/" || m.BlobDelimiter != "/" {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "credentialsFromEnv", meta: base("credentialsFromEnv", "GCP_KEY"), env: map[string]string{"GCP_KEY": k.json},
			check: func(t *testing.T, m *meta.GCPStorageMetadata) {
				if m.Creds == nil || string(m.Creds.Key) != k.json || !strings.Contains(m.Creds.From, "GCP_KEY") {
					t.Errorf("credentials from %+v", m.Creds)
				}
			}},
		{name: "the TriggerAuthentication comes first", meta: base("credentialsFromEnv", "GCP_KEY"), auth: auth, env: map[string]string{"GCP_KEY": "other"},
			check: func(t *testing.T, m *meta.GCPStorageMetadata) {
				if string(m.Creds.Key) != k.json {
					t.Errorf("credentials from %s", m.Creds.From)
				}
			}},
		{name: "credentialsFromEnvFile", meta: base("credentialsFromEnvFile", "GCP_KEY_FILE"), env: map[string]string{"GCP_KEY_FILE": "/var/secrets/gcp/key.json"},
			check: func(t *testing.T, m *meta.GCPStorageMetadata) {
				if m.Creds == nil || m.Creds.File != "/var/secrets/gcp/key.json" || m.Creds.Key != nil {
					t.Errorf("credentials from %+v", m.Creds)
				}
			}},
		{name: "offline: credentials may come later", meta: base(), offline: true, check: func(t *testing.T, m *meta.GCPStorageMetadata) {
			if m.Creds != nil {
				t.Errorf("credentials %+v offline", m.Creds)
			}
		}},
		{name: "offline still checks the counts", meta: base("targetObjectCount", "0"), offline: true, wantErr: []string{"metadata.targetObjectCount", "is 0"}},
		{name: "no credentials", meta: base(), wantErr: []string{"trigger 0 (gcp-storage)", "GoogleApplicationCredentials", "is required", "credentialsFromEnv", "podIdentity gcp"}},
		{name: "metadata.credentials is not read, as in KEDA", meta: base("credentials", k.json), wantErr: []string{"GoogleApplicationCredentials", "is required"}},
		{name: "credentialsFromEnv names no variable", meta: base("credentialsFromEnv", "GCP_KEY"), env: map[string]string{}, wantErr: []string{"credentialsFromEnv", "GCP_KEY"}},
		{name: "credentialsFromEnvFile names no variable", meta: base("credentialsFromEnvFile", "GCP_KEY_FILE"), env: map[string]string{}, wantErr: []string{"metadata.credentialsFromEnvFile", `"GCP_KEY_FILE"`, "path of the service account's JSON key file"}},
		{name: "missing bucketName", meta: map[string]string{}, auth: auth, wantErr: []string{"metadata.bucketName", "is required"}},
		{name: "zero targetObjectCount", meta: base("targetObjectCount", "0"), auth: auth, wantErr: []string{"metadata.targetObjectCount", "is 0", "at least 1"}},
		{name: "negative activationTargetObjectCount", meta: base("activationTargetObjectCount", "-1"), auth: auth, wantErr: []string{"metadata.activationTargetObjectCount", "is -1"}},
		{name: "zero maxBucketItemsToScan", meta: base("maxBucketItemsToScan", "0"), auth: auth, wantErr: []string{"metadata.maxBucketItemsToScan", "is 0"}},
		{name: "targetObjectCount not a number", meta: base("targetObjectCount", "many"), auth: auth, wantErr: []string{"metadata.targetObjectCount", `"many" is not a valid integer`}},
	}
	runParseCases(t, "gcp-storage", tests, k.pem, strings.Split(k.pem, "\n")[1])
}

func TestParseGCPServiceAccountKey(t *testing.T) {
	k := newTestGCPKey(t, "")
	der := x509.MarshalPKCS1PrivateKey(k.key)
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}))
	with := func(field, value string) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(k.json), &m); err != nil {
			t.Fatal(err)
		}
		if value == "" {
			delete(m, field)
		} else {
			m[field] = value
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	for _, tt := range []struct {
		name, text string
		wantErr    []string
		tokenURI   string
	}{
		{name: "Google's key", text: k.json, tokenURI: meta.GCPDefaultTokenURI},
		{name: "PKCS#1 key", text: with("private_key", pkcs1), tokenURI: meta.GCPDefaultTokenURI},
		{name: "own token_uri", text: with("token_uri", "http://127.0.0.1:9/token"), tokenURI: "http://127.0.0.1:9/token"},
		{name: "not JSON", text: "key: value", wantErr: []string{"not JSON"}},
		{name: "an authorized user's credentials", text: with("type", "authorized_user"), wantErr: []string{`"authorized_user"`, "not service_account"}},
		{name: "no client_email", text: with("client_email", ""), wantErr: []string{"no client_email"}},
		{name: "no private_key", text: with("private_key", ""), wantErr: []string{"no private_key"}},
		{name: "private_key not PEM", text: with("private_key", "MIIEvQIBADANBg"), wantErr: []string{"not PEM"}},
		{name: "private_key damaged", text: with("private_key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), wantErr: []string{"not a readable RSA private key"}},
		{name: "token_uri not a URL", text: with("token_uri", "oauth2.googleapis.com/token"), wantErr: []string{"token_uri"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseGCPServiceAccount([]byte(tt.text))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatal("want an error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				if strings.Contains(err.Error(), strings.Split(k.pem, "\n")[1]) || strings.Contains(err.Error(), k.email) {
					t.Errorf("error %q quotes the key", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ClientEmail != k.email || got.TokenURI != tt.tokenURI {
				t.Errorf("parsed %s, %s", got.ClientEmail, got.TokenURI)
			}
		})
	}
}

func TestGCSEndpoint(t *testing.T) {
	for _, tt := range []struct {
		env, want string
		emulator  bool
		wantErr   bool
	}{
		{env: "", want: "https://storage.googleapis.com"},
		{env: "127.0.0.1:4443", want: "http://127.0.0.1:4443", emulator: true},
		{env: " localhost:9023 ", want: "http://localhost:9023", emulator: true},
		{env: "http://gcs.emulators:4443/", want: "http://gcs.emulators:4443", emulator: true},
		{env: "https://gcs.example/base/", want: "https://gcs.example/base", emulator: true},
		{env: "ftp://gcs.example", wantErr: true},
		{env: "http://", wantErr: true},
		{env: "http://h:1/?x=1", wantErr: true},
	} {
		u, emulator, err := gcsEndpoint(tt.env)
		if tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), "STORAGE_EMULATOR_HOST") {
				t.Errorf("%q: error %v, want one naming STORAGE_EMULATOR_HOST", tt.env, err)
			}
			continue
		}
		if err != nil || u.String() != tt.want || emulator != tt.emulator {
			t.Errorf("%q: %v (emulator %v), %v; want %s (emulator %v)", tt.env, u, emulator, err, tt.want, tt.emulator)
		}
	}
}

func TestGCSObjectsURL(t *testing.T) {
	ep, _, _ := gcsEndpoint("https://gcs.example/base")
	u := gcsObjectsURL(ep, "my bucket", "in coming/", "/", 7, "tok+1")
	if got := u.EscapedPath(); got != "/base/storage/v1/b/my%20bucket/o" {
		t.Errorf("path %s", got)
	}
	q := u.Query()
	if q.Get("prefix") != "in coming/" || q.Get("delimiter") != "/" || q.Get("maxResults") != "7" || q.Get("pageToken") != "tok+1" || q.Get("fields") != "nextPageToken,items(size)" {
		t.Errorf("query %v", q)
	}
	u = gcsObjectsURL(ep, "b", "", "", 1000, "")
	if q := u.Query(); q.Has("prefix") || q.Has("delimiter") || q.Has("pageToken") {
		t.Errorf("query %v has empty parameters", q)
	}
}

// TestParseGCSObjectList: sizes as the API writes them (strings), the next page's token, and
// the prefixes a delimiter makes, which do not count.
func TestParseGCSObjectList(t *testing.T) {
	for _, tt := range []struct {
		name    string
		body    string
		sizes   []uint64
		next    string
		wantErr []string
	}{
		{name: "a page", body: `{"kind":"storage#objects","nextPageToken":"CgZh","items":[{"name":"a","size":"12"},{"name":"f/","size":"0"}]}`, sizes: []uint64{12, 0}, next: "CgZh"},
		{name: "last page with prefixes", body: `{"kind":"storage#objects","prefixes":["incoming/archive/"],"items":[{"size":"1"}]}`, sizes: []uint64{1}},
		{name: "an empty bucket", body: `{"kind":"storage#objects"}`, sizes: []uint64{}},
		{name: "sizes as numbers", body: `{"items":[{"size":3},{"size":null},{}]}`, sizes: []uint64{3, 0, 0}},
		{name: "the largest size", body: `{"items":[{"size":"18446744073709551615"}]}`, sizes: []uint64{18446744073709551615}},
		{name: "negative size", body: `{"items":[{"size":"-1"}]}`, wantErr: []string{"object 0", `"-1"`, "not a byte count"}},
		{name: "size not a number", body: `{"items":[{"size":"1"},{"size":"big"}]}`, wantErr: []string{"object 1", `"big"`}},
		{name: "size an object", body: `{"items":[{"size":{}}]}`, wantErr: []string{"not a byte count"}},
		{name: "items not a list", body: `{"items":{}}`, wantErr: []string{"not an objects.list result"}},
		{name: "html", body: `<html>proxy</html>`, wantErr: []string{"not an objects.list result"}},
		{name: "empty", body: ``, wantErr: []string{"not an objects.list result"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			page, err := parseGCSObjectList([]byte(tt.body))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("read %+v, want an error", page)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if page.next != tt.next || len(page.sizes) != len(tt.sizes) {
				t.Fatalf("read %+v, want sizes %v next %q", page, tt.sizes, tt.next)
			}
			for i := range tt.sizes {
				if page.sizes[i] != tt.sizes[i] {
					t.Errorf("size %d = %d, want %d", i, page.sizes[i], tt.sizes[i])
				}
			}
		})
	}
}

func TestGCSCountPage(t *testing.T) {
	for _, tt := range []struct {
		count, limit int64
		sizes        []uint64
		want         int64
	}{
		{0, 10, []uint64{1, 2, 3}, 3},
		{0, 10, []uint64{1, 0, 3, 0}, 2},
		{5, 7, []uint64{1, 1, 1, 1}, 7},
		{0, 2, []uint64{0, 0, 1, 0, 1, 1}, 2},
		{3, 3, []uint64{1}, 3},
		{0, 10, nil, 0},
	} {
		if got := gcsCountPage(tt.count, tt.limit, tt.sizes); got != tt.want {
			t.Errorf("gcsCountPage(%d, %d, %v) = %d, want %d", tt.count, tt.limit, tt.sizes, got, tt.want)
		}
	}
}

// fakeGCS is an in-test Cloud Storage: a token endpoint that checks the signed JWT of a service
// account key and one bucket whose listing pages, with the answers Cloud Storage gives.
type fakeGCS struct {
	*httptest.Server
	key testGCPKey

	mu sync.Mutex
	// objects are the bucket's (name, size), in name order.
	names       []string
	sizes       []uint64
	pageSize    int
	tokenCalls  int
	listCalls   int
	lastAuth    string
	lastQuery   string
	listStatus  int
	listBody    string
	repeatToken bool
}

func newFakeGCS(t *testing.T) *fakeGCS {
	t.Helper()
	f := &fakeGCS{pageSize: 2}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	f.key = newTestGCPKey(t, f.URL+"/token")
	return f
}

func (f *fakeGCS) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/token" {
		f.tokenCalls++
		if err := f.checkAssertion(r); err != "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"` + err + `"}`))
			return
		}
		_, _ = w.Write([]byte(`{"access_token":"ya29.test-token","token_type":"Bearer","expires_in":3600}`))
		return
	}
	if r.URL.Path != "/storage/v1/b/uploads/o" {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"code":404,"message":"The specified bucket does not exist."}}`))
		return
	}
	f.listCalls++
	f.lastAuth, f.lastQuery = r.Header.Get("Authorization"), r.URL.RawQuery
	if f.listStatus != 0 {
		w.WriteHeader(f.listStatus)
		_, _ = w.Write([]byte(f.listBody))
		return
	}
	q := r.URL.Query()
	start := 0
	if tok := q.Get("pageToken"); tok != "" {
		start = int(tok[0] - 'a')
	}
	end := min(start+f.pageSize, len(f.names))
	type item struct {
		Name string `json:"name"`
		Size string `json:"size"`
	}
	page := struct {
		Kind  string `json:"kind"`
		Next  string `json:"nextPageToken,omitempty"`
		Items []item `json:"items,omitempty"`
	}{Kind: "storage#objects"}
	for i := start; i < end; i++ {
		if strings.HasPrefix(f.names[i], q.Get("prefix")) {
			page.Items = append(page.Items, item{Name: f.names[i], Size: jsonUint(f.sizes[i])})
		}
	}
	if end < len(f.names) {
		page.Next = string(rune('a' + end))
		if f.repeatToken && start > 0 {
			page.Next = q.Get("pageToken")
		}
	}
	_ = json.NewEncoder(w).Encode(page)
}

func jsonUint(v uint64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// checkAssertion checks the JWT bearer grant as Google's token endpoint does: RS256 signed by
// the key, issued by its account, for the read-only storage scope, addressed to the endpoint.
func (f *fakeGCS) checkAssertion(r *http.Request) string {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		return "not a jwt-bearer grant"
	}
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	if len(parts) != 3 {
		return "not a JWT"
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "bad signature encoding"
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&f.key.key.PublicKey, crypto.SHA256, digest[:], sig) != nil {
		return "bad signature"
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "bad claims encoding"
	}
	var claims struct {
		Iss, Scope, Aud string
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Iss != f.key.email || claims.Scope != gcsReadScope || claims.Aud != f.URL+"/token" {
		return "unexpected claims " + string(payload)
	}
	return ""
}

func (f *fakeGCS) put(names []string, sizes []uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.names, f.sizes = names, sizes
}

func (f *fakeGCS) calls() (token, list int, auth, query string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenCalls, f.listCalls, f.lastAuth, f.lastQuery
}

func gcsTestScaler(t *testing.T, pool *ClientPool, key string, meta map[string]string) Scaler {
	t.Helper()
	s, err := New(context.Background(), &Config{TriggerType: "gcp-storage", TriggerMetadata: meta, Clients: pool, Timeout: 5 * time.Second,
		AuthParams: map[string]string{"GoogleApplicationCredentials": key}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func gcsPoll(t *testing.T, s Scaler) (int64, bool, error) {
	t.Helper()
	vals, active, err := s.GetMetricsAndActivity(context.Background(), "m")
	if err != nil {
		return 0, false, err
	}
	return vals[0].Value.Value(), active, nil
}

// TestGCPStorageScalerPages: with a service account key, the trigger gets one token (reused by
// every poll and shared by every trigger of the key), sends it as a Bearer token, follows
// nextPageToken, skips empty objects and stops at maxBucketItemsToScan; a missing bucket counts
// 0 as in KEDA; refusals name the account and the fix, never the key.
func TestGCPStorageScalerPages(t *testing.T) {
	// The trigger reaches the fake as Cloud Storage itself (with tokens): only the address differs.
	t.Setenv(gcsEmulatorEnv, "")
	f := newFakeGCS(t)
	pool := NewClientPool()
	defer pool.Close()
	s := gcsTestScaler(t, pool, f.key.json, map[string]string{"bucketName": "uploads", "targetObjectCount": "2", "activationTargetObjectCount": "1"})
	s.(*gcpStorageScaler).endpoint = mustURL(t, f.URL)
	other := gcsTestScaler(t, pool, f.key.json, map[string]string{"bucketName": "uploads", "maxBucketItemsToScan": "3", "blobPrefix": "in/"})
	other.(*gcpStorageScaler).endpoint = mustURL(t, f.URL)
	if pool.Len() != 2 {
		t.Errorf("two triggers of one key hold %d pooled clients, want 2 (the transport and the token)", pool.Len())
	}

	f.put(nil, nil)
	if n, active, err := gcsPoll(t, s); err != nil || n != 0 || active {
		t.Fatalf("an empty bucket: %d (active %v), %v", n, active, err)
	}
	f.put([]string{"in/", "in/a", "in/b", "in/c", "in/d", "in/e", "out/f"}, []uint64{0, 1, 2, 0, 4, 5, 6})
	if n, active, err := gcsPoll(t, s); err != nil || n != 5 || !active {
		t.Fatalf("four pages, two empty objects: %d (active %v), %v", n, active, err)
	}
	token, list, auth, _ := f.calls()
	if token != 1 || list != 5 || auth != "Bearer ya29.test-token" {
		t.Errorf("%d token fetches, %d list calls, Authorization %q; want 1, 5, the token", token, list, auth)
	}
	if n, _, err := gcsPoll(t, other); err != nil || n != 3 {
		t.Fatalf("maxBucketItemsToScan 3: %d, %v", n, err)
	}
	token, list, _, query := f.calls()
	if token != 1 || list != 8 || !strings.Contains(query, "maxResults=1") || !strings.Contains(query, "prefix=in%2F") {
		t.Errorf("%d token fetches, %d list calls, last query %s; want the shared token, 3 more pages, maxResults 1 on the last", token, list, query)
	}

	f.mu.Lock()
	f.repeatToken = true
	f.mu.Unlock()
	if _, _, err := gcsPoll(t, s); err == nil || !strings.Contains(err.Error(), "repeats the pageToken") {
		t.Errorf("a repeated page token: %v", err)
	}

	for _, tt := range []struct {
		status int
		body   string
		want   []string
	}{
		{http.StatusForbidden, `{"error":{"code":403,"message":"keda@kedactl-test.iam.gserviceaccount.com does not have storage.objects.list access to the Google Cloud Storage bucket."}}`,
			[]string{"trigger 0 (gcp-storage)", "403 Forbidden", "storage.objects.list access", "grant service account " + f.key.email, "roles/storage.objectViewer"}},
		{http.StatusUnauthorized, `{"error":{"code":401,"message":"Invalid Credentials"}}`, []string{"401", "Invalid Credentials", "GoogleApplicationCredentials"}},
		{http.StatusBadRequest, `{"error":{"code":400,"message":"Invalid argument."}}`, []string{"400", "metadata.bucketName"}},
		{http.StatusOK, `<html>captive portal</html>`, []string{"not an objects.list result"}},
	} {
		f.mu.Lock()
		f.listStatus, f.listBody = tt.status, tt.body
		f.mu.Unlock()
		_, _, err := gcsPoll(t, s)
		if err == nil {
			t.Fatalf("%d: no error", tt.status)
		}
		checkErr(t, err, tt.want...)
		if strings.Contains(err.Error(), strings.Split(f.key.pem, "\n")[1]) || strings.Contains(err.Error(), "ya29") {
			t.Errorf("error %q shows the key or the token", err)
		}
	}

	missing := gcsTestScaler(t, pool, f.key.json, map[string]string{"bucketName": "gone"})
	missing.(*gcpStorageScaler).endpoint = mustURL(t, f.URL)
	if n, active, err := gcsPoll(t, missing); err != nil || n != 0 || active {
		t.Errorf("a missing bucket: %d (active %v), %v; want 0 as KEDA counts it", n, active, err)
	}
}

// TestGCPStorageScalerRefusedKey: a token endpoint that refuses the key fails the poll naming the
// account and where the key came from.
func TestGCPStorageScalerRefusedKey(t *testing.T) {
	t.Setenv(gcsEmulatorEnv, "")
	f := newFakeGCS(t)
	wrong := newTestGCPKey(t, f.URL+"/token")
	s := gcsTestScaler(t, nil, wrong.json, map[string]string{"bucketName": "uploads"})
	s.(*gcpStorageScaler).endpoint = mustURL(t, f.URL)
	_, _, err := gcsPoll(t, s)
	if err == nil {
		t.Fatal("a refused key: no error")
	}
	checkErr(t, err, "trigger 0 (gcp-storage)", "refused a token for service account "+wrong.email, "400", "invalid_grant", "GoogleApplicationCredentials")
	if strings.Contains(err.Error(), strings.Split(wrong.pem, "\n")[1]) {
		t.Errorf("error %q shows the key", err)
	}
}

// TestGCPStorageScalerEmulator: with STORAGE_EMULATOR_HOST the trigger lists on the emulator
// without a token, and does not read the key, as Google's clients do.
func TestGCPStorageScalerEmulator(t *testing.T) {
	f := newFakeGCS(t)
	t.Setenv(gcsEmulatorEnv, strings.TrimPrefix(f.URL, "http://"))
	f.put([]string{"a", "b"}, []uint64{1, 1})
	s := gcsTestScaler(t, nil, `{"type":"not read"}`, map[string]string{"bucketName": "uploads"})
	if n, _, err := gcsPoll(t, s); err != nil || n != 2 {
		t.Fatalf("on the emulator: %d, %v", n, err)
	}
	if token, _, auth, _ := f.calls(); token != 0 || auth != "" {
		t.Errorf("on the emulator: %d token fetches, Authorization %q", token, auth)
	}
	t.Setenv(gcsEmulatorEnv, "ftp://x")
	_, err := New(context.Background(), &Config{TriggerType: "gcp-storage", TriggerMetadata: map[string]string{"bucketName": "uploads"},
		AuthParams: map[string]string{"GoogleApplicationCredentials": "{}"}})
	if err == nil || !strings.Contains(err.Error(), "STORAGE_EMULATOR_HOST") {
		t.Errorf("a bad STORAGE_EMULATOR_HOST: %v", err)
	}
}

// TestGCPStorageScalerKeys: a key that is no service account key fails the build naming where
// it came from; a key file is read by the operator, bounded.
func TestGCPStorageScalerKeys(t *testing.T) {
	t.Setenv(gcsEmulatorEnv, "")
	k := newTestGCPKey(t, "")
	_, err := New(context.Background(), &Config{TriggerType: "gcp-storage", TriggerMetadata: map[string]string{"bucketName": "b", "credentialsFromEnv": "KEY"},
		ResolvedEnv: map[string]string{"KEY": strings.Replace(k.json, "service_account", "external_account", 1)}})
	if err == nil {
		t.Fatal("an external_account key: no error")
	}
	checkErr(t, err, "trigger 0 (gcp-storage)", "env var KEY (metadata.credentialsFromEnv)", "not service_account")

	dir := t.TempDir()
	file := filepath.Join(dir, "key.json")
	if err := os.WriteFile(file, []byte(k.json), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), &Config{TriggerType: "gcp-storage", TriggerMetadata: map[string]string{"bucketName": "b", "credentialsFromEnvFile": "KEY_FILE"},
		ResolvedEnv: map[string]string{"KEY_FILE": file}})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.(*gcpStorageScaler).tokens.sa.ClientEmail; got != k.email {
		t.Errorf("key file read as %s", got)
	}
	_ = s.Close(context.Background())
	_, err = New(context.Background(), &Config{TriggerType: "gcp-storage", TriggerMetadata: map[string]string{"bucketName": "b", "credentialsFromEnvFile": "KEY_FILE"},
		ResolvedEnv: map[string]string{"KEY_FILE": filepath.Join(dir, "missing.json")}})
	if err == nil {
		t.Fatal("a missing key file: no error")
	}
	checkErr(t, err, "missing.json", "mount it into the operator's pod")
}

func TestGCPStorageScalerSpec(t *testing.T) {
	t.Setenv(gcsEmulatorEnv, "127.0.0.1:1")
	for _, tt := range []struct {
		metricType autoscalingv2.MetricTargetType
		asSource   bool
	}{{"", false}, {autoscalingv2.ValueMetricType, false}, {"", true}} {
		cfg := &Config{TriggerType: "gcp-storage", TriggerIndex: 2, MetricType: tt.metricType, AsMetricSource: tt.asSource,
			TriggerMetadata: map[string]string{"bucketName": "my.bucket", "targetObjectCount": "5"}, AuthParams: map[string]string{"GoogleApplicationCredentials": "{}"}}
		s, err := New(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		specs := s.GetMetricSpecForScaling(context.Background())
		_ = s.Close(context.Background())
		if len(specs) != 1 || specs[0].External.Metric.Name != "s2-gcp-storage-my-bucket" {
			t.Fatalf("specs %+v, want one named s2-gcp-storage-my-bucket (KEDA's)", specs)
		}
		target := specs[0].External.Target
		q := target.AverageValue
		if tt.metricType == autoscalingv2.ValueMetricType {
			q = target.Value
		}
		if q == nil || q.Value() != 5 {
			t.Errorf("metricType %q (metric source %v): target %+v, want 5", tt.metricType, tt.asSource, target)
		}
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

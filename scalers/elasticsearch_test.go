package scalers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseElasticsearchMetadata(t *testing.T) {
	const pw, key = "es-secret-never-in-errors", "a2V5LWlkOmtleS1zZWNyZXQ="
	cloudID := "prod:" + base64.StdEncoding.EncodeToString([]byte("eu-west-1.aws.found.io:9243$abc123$kib456"))
	base := func(extra ...string) map[string]string {
		m := map[string]string{"addresses": "http://es-0:9200,http://es-1:9200/", "index": "jobs-a;jobs-b", "searchTemplateName": "my template",
			"valueLocation": "hits.total.value", "targetValue": "10"}
		for i := 0; i+1 < len(extra); i += 2 {
			if extra[i+1] == "" {
				delete(m, extra[i])
				continue
			}
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	basic := map[string]string{"username": "keda", "password": pw}
	tests := []parseCase[meta.ElasticsearchMetadata]{
		{name: "template with parameters", meta: base("parameters", "status:queued; at:10:30 ;"), auth: basic, check: func(t *testing.T, m *meta.ElasticsearchMetadata) {
			if len(m.Addrs) != 2 || m.Addrs[1].String() != "http://es-1:9200" || strings.Join(m.Index, "|") != "jobs-a|jobs-b" || m.ActivationTargetValue != 0 || m.IgnoreNullValues || m.UnsafeSsl {
				t.Errorf("parsed %+v", m)
			}
			if m.Req.Path != "jobs-a,jobs-b/_search/template" || string(m.Req.Body) != `{"id":"my template","params":{"at":"10:30","status":"queued"}}` {
				t.Errorf("request %s %s", m.Req.Path, m.Req.Body)
			}
			if !m.Auth.Has(meta.AuthModeBasic) || m.Auth.Username != "keda" || m.Auth.Password != pw {
				t.Errorf("auth %+v", m.Auth)
			}
			if got := searchMetricName(&m.SearchQueryParams, 2, "elasticsearch"); got != "s2-elasticsearch-my-template" {
				t.Errorf("metric name %s", got)
			}
		}},
		{name: "inline query", meta: base("searchTemplateName", "", "query", `{"query":{"match_all":{}}}`, "index", "logs-*"), auth: basic, check: func(t *testing.T, m *meta.ElasticsearchMetadata) {
			if m.Req.Path != "logs-*/_search" || string(m.Req.Body) != `{"query":{"match_all":{}}}` || searchMetricName(&m.SearchQueryParams, 0, "elasticsearch") != "s0-elasticsearch-query" {
				t.Errorf("request %s %s", m.Req.Path, m.Req.Body)
			}
		}},
		{name: "cloud", meta: base("addresses", "", "cloudID", cloudID), auth: map[string]string{"apiKey": key}, check: func(t *testing.T, m *meta.ElasticsearchMetadata) {
			if len(m.Addrs) != 1 || m.Addrs[0].String() != "https://abc123.eu-west-1.aws.found.io:9243" {
				t.Errorf("address %v", m.Addrs)
			}
			if !m.Auth.Has(meta.AuthModeCustom) || m.Auth.CustomHeader != "Authorization" || m.Auth.CustomValue != "ApiKey "+key {
				t.Errorf("auth %+v", m.Auth)
			}
		}},
		{name: "password from env", meta: base("passwordFromEnv", "ES_PW", "username", "keda"), env: map[string]string{"ES_PW": pw}, check: func(t *testing.T, m *meta.ElasticsearchMetadata) {
			if m.Password != pw {
				t.Errorf("password not from env")
			}
		}},
		{name: "offline without credentials", meta: base(), offline: true, check: func(*testing.T, *meta.ElasticsearchMetadata) {}},
		{name: "cloud and addresses", meta: base("cloudID", cloudID), auth: map[string]string{"apiKey": key, "username": "u", "password": pw}, wantErr: []string{"metadata.cloudID", "keep one way in"}},
		{name: "nothing to reach", meta: base("addresses", ""), wantErr: []string{"metadata.addresses is required (or cloudID with apiKey)"}},
		{name: "cloudID without apiKey", meta: base("addresses", "", "cloudID", cloudID), wantErr: []string{"metadata.apiKey is required with cloudID"}},
		{name: "apiKey without cloudID", meta: base("addresses", ""), auth: map[string]string{"apiKey": key}, wantErr: []string{"metadata.cloudID is required with apiKey"}},
		{name: "no password", meta: base(), auth: map[string]string{"username": "keda"}, wantErr: []string{"metadata.password is required with addresses"}},
		{name: "bad cloudID", meta: base("addresses", "", "cloudID", "prod:!!!"), auth: map[string]string{"apiKey": key}, wantErr: []string{"metadata.cloudID has no base64"}},
		{name: "both template and query", meta: base("query", "{}"), auth: basic, wantErr: []string{"metadata.query is set with searchTemplateName"}},
		{name: "neither template nor query", meta: base("searchTemplateName", ""), auth: basic, wantErr: []string{"metadata.searchTemplateName is required (or query)"}},
		{name: "query not JSON", meta: base("searchTemplateName", "", "query", "status:queued"), auth: basic, wantErr: []string{"metadata.query is not a JSON object"}},
		{name: "parameter without colon", meta: base("parameters", "status=queued"), auth: basic, wantErr: []string{`metadata.parameters has "status=queued"`, "key:value"}},
		{name: "no index", meta: base("index", ""), auth: basic, wantErr: []string{"metadata.index is required"}},
		{name: "target 0", meta: base("targetValue", "0"), auth: basic, wantErr: []string{"metadata.targetValue is 0"}},
		{name: "address not a URL", meta: base("addresses", "es-0:9200"), auth: basic, wantErr: []string{"metadata.addresses is not an http(s) URL"}},
	}
	runParseCases(t, "elasticsearch", tests, pw, key)
}

func TestParseOpenSearchMetadata(t *testing.T) {
	const pw = "os-secret-never-in-errors"
	ca := testCertPEM(t)
	base := func(extra ...string) map[string]string {
		m := map[string]string{"addresses": "https://os:9200", "index": "jobs", "searchTemplateName": "t", "valueLocation": "hits.total.value", "targetValue": "1.5"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	tests := []parseCase[meta.OpensearchMetadata]{
		{name: "basic", meta: base("activationTargetValue", "2", "ignoreNullValues", "true"), auth: map[string]string{"username": "admin", "password": pw, "caCert": ca.cert},
			check: func(t *testing.T, m *meta.OpensearchMetadata) {
				if m.Auth.RootCAs == nil || !m.Auth.Has(meta.AuthModeBasic) || m.ActivationTargetValue != 2 || !m.IgnoreNullValues || searchMetricName(&m.SearchQueryParams, 1, "opensearch") != "s1-opensearch-t" {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "client certificate", meta: base("enableTLS", "true"), auth: map[string]string{"clientCert": ca.cert, "clientKey": ca.key},
			check: func(t *testing.T, m *meta.OpensearchMetadata) {
				if m.Auth.ClientCert == nil || m.Auth.Has(meta.AuthModeBasic) {
					t.Errorf("auth %+v", m.Auth)
				}
			}},
		{name: "no addresses", meta: base("addresses", ""), auth: map[string]string{"username": "a", "password": pw}, wantErr: []string{"metadata.addresses is required"}},
		{name: "no password", meta: base(), auth: map[string]string{"username": "a"}, wantErr: []string{"metadata.password is required"}},
		{name: "enableTLS without key", meta: base("enableTLS", "true"), auth: map[string]string{"clientCert": ca.cert}, wantErr: []string{"metadata.clientKey is required with enableTLS"}},
		{name: "key of another certificate", meta: base("enableTLS", "true"), auth: map[string]string{"clientCert": ca.cert, "clientKey": testCertPEM(t).key},
			wantErr: []string{"metadata.clientCert and clientKey do not make a client certificate"}},
		{name: "caCert not PEM", meta: base(), auth: map[string]string{"username": "a", "password": pw, "caCert": "nope"}, wantErr: []string{"metadata.caCert holds no PEM certificate"}},
	}
	runParseCases(t, "opensearch", tests, pw)
}

func TestSearchValue(t *testing.T) {
	for _, c := range []struct {
		body, loc string
		ignore    bool
		want      float64
		err       string
	}{
		{`{"hits":{"total":{"value":42,"relation":"eq"}}}`, "hits.total.value", false, 42, ""},
		{`{"aggregations":{"avg":{"value":"2.5"}}}`, "aggregations.avg.value", false, 2.5, ""},
		{`{"aggregations":{"avg":{"value":null}}}`, "aggregations.avg.value", true, 0, ""},
		{`{"aggregations":{"avg":{"value":null}}}`, "aggregations.avg.value", false, 0, "is null"},
		{`{"hits":{}}`, "hits.total.value", false, 0, "matches nothing"},
		{`{"hits":{"total":{"value":1}}}`, "hits.total", false, 0, "is an object or array, not a number"},
		{`{"v":"many"}`, "v", false, 0, `holds "many", not a number`},
		{`{"v":"NaN"}`, "v", false, 0, "not a finite number"},
		{`<html>`, "v", false, 0, "the answer is not JSON"},
	} {
		got, err := searchValue([]byte(c.body), c.loc, c.ignore)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s at %s: error %v, want %q", c.body, c.loc, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s at %s = %g, %v; want %g", c.body, c.loc, got, err, c.want)
		}
	}
}

func TestSearchErrorReason(t *testing.T) {
	for body, want := range map[string]string{
		`{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [x]"}],"type":"index_not_found_exception","reason":"no such index [x]"},"status":404}`: "index_not_found_exception: no such index [x]",
		`{"error":{"root_cause":[{"type":"parsing_exception","reason":"unknown query [y]"}]},"status":400}`:                                                                         "parsing_exception: unknown query [y]",
		`{"error":"Incorrect HTTP method","status":405}`: "Incorrect HTTP method",
		"Unauthorized":            "Unauthorized",
		`{"message":"Forbidden"}`: "Forbidden",
	} {
		if got := searchErrorReason([]byte(body)); got != want {
			t.Errorf("searchErrorReason(%s) = %q, want %q", body, got, want)
		}
	}
}

func TestElasticCloudAddress(t *testing.T) {
	enc := base64.StdEncoding.EncodeToString
	for id, want := range map[string]string{
		"name:" + enc([]byte("us-central1.gcp.cloud.es.io$es1$kb1")):         "https://es1.us-central1.gcp.cloud.es.io",
		"name:with:colons:" + enc([]byte("host.example:443$es2$kb2")):        "https://es2.host.example:443",
		"n:" + base64.RawStdEncoding.EncodeToString([]byte("h.example$es3")): "https://es3.h.example",
		"no-colon":                        "error",
		"n:" + enc([]byte("only-a-host")): "error",
		"n:" + enc([]byte("$es$kb")):      "error",
		"n:" + enc([]byte("h/x$es$kb")):   "error",
	} {
		u, err := meta.ElasticCloudAddress(id)
		got := "error"
		if err == nil {
			got = u.String()
		}
		if got != want {
			t.Errorf("elasticCloudAddress(%q) = %s (%v), want %s", id, got, err, want)
		}
	}
}

// testPair is a self-signed certificate and its key, PEM.
type testPair struct{ cert, key string }

func testCertPEM(t *testing.T) testPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return testPair{cert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), key: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))}
}

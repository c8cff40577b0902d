package secretsmanager

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestUnsigned: a request without SigV4, or of another protocol, is refused as Secrets Manager
// refuses it. (Signed requests are exercised with aws-sdk-go-v2 in operator/resolve.)
func TestUnsigned(t *testing.T) {
	s := Start(Options{AccessKeyID: "AKID", SecretAccessKey: "secret"})
	defer s.Close()
	s.PutSecret("n", "v")
	for name, tc := range map[string]struct {
		contentType, authz string
		status             int
		code               string
	}{
		"unsigned":      {"application/x-amz-json-1.1", "", 403, "MissingAuthenticationTokenException"},
		"malformed":     {"application/x-amz-json-1.1", "AWS4-HMAC-SHA256 Credential=AKID", 400, "IncompleteSignatureException"},
		"other service": {"application/x-amz-json-1.1", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00", 400, "IncompleteSignatureException"},
		"JSON 1.0":      {"application/x-amz-json-1.0", "", 400, "InvalidRequestException"},
	} {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(`{"SecretId": "n"}`))
		req.Header.Set("Content-Type", tc.contentType)
		req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
		if tc.authz != "" {
			req.Header.Set("Authorization", tc.authz)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || body["__type"] != tc.code {
			t.Errorf("%s: %d %v, want %d %s", name, resp.StatusCode, body, tc.status, tc.code)
		}
	}
}

// TestStagingLabels: PutSecret moves AWSCURRENT to the new version and AWSPREVIOUS to the old.
func TestStagingLabels(t *testing.T) {
	s := Start(Options{})
	defer s.Close()
	first := s.PutSecret("n", "1")
	second := s.PutSecret("n", "2")
	s.PutSecret("n", "3")
	stages := map[string][]string{}
	for _, v := range s.secrets["n"] {
		stages[v.id] = v.stages
	}
	if len(stages[first]) != 0 || len(stages[second]) != 1 || stages[second][0] != "AWSPREVIOUS" {
		t.Errorf("stages %v", stages)
	}
}

package gcpsecretmanager

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestRefusals: token-less, forged-token and metadata requests without Metadata-Flavor are
// refused as Google refuses them. (The JWT grant and reads are exercised in operator/resolve.)
func TestRefusals(t *testing.T) {
	s := Start()
	defer s.Close()
	s.SetMetadataIdentity("p", "node")
	s.AddVersion("p", "n", "v")
	do := func(path string, header map[string]string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	const access = "/v1/projects/p/secrets/n/versions/latest:access"
	if code, _ := do(access, nil); code != 401 {
		t.Errorf("no token: %d", code)
	}
	if code, _ := do(access, map[string]string{"Authorization": "Bearer forged"}); code != 401 {
		t.Errorf("forged token: %d", code)
	}
	if code, _ := do("/computeMetadata/v1/instance/service-accounts/default/token", nil); code != 403 {
		t.Errorf("metadata without Metadata-Flavor: %d", code)
	}
	code, tok := do("/computeMetadata/v1/instance/service-accounts/default/token", map[string]string{"Metadata-Flavor": "Google"})
	bearer, _ := tok["access_token"].(string)
	if code != 200 || bearer == "" {
		t.Fatalf("metadata token: %d %v", code, tok)
	}
	auth := map[string]string{"Authorization": "Bearer " + bearer}
	if code, body := do(access, auth); code != 200 || body["payload"] == nil {
		t.Errorf("good read: %d %v", code, body)
	}
	if code, _ := do("/v1/projects/q/secrets/n/versions/latest:access", auth); code != 403 {
		t.Errorf("another project: %d", code)
	}
	if code, _ := do("/v1/projects/p/secrets/n/versions/2:access", auth); code != 404 {
		t.Errorf("missing version: %d", code)
	}
	if code, _ := do("/v1/projects/p/secrets/n/versions/x:access", auth); code != 400 {
		t.Errorf("bad version: %d", code)
	}
}

package azurekeyvault

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestRefusals: what the fake refuses, with Microsoft's status, error codes and challenge.
func TestRefusals(t *testing.T) {
	s := Start(Options{TenantID: "t", ClientID: "c", ClientSecret: "secret"})
	defer s.Close()
	s.SetSecret("n", "v")
	token := func(form url.Values) (int, map[string]any) {
		resp, err := http.PostForm(s.URL+"/t/oauth2/v2.0/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {"c"}, "client_secret": {"secret"}, "scope": {"https://vault.azure.net/.default"}}
	for name, tc := range map[string]struct {
		change       func(url.Values)
		status       int
		errorContent string
	}{
		"wrong secret":   {func(v url.Values) { v.Set("client_secret", "x") }, 401, "invalid_client"},
		"unknown client": {func(v url.Values) { v.Set("client_id", "x") }, 400, "unauthorized_client"},
		"other resource": {func(v url.Values) { v.Set("scope", "https://management.azure.com/.default") }, 400, "invalid_scope"},
		"other grant":    {func(v url.Values) { v.Set("grant_type", "password") }, 400, "unsupported_grant_type"},
		"assertion without federation": {func(v url.Values) {
			v.Del("client_secret")
			v.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			v.Set("client_assertion", "jwt")
		}, 401, "invalid_client"},
	} {
		form := url.Values{}
		for k, v := range good {
			form[k] = append([]string(nil), v...)
		}
		tc.change(form)
		if status, body := token(form); status != tc.status || body["error"] != tc.errorContent {
			t.Errorf("%s: %d %v, want %d %s", name, status, body, tc.status, tc.errorContent)
		}
	}
	status, body := token(good)
	access, _ := body["access_token"].(string)
	if status != 200 || access == "" || body["token_type"] != "Bearer" {
		t.Fatalf("good request: %d %v", status, body)
	}
	get := func(path, bearer string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get("/secrets/n?api-version=7.4", ""); r.StatusCode != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), `resource="https://vault.azure.net"`) {
		t.Errorf("no token: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	if r := get("/secrets/n?api-version=7.4", "forged"); r.StatusCode != 401 {
		t.Errorf("forged token: %d", r.StatusCode)
	}
	if r := get("/secrets/n", access); r.StatusCode != 400 {
		t.Errorf("no api-version: %d", r.StatusCode)
	}
	if r := get("/secrets/other?api-version=7.4", access); r.StatusCode != 404 {
		t.Errorf("unknown secret: %d", r.StatusCode)
	}
	if r := get("/secrets/n?api-version=7.4", access); r.StatusCode != 200 {
		t.Errorf("good read: %d", r.StatusCode)
	}
}

package scalers

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseNewRelicMetadata(t *testing.T) {
	const key = "NRAK-table-key-9f1e"
	base := func(extra ...string) map[string]string {
		m := map[string]string{"account": "1234567", "nrql": "SELECT count(*) FROM Transaction SINCE 1 minute ago", "threshold": "50"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	auth := map[string]string{"queryKey": key}
	tests := []parseCase[meta.NewRelicMetadata]{
		{name: "defaults", meta: base(), auth: auth, check: func(t *testing.T, m *meta.NewRelicMetadata) {
			if m.Account != 1234567 || m.Region != "US" || m.QueryKey != key || m.NoDataError || m.Threshold != 50 || m.ActivationThreshold != 0 ||
				m.Endpoint.String() != "https://api.newrelic.com/graphql" {
				t.Errorf("parsed %+v at %s", m, m.Endpoint)
			}
		}},
		{name: "everything in the metadata, region eu in any case", meta: base("region", "eu", "queryKey", key, "noDataError", "true", "activationThreshold", "2.5"),
			check: func(t *testing.T, m *meta.NewRelicMetadata) {
				if !m.NoDataError || m.ActivationThreshold != 2.5 || m.QueryKey != key || m.Endpoint.String() != "https://api.eu.newrelic.com/graphql" {
					t.Errorf("parsed %+v at %s", m, m.Endpoint)
				}
			}},
		{name: "account and region from the TriggerAuthentication win", meta: base("region", "US"), auth: map[string]string{"queryKey": key, "account": "42", "region": "EU"},
			check: func(t *testing.T, m *meta.NewRelicMetadata) {
				if m.Account != 42 || m.Endpoint.Host != "api.eu.newrelic.com" {
					t.Errorf("parsed %+v at %s", m, m.Endpoint)
				}
			}},
		{name: "missing account", meta: map[string]string{"nrql": "SELECT 1", "threshold": "1"}, auth: auth, wantErr: []string{"trigger 0 (new-relic)", "metadata.account", "is required"}},
		{name: "account not a number", meta: base("account", "acme"), auth: auth, wantErr: []string{"metadata.account"}},
		{name: "negative account", meta: base("account", "-3"), auth: auth, wantErr: []string{"metadata.account", "is -3"}},
		{name: "missing queryKey", meta: base(), wantErr: []string{"metadata.queryKey", "is required"}},
		{name: "missing nrql", meta: map[string]string{"account": "1", "threshold": "1"}, auth: auth, wantErr: []string{"metadata.nrql", "is required"}},
		{name: "missing threshold", meta: map[string]string{"account": "1", "nrql": "SELECT 1"}, auth: auth, wantErr: []string{"metadata.threshold", "is required"}},
		{name: "zero threshold", meta: base("threshold", "0"), auth: auth, wantErr: []string{"metadata.threshold", "is 0", "above 0"}},
		{name: "threshold not a number", meta: base("threshold", "many"), auth: auth, wantErr: []string{"metadata.threshold"}},
		{name: "activationThreshold not a number", meta: base("activationThreshold", "x"), auth: auth, wantErr: []string{"metadata.activationThreshold"}},
		{name: "unknown region", meta: base("region", "mars"), auth: auth, wantErr: []string{"metadata.region", `"mars" is not a New Relic region`, "US or EU"}},
		{name: "bad noDataError", meta: base("noDataError", "sometimes"), auth: auth, wantErr: []string{"metadata.noDataError"}},
		{name: "offline: account and key may come from the TriggerAuthentication", meta: map[string]string{"nrql": "SELECT 1", "threshold": "1"}, offline: true,
			check: func(*testing.T, *meta.NewRelicMetadata) {}},
		{name: "offline still checks the region", meta: base("region", "APAC"), offline: true, wantErr: []string{"metadata.region"}},
	}
	runParseCases(t, "new-relic", tests, key)
}

// TestNewRelicEndpoint: the regions of New Relic's Go client, in any case; the operator's
// NEW_RELIC_NERDGRAPH_BASE_URL replaces them when set.
func TestNewRelicEndpoint(t *testing.T) {
	for _, tt := range []struct{ region, want string }{
		{"US", "https://api.newrelic.com/graphql"},
		{"us", "https://api.newrelic.com/graphql"},
		{"EU", "https://api.eu.newrelic.com/graphql"},
		{" Eu ", "https://api.eu.newrelic.com/graphql"},
		{"JP", "https://api.jp.newrelic.com/graphql"},
		{"GOV", "https://gov-api.newrelic.com/graphql"},
		{"FedRAMP", "https://gov-api.newrelic.com/graphql"},
		{"Staging", "https://staging-api.newrelic.com/graphql"},
		{"", ""},
		{"europe", ""},
	} {
		u, err := meta.NewRelicEndpoint(tt.region)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("region %q: %s, want an error", tt.region, u)
		case tt.want != "" && (err != nil || u.String() != tt.want):
			t.Errorf("region %q: %v (%v), want %s", tt.region, u, err, tt.want)
		}
	}
	for _, tt := range []struct {
		value, want string
		wantErr     bool
	}{
		{"", "", false},
		{"http://127.0.0.1:8080/graphql", "http://127.0.0.1:8080/graphql", false},
		{"127.0.0.1:8080", "", true},
		{"ftp://x/graphql", "", true},
	} {
		u, err := newRelicEndpointOverride(tt.value)
		switch {
		case tt.wantErr:
			if err == nil || !strings.Contains(err.Error(), newRelicNerdGraphEnv) {
				t.Errorf("override %q: %v, want an error naming %s", tt.value, err, newRelicNerdGraphEnv)
			}
		case err != nil || (u == nil) != (tt.want == "") || (u != nil && u.String() != tt.want):
			t.Errorf("override %q: %v (%v), want %q", tt.value, u, err, tt.want)
		}
	}
}

// TestNewRelicValue: the first number of the first row, in document order; errors and missing
// data are told apart.
func TestNewRelicValue(t *testing.T) {
	wrap := func(rows string) string {
		return `{"data":{"actor":{"account":{"nrql":{"results":` + rows + `}}}}}`
	}
	for _, tt := range []struct {
		name, body string
		want       float64
		noData     bool
		wantErr    string
	}{
		{name: "count", body: wrap(`[{"count": 12}]`), want: 12},
		{name: "first selected of two", body: wrap(`[{"max.depth": 7, "average.depth": 3.5}]`), want: 7},
		{name: "strings and nulls skipped", body: wrap(`[{"facet": "q1", "name": null, "latest.depth": 4}]`), want: 4},
		{name: "first row only", body: wrap(`[{"count": 1}, {"count": 100}]`), want: 1},
		{name: "negative", body: wrap(`[{"min.delta": -2.5}]`), want: -2.5},
		{name: "no rows", body: wrap(`[]`), noData: true},
		{name: "null results", body: wrap(`null`), noData: true},
		{name: "no number", body: wrap(`[{"latest.depth": null, "uniques.host": ["a"]}]`), noData: true},
		{name: "out of float range", body: wrap(`[{"count": 1e999}]`), noData: true},
		{name: "row not an object", body: wrap(`[5]`), wantErr: "not a JSON object"},
		{name: "GraphQL errors", body: `{"errors":[{"message":"NRQL Syntax Error: x","extensions":{"errorClass":"INVALID_INPUT"}}]}`, wantErr: "INVALID_INPUT: NRQL Syntax Error: x"},
		{name: "many errors", body: `{"errors":[{"message":"a"},{"message":"b"},{"message":"c"},{"message":"d"},{"message":"e"}]}`, wantErr: "a; b; c; and 2 more"},
		{name: "account null", body: `{"data":{"actor":{"account":null}}}`, wantErr: "is the account ID right"},
		{name: "not JSON", body: `<html>`, wantErr: "not a NerdGraph"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := newRelicValue([]byte(tt.body))
			switch {
			case tt.noData:
				if !errors.Is(err, errNewRelicNoData) {
					t.Errorf("got %g, %v; want no data", v, err)
				}
			case tt.wantErr != "":
				if err == nil || errors.Is(err, errNewRelicNoData) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %g, %v; want an error mentioning %q", v, err, tt.wantErr)
				}
			case err != nil || v != tt.want:
				t.Errorf("got %g, %v; want %g", v, err, tt.want)
			}
		})
	}
}

// TestNewRelicBuildChecks: what only building checks (an account of 0, an empty key, the
// operator's override) is refused with the parameter or variable to fix, never the key.
func TestNewRelicBuildChecks(t *testing.T) {
	const key = "NRAK-build-key-3b7d"
	build := func(meta, auth map[string]string) error {
		s, err := New(context.Background(), &Config{TriggerType: "new-relic", TriggerMetadata: meta, AuthParams: auth})
		if err == nil {
			_ = s.Close(context.Background())
		}
		return err
	}
	meta := map[string]string{"account": "0", "nrql": "SELECT 1", "threshold": "1"}
	if err := build(meta, map[string]string{"queryKey": key}); err == nil || !strings.Contains(err.Error(), "metadata.account is 0") {
		t.Errorf("account 0: %v", err)
	}
	meta["account"] = "1"
	t.Setenv(newRelicNerdGraphEnv, "not a url")
	if err := build(meta, map[string]string{"queryKey": key}); err == nil || !strings.Contains(err.Error(), newRelicNerdGraphEnv) || strings.Contains(err.Error(), key) {
		t.Errorf("bad override: %v", err)
	}
	t.Setenv(newRelicNerdGraphEnv, "")
	if err := build(meta, map[string]string{"queryKey": key}); err != nil {
		t.Errorf("good trigger: %v", err)
	}
}

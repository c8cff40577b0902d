package scalers

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

// gcpTestKey is a service account key as Google writes it, with an RSA key made for the tests
// whose PEM carries the header TESTKEYNEVERSHOWN (the table tests never fetch a token). No error
// may show it: neither the header nor gcpTestKeyLine, a line of the key's body. gcpTestPEM is
// the key's PEM as a JSON string.
var gcpTestKey, gcpTestKeyLine, gcpTestPEM = newGCPTestKey()

func newGCPTestKey() (key, line, pemJSON string) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	if err != nil {
		panic(err)
	}
	text := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"Comment": "TESTKEYNEVERSHOWN"}, Bytes: der}))
	quoted, _ := json.Marshal(text)
	return `{"type": "service_account", "project_id": "acme-prod", "private_key_id": "0123abcd",
 "private_key": ` + string(quoted) + `,
 "client_email": "keda@acme-prod.iam.gserviceaccount.com", "client_id": "100000000000000000000",
 "token_uri": "https://oauth2.googleapis.com/token"}`, strings.Split(text, "\n")[5], string(quoted)
}

func TestParseGCPStackdriverMetadata(t *testing.T) {
	const filter = `metric.type="pubsub.googleapis.com/subscription/num_undelivered_messages" AND resource.labels.subscription_id="orders"`
	base := func(extra ...string) map[string]string {
		m := map[string]string{"projectId": "acme-prod", "filter": filter}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	auth := map[string]string{"GoogleApplicationCredentials": gcpTestKey}
	tests := []parseCase[meta.GCPStackdriverMetadata]{
		{name: "defaults", meta: base(), auth: auth, check: func(t *testing.T, m *meta.GCPStackdriverMetadata) {
			if m.ProjectID != "acme-prod" || m.Filter != filter || m.TargetValue != 5 || m.ActivationTargetValue != 0 || m.ValueIfNull != nil ||
				m.FilterDuration != 0 || m.Agg != (meta.GCPAggregation{}) || string(m.Creds.Key) != gcpTestKey {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "every parameter", meta: base("targetValue", "2.5", "activationTargetValue", "1", "valueIfNull", "0", "filterDuration", "5",
			"alignmentPeriodSeconds", "120", "alignmentAligner", "Percentile_99", "alignmentReducer", "sum"), auth: auth,
			check: func(t *testing.T, m *meta.GCPStackdriverMetadata) {
				if m.TargetValue != 2.5 || m.ActivationTargetValue != 1 || m.ValueIfNull == nil || *m.ValueIfNull != 0 || m.FilterDuration != 5 ||
					m.Agg != (meta.GCPAggregation{Period: 2 * time.Minute, Aligner: "ALIGN_PERCENTILE_99", Reducer: "REDUCE_SUM"}) {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "aligner none and no reducer", meta: base("alignmentPeriodSeconds", "60", "alignmentAligner", "none"), auth: auth,
			check: func(t *testing.T, m *meta.GCPStackdriverMetadata) {
				if m.Agg != (meta.GCPAggregation{Period: time.Minute}) {
					t.Errorf("aggregation %+v", m.Agg)
				}
			}},
		{name: "without a period, as KEDA, aligner and reducer are not read", meta: base("alignmentAligner", "bogus", "alignmentReducer", "bogus"), auth: auth,
			check: func(t *testing.T, m *meta.GCPStackdriverMetadata) {
				if m.Agg != (meta.GCPAggregation{}) {
					t.Errorf("aggregation %+v", m.Agg)
				}
			}},
		{name: "key from credentialsFromEnv", meta: base("credentialsFromEnv", "GOOGLE_KEY"), env: map[string]string{"GOOGLE_KEY": gcpTestKey},
			check: func(t *testing.T, m *meta.GCPStackdriverMetadata) {
				if string(m.Creds.Key) != gcpTestKey || !strings.Contains(m.Creds.From, "GOOGLE_KEY") {
					t.Errorf("credentials %+v", m.Creds)
				}
			}},
		{name: "the TriggerAuthentication wins over credentialsFromEnv", meta: base("credentialsFromEnv", "GOOGLE_KEY"), auth: auth, env: map[string]string{"GOOGLE_KEY": "other"},
			check: func(t *testing.T, m *meta.GCPStackdriverMetadata) {
				if string(m.Creds.Key) != gcpTestKey {
					t.Errorf("credentials from %s", m.Creds.From)
				}
			}},
		{name: "key file from credentialsFromEnvFile", meta: base("credentialsFromEnvFile", "GOOGLE_APPLICATION_CREDENTIALS"), env: map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": "/var/secrets/key.json"},
			check: func(t *testing.T, m *meta.GCPStackdriverMetadata) {
				if m.Creds.File != "/var/secrets/key.json" || m.Creds.Key != nil {
					t.Errorf("credentials %+v", m.Creds)
				}
			}},
		{name: "offline: the TriggerAuthentication may hold the key", meta: base(), offline: true, check: func(*testing.T, *meta.GCPStackdriverMetadata) {}},
		{name: "missing projectId", meta: map[string]string{"filter": filter}, auth: auth, wantErr: []string{"trigger 0 (gcp-stackdriver)", "metadata.projectId", "is required"}},
		{name: "missing filter", meta: map[string]string{"projectId": "p"}, auth: auth, wantErr: []string{"metadata.filter", "is required"}},
		{name: "project with a slash", meta: base("projectId", "projects/acme"), auth: auth, wantErr: []string{"metadata.projectId", "is not a project ID"}},
		{name: "zero target", meta: base("targetValue", "0"), auth: auth, wantErr: []string{"metadata.targetValue", "is 0", "above 0"}},
		{name: "negative target", meta: base("targetValue", "-1"), auth: auth, wantErr: []string{"metadata.targetValue"}},
		{name: "target not a number", meta: base("targetValue", "five"), auth: auth, wantErr: []string{"metadata.targetValue", "finite number"}},
		{name: "valueIfNull not a number", meta: base("valueIfNull", "null"), auth: auth, wantErr: []string{"metadata.valueIfNull"}},
		{name: "filterDuration not whole", meta: base("filterDuration", "1.5"), auth: auth, wantErr: []string{"metadata.filterDuration", "whole number"}},
		{name: "period under a minute", meta: base("alignmentPeriodSeconds", "30"), auth: auth, wantErr: []string{"metadata.alignmentPeriodSeconds", "is 30", "at least 60"}},
		{name: "negative period", meta: base("alignmentPeriodSeconds", "-60"), auth: auth, wantErr: []string{"metadata.alignmentPeriodSeconds"}},
		{name: "unknown aligner", meta: base("alignmentPeriodSeconds", "60", "alignmentAligner", "median"), auth: auth, wantErr: []string{"metadata.alignmentAligner", `"median" is not known`}},
		{name: "unknown reducer", meta: base("alignmentPeriodSeconds", "60", "alignmentAligner", "mean", "alignmentReducer", "rate"), auth: auth, wantErr: []string{"metadata.alignmentReducer", `"rate" is not known`}},
		{name: "no key anywhere", meta: base(), wantErr: []string{"GoogleApplicationCredentials", "is required", "pod identity gcp is not supported"}},
		{name: "credentialsFromEnv names an unset env var", meta: base("credentialsFromEnv", "GOOGLE_KEY"), env: map[string]string{}, wantErr: []string{"credentialsFromEnv", `"GOOGLE_KEY"`}},
		{name: "a key in the metadata is refused", meta: base("credentials", gcpTestKey), wantErr: []string{"metadata.credentials", "does not belong in the metadata"}},
	}
	runParseCases(t, "gcp-stackdriver", tests, "TESTKEYNEVERSHOWN", gcpTestKeyLine)
}

// TestGCPStackdriverAsMetricSource: a target of 0 is refused unless the trigger is a metric source
// of scalingModifiers, whose composite metric the HPA reads instead.
func TestGCPStackdriverAsMetricSource(t *testing.T) {
	meta := map[string]string{"projectId": "p1", "filter": `metric.type="x"`, "targetValue": "0"}
	auth := map[string]string{"GoogleApplicationCredentials": gcpTestKey}
	if err := ValidateTrigger(&Config{TriggerType: "gcp-stackdriver", TriggerMetadata: meta, AuthParams: auth}); err == nil {
		t.Error("a target of 0 was accepted outside scalingModifiers")
	}
	s, err := New(context.Background(), &Config{TriggerType: "gcp-stackdriver", TriggerMetadata: meta, AuthParams: auth, AsMetricSource: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if specs := s.GetMetricSpecForScaling(context.Background()); len(specs) != 1 || specs[0].External.Metric.Name != "s0-gcp-stackdriver-p1" {
		t.Errorf("metric specs %+v", specs)
	}
}

// TestGCPServiceAccount: what is wrong with a key is said without showing it.
func TestGCPServiceAccount(t *testing.T) {
	for _, tt := range []struct{ name, key, wantErr, tokenURI string }{
		{name: "Google's key", key: gcpTestKey, tokenURI: "https://oauth2.googleapis.com/token"},
		{name: "no token_uri: Google's", key: `{"type":"service_account","client_email":"a@b","private_key":` + gcpTestPEM + `}`, tokenURI: meta.GCPDefaultTokenURI},
		{name: "a token_uri of its own", key: `{"type":"service_account","client_email":"a@b","private_key":` + gcpTestPEM + `,"token_uri":"http://127.0.0.1:9/token"}`, tokenURI: "http://127.0.0.1:9/token"},
		{name: "not JSON", key: `TESTKEYNEVERSHOWN`, wantErr: "not a service account key's JSON"},
		{name: "a user's credentials", key: `{"type":"authorized_user","client_secret":"TESTKEYNEVERSHOWN"}`, wantErr: `type "authorized_user"`},
		{name: "no private key", key: `{"type":"service_account","client_email":"a@b"}`, wantErr: "lacks client_email or private_key"},
		{name: "bad token_uri", key: `{"type":"service_account","client_email":"a@b","private_key":"TESTKEYNEVERSHOWN","token_uri":"ftp:x"}`, wantErr: "token_uri"},
	} {
		sa, err := parseGCPServiceAccount([]byte(tt.key))
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "TESTKEYNEVERSHOWN") {
				t.Errorf("%s: %v, want an error mentioning %q", tt.name, err, tt.wantErr)
			}
		case err != nil || sa.TokenURI != tt.tokenURI:
			t.Errorf("%s: %+v, %v", tt.name, sa, err)
		}
	}
}

// TestGCPBuildChecks: a bad key, a missing key file and a bad endpoint override are refused
// when the scaler is built, naming the source and never the key.
func TestGCPBuildChecks(t *testing.T) {
	build := func(meta, auth, env map[string]string) error {
		s, err := New(context.Background(), &Config{TriggerType: "gcp-stackdriver", TriggerMetadata: meta, AuthParams: auth, ResolvedEnv: env})
		if err == nil {
			_ = s.Close(context.Background())
		}
		return err
	}
	meta := func(extra ...string) map[string]string {
		m := map[string]string{"projectId": "p1", "filter": `metric.type="x"`}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	if err := build(meta(), map[string]string{"GoogleApplicationCredentials": "TESTKEYNEVERSHOWN"}, nil); err == nil ||
		!strings.Contains(err.Error(), "GoogleApplicationCredentials") || !strings.Contains(err.Error(), "TriggerAuthentication") || strings.Contains(err.Error(), "TESTKEYNEVERSHOWN") {
		t.Errorf("a bad key: %v", err)
	}
	dir := t.TempDir()
	if err := build(meta("credentialsFromEnvFile", "KEYFILE"), nil, map[string]string{"KEYFILE": filepath.Join(dir, "missing.json")}); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("a missing key file: %v", err)
	}
	path := filepath.Join(dir, "key.json")
	if err := os.WriteFile(path, []byte(gcpTestKey), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := build(meta("credentialsFromEnvFile", "KEYFILE"), nil, map[string]string{"KEYFILE": path}); err != nil {
		t.Errorf("a key file: %v", err)
	}
	t.Setenv(gcpMonitoringEndpointEnv, "monitoring.local")
	if err := build(meta(), map[string]string{"GoogleApplicationCredentials": gcpTestKey}, nil); err == nil || !strings.Contains(err.Error(), gcpMonitoringEndpointEnv) {
		t.Errorf("a bad override: %v", err)
	}
}

// TestGCPListURL: the request KEDA's client makes, over REST: the project's timeSeries, the
// filter, the interval in whole seconds, and the aggregation only when a period is set.
func TestGCPListURL(t *testing.T) {
	base, err := gcpMonitoringBase("")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 9, 30, 15, 999e6, time.UTC)
	start, end := gcpRange(now, 0)
	r := &gcpListRequest{project: "acme-prod", filter: gcpProjectFilter(`metric.type="x"`, "acme-prod"), start: start, end: end}
	if got, want := gcpListURL(base, r, "").String(), "https://monitoring.googleapis.com/v3/projects/acme-prod/timeSeries?filter=metric.type%3D%22x%22+AND+resource.labels.project_id%3D%22acme-prod%22&interval.endTime=2026-12-07T09%3A30%3A15Z&interval.startTime=2026-12-07T09%3A28%3A15Z"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	r.agg = meta.GCPAggregation{Period: 3 * time.Minute, Aligner: "ALIGN_MEAN"}
	over, err := gcpMonitoringBase("http://127.0.0.1:8085/prefix")
	if err != nil {
		t.Fatal(err)
	}
	got := gcpListURL(over, r, "tok en")
	if got.Path != "/prefix/v3/projects/acme-prod/timeSeries" || got.Query().Get("aggregation.alignmentPeriod") != "180s" ||
		got.Query().Get("aggregation.perSeriesAligner") != "ALIGN_MEAN" || got.Query().Has("aggregation.crossSeriesReducer") || got.Query().Get("pageToken") != "tok en" {
		t.Errorf("got %s", got)
	}
	if s, _ := gcpRange(now, 10); !s.Equal(end.Add(-10 * time.Minute)) {
		t.Errorf("filterDuration 10: start %s", s)
	}
	if s, _ := gcpRange(now, -3); !s.Equal(start) {
		t.Errorf("filterDuration -3: start %s, want KEDA's 2 minutes", s)
	}
}

// TestGCPFirstPoint: the newest point of the first series, int64 (a JSON string) or double;
// nothing else is a value.
func TestGCPFirstPoint(t *testing.T) {
	series := func(points string) string {
		return `{"timeSeries":[{"metric":{"type":"x"},"points":` + points + `}],"unit":""}`
	}
	for _, tt := range []struct {
		name, body string
		want       float64
		noPoint    bool
		next       string
		wantErr    string
	}{
		{name: "int64 as a string", body: series(`[{"value":{"int64Value":"42"}},{"value":{"int64Value":"7"}}]`), want: 42},
		{name: "int64 as a number", body: series(`[{"value":{"int64Value":12}}]`), want: 12},
		{name: "double", body: series(`[{"value":{"doubleValue":0.25}}]`), want: 0.25},
		{name: "first series only", body: `{"timeSeries":[{"points":[{"value":{"int64Value":"1"}}]},{"points":[{"value":{"int64Value":"100"}}]}]}`, want: 1},
		{name: "no series", body: `{"unit":""}`, noPoint: true},
		{name: "an empty page with a next one", body: `{"nextPageToken":"abc"}`, noPoint: true, next: "abc"},
		{name: "a series without points", body: series(`[]`), noPoint: true},
		{name: "NaN", body: series(`[{"value":{"doubleValue":"NaN"}}]`), wantErr: "not a finite number"},
		{name: "Infinity", body: series(`[{"value":{"doubleValue":"Infinity"}}]`), wantErr: "not a finite number"},
		{name: "int64 out of range", body: series(`[{"value":{"int64Value":"99999999999999999999"}}]`), wantErr: "not a whole number"},
		{name: "bool", body: series(`[{"value":{"boolValue":true}}]`), wantErr: "a boolValue"},
		{name: "distribution", body: series(`[{"value":{"distributionValue":{"count":"3"}}}]`), wantErr: "alignmentAligner"},
		{name: "not JSON", body: `<html>`, wantErr: "not Cloud Monitoring's"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, next, err := gcpFirstPoint([]byte(tt.body))
			switch {
			case tt.noPoint:
				if !errors.Is(err, errGCPNoPoint) || next != tt.next {
					t.Errorf("got %g, %q, %v; want no point and next %q", v, next, err, tt.next)
				}
			case tt.wantErr != "":
				if err == nil || errors.Is(err, errGCPNoPoint) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %g, %v; want an error mentioning %q", v, err, tt.wantErr)
				}
			case err != nil || v != tt.want:
				t.Errorf("got %g, %v; want %g", v, err, tt.want)
			}
		})
	}
}

// TestGCPStatusError: Google's error JSON is quoted with the fix for the status.
func TestGCPStatusError(t *testing.T) {
	for _, tt := range []struct {
		status int
		body   string
		want   []string
	}{
		{403, `{"error":{"code":403,"message":"Permission monitoring.timeSeries.list denied (or the resource may not exist).","status":"PERMISSION_DENIED"}}`, []string{"403", "PERMISSION_DENIED", "roles/monitoring.viewer", "acme"}},
		{400, `{"error":{"code":400,"message":"Field filter had an invalid value","status":"INVALID_ARGUMENT"}}`, []string{"INVALID_ARGUMENT", "metadata.filter"}},
		{401, `{"error":{"code":401,"status":"UNAUTHENTICATED"}}`, []string{"UNAUTHENTICATED", "key is current"}},
		{429, `quota`, []string{"answer: quota", "pollingInterval"}},
		{502, ``, []string{"502 Bad Gateway"}},
	} {
		err := gcpStatusError(tt.status, []byte(tt.body), "acme", "check metadata.filter")
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%d: %q does not mention %q", tt.status, err, w)
			}
		}
	}
}

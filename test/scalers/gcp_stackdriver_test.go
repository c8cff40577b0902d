package scalers_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	gcpserver "github.com/kedactl/kedactl/test/servers/gcpmonitoring"
)

const (
	gcpTestProject = "acme-prod"
	gcpTestMetric  = "pubsub.googleapis.com/subscription/num_undelivered_messages"
	gcpTestFilter  = `metric.type="` + gcpTestMetric + `" AND resource.labels.subscription_id="orders"`
)

// startGCPMonitoring starts the fake and points the gcp-* triggers at it, as an operator does
// with CLOUDSDK_API_ENDPOINT_OVERRIDES_MONITORING; the key it returns names the fake's token
// endpoint. t.Setenv keeps these tests sequential.
func startGCPMonitoring(t *testing.T) (*gcpserver.Server, string) {
	t.Helper()
	srv := gcpserver.Start(t)
	t.Setenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_MONITORING", srv.URL)
	return srv, srv.NewServiceAccount(gcpTestProject, "keda")
}

// newStackdriverTrigger builds a gcp-stackdriver trigger; the key comes as from a
// TriggerAuthentication.
func newStackdriverTrigger(t *testing.T, key string, pool *scalers.ClientPool, extra ...string) scalers.Scaler {
	t.Helper()
	meta := map[string]string{"projectId": gcpTestProject, "filter": gcpTestFilter, "targetValue": "10", "activationTargetValue": "2"}
	for i := 0; i+1 < len(extra); i += 2 {
		meta[extra[i]] = extra[i+1]
	}
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "gcp-stackdriver", TriggerMetadata: meta,
		AuthParams: map[string]string{"GoogleApplicationCredentials": key}, Timeout: 5 * time.Second, Clients: pool})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func pollStackdriver(t *testing.T, s scalers.Scaler) (float64, bool, error) {
	t.Helper()
	const name = "s0-gcp-stackdriver-acme-prod"
	vals, active, err := s.GetMetricsAndActivity(context.Background(), name)
	if err != nil {
		return 0, false, err
	}
	if len(vals) != 1 || vals[0].MetricName != name {
		t.Fatalf("poll gave %+v", vals)
	}
	return vals[0].Value.AsApproximateFloat64(), active, nil
}

func setBacklog(srv *gcpserver.Server, subscription string, n int64) {
	srv.SetGauge(gcpTestProject, gcpTestMetric, "pubsub_subscription", map[string]string{"subscription_id": subscription}, n)
}

// TestGCPStackdriverListsTimeSeries: each poll is one timeSeries.list of the project with the
// filter restricted to the project (as KEDA words it), over the last two minutes in whole
// seconds, with a bearer token the service account's key got once from its token_uri (the
// fake's). The value is the newest point; active above activationTargetValue; the metric spec
// is KEDA's s0-gcp-stackdriver-<project> with the target.
func TestGCPStackdriverListsTimeSeries(t *testing.T) {
	srv, key := startGCPMonitoring(t)
	setBacklog(srv, "billing", 1000) // another subscription never counts
	s := newStackdriverTrigger(t, key, nil)
	specs := s.GetMetricSpecForScaling(context.Background())
	if len(specs) != 1 || specs[0].External.Metric.Name != "s0-gcp-stackdriver-acme-prod" || specs[0].External.Target.AverageValue.Value() != 10 {
		t.Fatalf("metric spec %+v", specs)
	}
	for _, tt := range []struct {
		value  int64
		active bool
	}{{0, false}, {2, false}, {3, true}, {420, true}} {
		setBacklog(srv, "orders", tt.value)
		v, active, err := pollStackdriver(t, s)
		if err != nil {
			t.Fatal(err)
		}
		if v != float64(tt.value) || active != tt.active {
			t.Errorf("backlog %d: read %g active %v, want active %v", tt.value, v, active, tt.active)
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests for 4 polls", len(reqs))
	}
	for _, r := range reqs {
		start, err1 := time.Parse(time.RFC3339, r.StartTime)
		end, err2 := time.Parse(time.RFC3339, r.EndTime)
		if r.Method != "GET" || r.Path != "/v3/projects/acme-prod/timeSeries" || r.Account != "keda@acme-prod.iam.gserviceaccount.com" || r.Status != 200 ||
			r.Filter != gcpTestFilter+` AND resource.labels.project_id="acme-prod"` || err1 != nil || err2 != nil || end.Sub(start) != 2*time.Minute ||
			time.Since(end) > time.Minute || r.AlignmentPeriod != "" || r.PerSeriesAligner != "" || r.Reducer != "" {
			t.Errorf("request %+v", r)
		}
	}
	toks := srv.TokenRequests()
	if len(toks) != 1 || toks[0].Status != 200 || toks[0].Scope != "https://www.googleapis.com/auth/monitoring.read" {
		t.Errorf("token requests %+v, want one for monitoring.read, reused", toks)
	}
}

// TestGCPStackdriverAggregation: with alignmentPeriodSeconds the request carries Cloud
// Monitoring's aggregation (period in seconds, the ALIGN_ and REDUCE_ enum names), and the value
// is the reduced series' point.
func TestGCPStackdriverAggregation(t *testing.T) {
	srv, key := startGCPMonitoring(t)
	const metric = "custom.googleapis.com/queue/depth"
	now := time.Now().Truncate(time.Second)
	for name, pts := range map[string][]int64{"a": {4, 9, 1}, "b": {5}} {
		var points []gcpserver.Point
		for i, v := range pts {
			points = append(points, gcpserver.Point{Time: now.Add(-time.Duration(10*(i+1)) * time.Second), Int: v})
		}
		srv.SetSeries(gcpTestProject, gcpserver.Series{MetricType: metric, ResourceType: "global", ResourceLabels: map[string]string{"project_id": gcpTestProject, "queue": name}, Points: points})
	}
	s := newStackdriverTrigger(t, key, nil, "filter", `metric.type="`+metric+`"`, "alignmentPeriodSeconds", "120", "alignmentAligner", "max", "alignmentReducer", "SUM")
	v, _, err := pollStackdriver(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if v != 14 { // max(4, 9, 1) + max(5)
		t.Errorf("read %g, want 14", v)
	}
	r := srv.Requests()[0]
	if r.AlignmentPeriod != "120s" || r.PerSeriesAligner != "ALIGN_MAX" || r.Reducer != "REDUCE_SUM" {
		t.Errorf("request %+v", r)
	}

	// A reducer without an aligner is Cloud Monitoring's 400, quoted with the fix.
	s = newStackdriverTrigger(t, key, nil, "filter", `metric.type="`+metric+`"`, "alignmentPeriodSeconds", "60", "alignmentReducer", "sum")
	if _, _, err := pollStackdriver(t, s); err == nil || !strings.Contains(err.Error(), "INVALID_ARGUMENT") || !strings.Contains(err.Error(), "per-series aligner") {
		t.Errorf("reducer without aligner: %v", err)
	}
}

// TestGCPStackdriverNoData: no series in the range is valueIfNull when set, otherwise an error
// naming the filter and the fix; filterDuration widens the range.
func TestGCPStackdriverNoData(t *testing.T) {
	srv, key := startGCPMonitoring(t)
	old := time.Now().Add(-4 * time.Minute).Truncate(time.Second)
	srv.SetSeries(gcpTestProject, gcpserver.Series{MetricType: gcpTestMetric, ResourceType: "pubsub_subscription",
		ResourceLabels: map[string]string{"project_id": gcpTestProject, "subscription_id": "orders"}, Points: []gcpserver.Point{{Time: old, Double: 7.5, IsDouble: true}}})

	if _, _, err := pollStackdriver(t, newStackdriverTrigger(t, key, nil)); err == nil || !strings.Contains(err.Error(), "valueIfNull") ||
		!strings.Contains(err.Error(), "trigger 0 (gcp-stackdriver)") || !strings.Contains(err.Error(), "subscription_id") {
		t.Errorf("no data: %v", err)
	}
	v, active, err := pollStackdriver(t, newStackdriverTrigger(t, key, nil, "valueIfNull", "2.5"))
	if err != nil || v != 2.5 || !active {
		t.Errorf("no data with valueIfNull 2.5: %g %v %v", v, active, err)
	}
	v, _, err = pollStackdriver(t, newStackdriverTrigger(t, key, nil, "filterDuration", "5"))
	if err != nil || v != 7.5 {
		t.Errorf("filterDuration 5: %g %v", v, err)
	}
}

// TestGCPStackdriverRefusals: a project the account may not read, a key Google no longer
// accepts and a key for another token endpoint fail with the fix, never showing the key or a
// token.
func TestGCPStackdriverRefusals(t *testing.T) {
	srv, key := startGCPMonitoring(t)
	var sa struct {
		PrivateKey  string `json:"private_key"`
		ClientEmail string `json:"client_email"`
	}
	if err := json.Unmarshal([]byte(key), &sa); err != nil {
		t.Fatal(err)
	}
	keyBody := strings.Split(sa.PrivateKey, "\n")[1]
	check := func(name string, err error, want ...string) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		for _, w := range append(want, "trigger 0 (gcp-stackdriver)") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not mention %q", name, err, w)
			}
		}
		if strings.Contains(err.Error(), keyBody) || strings.Contains(err.Error(), "ya29.") {
			t.Errorf("%s: %q shows a credential", name, err)
		}
	}
	_, _, err := pollStackdriver(t, newStackdriverTrigger(t, key, nil, "projectId", "someone-else"))
	check("another project", err, "403", "PERMISSION_DENIED", "roles/monitoring.viewer on project someone-else")

	_, _, err = pollStackdriver(t, newStackdriverTrigger(t, key, nil, "filter", `resource.type="global"`))
	check("no metric type", err, "400", "must specify a metric type", "metadata.filter")

	// A key of another issuer that names this token endpoint: the grant is refused.
	other := gcpserver.Start(t)
	stranger := strings.Replace(other.NewServiceAccount(gcpTestProject, "stranger"), other.TokenURI, srv.TokenURI, 1)
	_, _, err = pollStackdriver(t, newStackdriverTrigger(t, stranger, nil))
	check("a key the token endpoint never issued", err, "token_uri", "invalid_grant")

	srv.DisableServiceAccount(sa.ClientEmail)
	_, _, err = pollStackdriver(t, newStackdriverTrigger(t, key, nil))
	check("a disabled key", err, "refused the key", "invalid_grant", "GoogleApplicationCredentials")
}

// TestGCPStackdriverSharesTokenAndTransport: triggers with the same key share one token (one
// token request) and one transport; a trigger with another key gets its own token.
func TestGCPStackdriverSharesTokenAndTransport(t *testing.T) {
	srv, key := startGCPMonitoring(t)
	setBacklog(srv, "orders", 5)
	pool := scalers.NewClientPool()
	defer pool.Close()
	a := newStackdriverTrigger(t, key, pool)
	b := newStackdriverTrigger(t, key, pool, "activationTargetValue", "0")
	c := newStackdriverTrigger(t, srv.NewServiceAccount(gcpTestProject, "other"), pool)
	for i := 0; i < 3; i++ {
		for _, s := range []scalers.Scaler{a, b, c} {
			if _, _, err := pollStackdriver(t, s); err != nil {
				t.Fatal(err)
			}
		}
	}
	if toks := srv.TokenRequests(); len(toks) != 2 {
		t.Errorf("%d token requests for two keys: %+v", len(toks), toks)
	}
	conns := map[string]bool{}
	for _, r := range srv.Requests() {
		conns[r.RemoteAddr] = true
	}
	// Sequential polls on one shared transport reuse one connection; the token requests went
	// over it too.
	if len(conns) != 1 {
		t.Errorf("%d connections for sequential polls of three triggers: %v", len(conns), conns)
	}
}

package scalers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	cwserver "github.com/kedactl/kedactl/test/servers/cloudwatch"
)

// TestAWSCloudWatchScalerContract runs the aws-cloudwatch trigger against the CloudWatch fake
// (GetMetricData in AWS JSON 1.1, SigV4 verified for "monitoring"): the value is the newest
// period's statistic of the metric with its dimensions, or an expression's newest value, within
// KEDA's window; no data gives minMetricValue, or an error with ignoreNullValues false; refused
// credentials, a refused statistic and an endpoint with nothing listening each say what to
// check, without the secret.
func TestAWSCloudWatchScalerContract(t *testing.T) {
	ctx := context.Background()
	const secret, token = "cloudwatch/contract-secret", "cloudwatch-session-token"
	srv := cwserver.Start(t, cwserver.Options{Region: "us-west-2", AccessKeyID: "AKIDCW", SecretAccessKey: secret, SessionToken: token})
	pool := scalers.NewClientPool()
	defer pool.Close()
	auth := map[string]string{"awsAccessKeyID": "AKIDCW", "awsSecretAccessKey": secret, "awsSessionToken": token}
	build := func(auth map[string]string, extra ...string) scalers.Scaler {
		meta := map[string]string{"namespace": "Shop", "metricName": "Backlog", "dimensionName": "Service;Stage", "dimensionValue": "orders;prod",
			"metricStat": "Maximum", "metricStatPeriod": "60", "metricCollectionTime": "300", "targetMetricValue": "2.5", "minMetricValue": "0.5",
			"activationTargetMetricValue": "1", "awsRegion": "us-west-2", "awsEndpoint": srv.URL}
		for i := 0; i+1 < len(extra); i += 2 {
			meta[extra[i]] = extra[i+1]
			if extra[i+1] == "" {
				delete(meta, extra[i])
			}
		}
		s, err := scalers.New(ctx, &scalers.Config{TriggerType: "aws-cloudwatch", TriggerMetadata: meta, AuthParams: auth, Clients: pool, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(ctx) })
		return s
	}
	metric := build(auth)
	strict := build(auth, "ignoreNullValues", "false")
	expr := build(auth, "expression", "SELECT MAX(Backlog) FROM Shop", "namespace", "", "metricName", "", "dimensionName", "", "dimensionValue", "")
	if pool.Len() != 1 {
		t.Errorf("three triggers of one identity hold %d clients, want 1", pool.Len())
	}
	if spec := metric.GetMetricSpecForScaling(ctx)[0].External; spec.Metric.Name != "s0-aws-cloudwatch" || spec.Target.AverageValue.MilliValue() != 2500 {
		t.Errorf("metric %s target %v", spec.Metric.Name, spec.Target.AverageValue)
	}
	check := func(step string, s scalers.Scaler, wantMilli int64, wantActive bool) {
		t.Helper()
		m, active, err := s.GetMetricsAndActivity(ctx, "s0-aws-cloudwatch")
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if got := m[0].Value.MilliValue(); got != wantMilli || active != wantActive {
			t.Errorf("%s: %dm (active %v), want %dm (active %v)", step, got, active, wantMilli, wantActive)
		}
	}
	dims := []cwserver.Dimension{{Name: "Stage", Value: "prod"}, {Name: "Service", Value: "orders"}}
	check("no data: minMetricValue", metric, 500, false)
	if _, _, err := strict.GetMetricsAndActivity(ctx, "s0-aws-cloudwatch"); err == nil || !strings.Contains(err.Error(), "ignoreNullValues is false") {
		t.Errorf("no data with ignoreNullValues false: %v", err)
	}
	// The newest whole minute before now is the window's last period; older points are older periods.
	last := time.Now().Truncate(time.Minute).Add(-time.Minute)
	srv.Put("Shop", "Backlog", dims, last.Add(-3*time.Minute), 40)
	srv.Put("Shop", "Backlog", dims, last.Add(10*time.Second), 3)
	srv.Put("Shop", "Backlog", dims, last.Add(20*time.Second), 7.25)
	srv.Put("Shop", "Backlog", []cwserver.Dimension{{Name: "Service", Value: "orders"}}, last.Add(10*time.Second), 99)
	check("the newest minute's maximum", metric, 7250, true)
	srv.SetExpression("SELECT MAX(Backlog) FROM Shop", 0.75, 12)
	check("the expression's newest value", expr, 750, false)

	reqs := srv.Requests()
	in := reqs[len(reqs)-2].Input
	if r := reqs[len(reqs)-2]; r.Target != "GraniteServiceVersion20100801.GetMetricData" || r.AccessKeyID != "AKIDCW" || r.Region != "us-west-2" ||
		in.EndTime-in.StartTime != 300 || in.ScanBy != "TimestampDescending" || in.MetricDataQueries[0].MetricStat.Stat != "Maximum" {
		t.Errorf("metric request %+v", r)
	}
	if q := reqs[len(reqs)-1].Input.MetricDataQueries[0]; q.Id != "q1" || q.Period != 60 {
		t.Errorf("expression query %+v", q)
	}

	fail := func(step string, s scalers.Scaler, want ...string) {
		t.Helper()
		_, _, err := s.GetMetricsAndActivity(ctx, "s0-aws-cloudwatch")
		if err == nil {
			t.Fatalf("%s: no error", step)
		}
		t.Logf("%s: %v", step, err)
		for _, w := range append(want, "trigger 0 (aws-cloudwatch)") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", step, err, w)
			}
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), token) {
			t.Errorf("%s: error %q shows a credential", step, err)
		}
	}
	fail("a wrong secret", build(map[string]string{"awsAccessKeyID": "AKIDCW", "awsSecretAccessKey": secret + "x", "awsSessionToken": token}), "SignatureDoesNotMatch", "awsSecretAccessKey")
	fail("an unknown key", build(map[string]string{"awsAccessKeyID": "AKIDOTHER", "awsSecretAccessKey": secret}), "InvalidClientTokenId", "awsAccessKeyID")
	fail("a statistic CloudWatch refuses", build(auth, "metricStat", "Median"), "InvalidParameterValue", "metricStat")
	fail("nothing listening", build(auth, "awsEndpoint", "http://127.0.0.1:1"), "awsEndpoint")
}

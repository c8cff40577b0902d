package scalers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
)

// pollGCP polls a gcp-* trigger once for metric name.
func pollGCP(t *testing.T, s scalers.Scaler, name string) (float64, bool, error) {
	t.Helper()
	vals, active, err := s.GetMetricsAndActivity(context.Background(), name)
	if err != nil {
		return 0, false, err
	}
	if len(vals) != 1 || vals[0].MetricName != name {
		t.Fatalf("poll gave %+v", vals)
	}
	return vals[0].Value.AsApproximateFloat64(), active, nil
}

func newGCPTrigger(t *testing.T, typ, key string, meta map[string]string) scalers.Scaler {
	t.Helper()
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: typ, TriggerMetadata: meta,
		AuthParams: map[string]string{"GoogleApplicationCredentials": key}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// TestGCPPubSubQueriesMQL: each poll is one timeSeries.query of the key's project (or the one
// a full subscription name gives) with KEDA's MQL for the subscription's undelivered messages;
// the value is the first point, active above activationValue; the metric name is KEDA's
// s0-gcp-ps-<name>. An aggregation asks for it in the query; no data is valueIfNull or an error.
func TestGCPPubSubQueriesMQL(t *testing.T) {
	srv, key := startGCPMonitoring(t)
	const metric = "pubsub.googleapis.com/subscription/num_undelivered_messages"
	srv.SetGauge(gcpTestProject, metric, "pubsub_subscription", map[string]string{"subscription_id": "orders"}, 7)
	srv.SetGauge(gcpTestProject, metric, "pubsub_subscription", map[string]string{"subscription_id": "other"}, 1000)

	s := newGCPTrigger(t, "gcp-pubsub", key, map[string]string{"subscriptionName": "orders", "value": "5", "activationValue": "6"})
	if specs := s.GetMetricSpecForScaling(context.Background()); len(specs) != 1 || specs[0].External.Metric.Name != "s0-gcp-ps-orders" ||
		specs[0].External.Target.AverageValue.Value() != 5 {
		t.Fatalf("metric spec %+v", specs)
	}
	v, active, err := pollGCP(t, s, "s0-gcp-ps-orders")
	if err != nil || v != 7 || !active {
		t.Fatalf("read %g active %v: %v", v, active, err)
	}
	r := srv.Requests()[0]
	if r.Method != "POST" || r.Path != "/v3/projects/acme-prod/timeSeries:query" || r.Status != 200 || r.Account != "keda@acme-prod.iam.gserviceaccount.com" ||
		r.Query != "fetch pubsub_subscription | metric '"+metric+"' | filter (resource.project_id == 'acme-prod' && resource.subscription_id == 'orders') | within 2m0s" {
		t.Errorf("request %+v", r)
	}

	// A full name reads its own project; the account may not read it: Google's 403 with the fix.
	s = newGCPTrigger(t, "gcp-pubsub", key, map[string]string{"subscriptionName": "projects/someone-else/subscriptions/orders"})
	if _, _, err := pollGCP(t, s, "s0-gcp-ps-projects-someone-else-subscriptions-orders"); err == nil || !strings.Contains(err.Error(), "PERMISSION_DENIED") ||
		!strings.Contains(err.Error(), "roles/monitoring.viewer on project someone-else") {
		t.Errorf("another project: %v", err)
	}

	// count over the alignment period: one sample.
	s = newGCPTrigger(t, "gcp-pubsub", key, map[string]string{"subscriptionName": "orders", "aggregation": "count"})
	if v, _, err := pollGCP(t, s, "s0-gcp-ps-orders"); err != nil || v != 1 {
		t.Errorf("count: %g %v", v, err)
	}

	// No data: an error naming the fix, or valueIfNull.
	s = newGCPTrigger(t, "gcp-pubsub", key, map[string]string{"subscriptionName": "idle-sub"})
	if _, _, err := pollGCP(t, s, "s0-gcp-ps-idle-sub"); err == nil || !strings.Contains(err.Error(), "valueIfNull") || !strings.Contains(err.Error(), "trigger 0 (gcp-pubsub)") {
		t.Errorf("no data: %v", err)
	}
	s = newGCPTrigger(t, "gcp-pubsub", key, map[string]string{"subscriptionName": "idle-sub", "valueIfNull": "0"})
	if v, active, err := pollGCP(t, s, "s0-gcp-ps-idle-sub"); err != nil || v != 0 || active {
		t.Errorf("no data with valueIfNull 0: %g %v %v", v, active, err)
	}
}

// TestGCPCloudTasksReadsQueueDepth: each poll is one timeSeries.list of the queue's depth
// (cloudtasks.googleapis.com/queue/depth for resource.labels.queue_id, restricted to the
// project); the value is the newest point; no data is an error, as in KEDA.
func TestGCPCloudTasksReadsQueueDepth(t *testing.T) {
	srv, key := startGCPMonitoring(t)
	const metric = "cloudtasks.googleapis.com/queue/depth"
	srv.SetGauge(gcpTestProject, metric, "cloud_tasks_queue", map[string]string{"queue_id": "mails", "target_type": "app_engine"}, 250)
	s := newGCPTrigger(t, "gcp-cloudtasks", key, map[string]string{"queueName": "mails", "projectID": gcpTestProject, "activationValue": "5"})
	if specs := s.GetMetricSpecForScaling(context.Background()); len(specs) != 1 || specs[0].External.Metric.Name != "s0-gcp-ct-mails" ||
		specs[0].External.Target.AverageValue.Value() != 100 {
		t.Fatalf("metric spec %+v", specs)
	}
	v, active, err := pollGCP(t, s, "s0-gcp-ct-mails")
	if err != nil || v != 250 || !active {
		t.Fatalf("read %g active %v: %v", v, active, err)
	}
	r := srv.Requests()[0]
	if r.Path != "/v3/projects/acme-prod/timeSeries" || r.Status != 200 ||
		r.Filter != `metric.type="`+metric+`" AND resource.labels.queue_id="mails" AND resource.labels.project_id="acme-prod"` {
		t.Errorf("request %+v", r)
	}
	s = newGCPTrigger(t, "gcp-cloudtasks", key, map[string]string{"queueName": "missing", "projectID": gcpTestProject})
	if _, _, err := pollGCP(t, s, "s0-gcp-ct-missing"); err == nil || !strings.Contains(err.Error(), "metadata.queueName") {
		t.Errorf("no such queue: %v", err)
	}
}

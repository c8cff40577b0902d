package scalers

import (
	"context"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseGCPPubSubMetadata(t *testing.T) {
	auth := map[string]string{"GoogleApplicationCredentials": gcpTestKey}
	tests := []parseCase[meta.GCPPubSubMetadata]{
		{name: "defaults", meta: map[string]string{"subscriptionName": "orders"}, auth: auth, check: func(t *testing.T, m *meta.GCPPubSubMetadata) {
			if m.Mode != "SubscriptionSize" || m.Value != 10 || m.ActivationValue != 0 || m.ResourceType != "subscription" || m.ResourceID != "orders" || m.Project != "" ||
				m.MetricType != "pubsub.googleapis.com/subscription/num_undelivered_messages" || m.MqlAgg != "" || m.ValueIfNull != nil {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "a topic with its project, a mode, an aggregation", meta: map[string]string{"topicName": "projects/acme-prod/topics/events", "mode": "MessageSizes",
			"aggregation": "percentile99", "value": "2", "activationValue": "1", "timeHorizon": "10m", "valueIfNull": "0"}, auth: auth,
			check: func(t *testing.T, m *meta.GCPPubSubMetadata) {
				if m.ResourceType != "topic" || m.ResourceID != "events" || m.Project != "acme-prod" || m.MetricType != "pubsub.googleapis.com/topic/message_sizes" ||
					m.MqlAgg != "percentile(value, 99)" || m.TimeHorizon != 10*time.Minute || m.ValueIfNull == nil {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "subscriptionName from the target's env", meta: map[string]string{"subscriptionNameFromEnv": "SUB"}, env: map[string]string{"SUB": "jobs"}, auth: auth,
			check: func(t *testing.T, m *meta.GCPPubSubMetadata) {
				if m.ResourceID != "jobs" {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "the removed subscriptionSize is read and ignored, as KEDA", meta: map[string]string{"subscriptionName": "orders", "subscriptionSize": "5"}, auth: auth,
			check: func(t *testing.T, m *meta.GCPPubSubMetadata) {
				if m.Value != 10 {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "neither subscription nor topic", meta: map[string]string{}, auth: auth, wantErr: []string{"metadata.subscriptionName", "both unset"}},
		{name: "both", meta: map[string]string{"subscriptionName": "a1b", "topicName": "c1d"}, auth: auth, wantErr: []string{"both set"}},
		{name: "a name Pub/Sub refuses", meta: map[string]string{"subscriptionName": "goog-orders"}, auth: auth, wantErr: []string{"metadata.subscriptionName", "not goog"}},
		{name: "too short", meta: map[string]string{"topicName": "ab"}, auth: auth, wantErr: []string{"metadata.topicName"}},
		{name: "unknown aggregation", meta: map[string]string{"subscriptionName": "orders", "aggregation": "percentile101"}, auth: auth, wantErr: []string{"metadata.aggregation", "percentileN"}},
		{name: "mode not a name", meta: map[string]string{"subscriptionName": "orders", "mode": "num undelivered"}, auth: auth, wantErr: []string{"metadata.mode"}},
		{name: "zero value", meta: map[string]string{"subscriptionName": "orders", "value": "0"}, auth: auth, wantErr: []string{"metadata.value", "above 0"}},
		{name: "timeHorizon not a duration", meta: map[string]string{"subscriptionName": "orders", "timeHorizon": "5"}, auth: auth, wantErr: []string{"metadata.timeHorizon"}},
		{name: "no key", meta: map[string]string{"subscriptionName": "orders"}, wantErr: []string{"GoogleApplicationCredentials", "is required"}},
	}
	runParseCases(t, "gcp-pubsub", tests, "TESTKEYNEVERSHOWN")
}

// TestGCPPubSubQuery: the MQL KEDA builds, its metric name, and the project from the key when the
// name has none.
func TestGCPPubSubQuery(t *testing.T) {
	for _, tt := range []struct {
		meta             map[string]string
		wantQuery, wantN string
	}{
		{map[string]string{"subscriptionName": "orders"},
			"fetch pubsub_subscription | metric 'pubsub.googleapis.com/subscription/num_undelivered_messages' | filter (resource.project_id == 'acme-prod' && resource.subscription_id == 'orders') | within 2m0s",
			"s0-gcp-ps-orders"},
		{map[string]string{"subscriptionName": "projects/other-1/subscriptions/orders", "mode": "OldestUnackedMessageAge", "aggregation": "sum"},
			"fetch pubsub_subscription | metric 'pubsub.googleapis.com/subscription/oldest_unacked_message_age' | filter (resource.project_id == 'other-1' && resource.subscription_id == 'orders') | within 5m0s | align delta(3m0s) | every 3m0s | group_by [], sum(value)",
			"s0-gcp-ps-projects-other-1-subscriptions-orders"},
		{map[string]string{"topicName": "events", "timeHorizon": "90s"},
			"fetch pubsub_topic | metric 'pubsub.googleapis.com/topic/num_undelivered_messages' | filter (resource.project_id == 'acme-prod' && resource.topic_id == 'events') | within 1m30s",
			"s0-gcp-ps-events"},
	} {
		s, err := New(context.Background(), &Config{TriggerType: "gcp-pubsub", TriggerMetadata: tt.meta, AuthParams: map[string]string{"GoogleApplicationCredentials": gcpTestKey}})
		if err != nil {
			t.Fatal(err)
		}
		ps := s.(*gcpPubSubScaler)
		if ps.query != tt.wantQuery || ps.metricName != tt.wantN {
			t.Errorf("%v:\n got %s (%s)\nwant %s (%s)", tt.meta, ps.query, ps.metricName, tt.wantQuery, tt.wantN)
		}
		_ = s.Close(context.Background())
	}
	for in, want := range map[string]string{"NumUndeliveredMessages": "num_undelivered_messages", "OldestUnackedMessageAge": "oldest_unacked_message_age",
		"SendRequestCount": "send_request_count", "AckMessageCount": "ack_message_count", "DeadLetterMessageCount": "dead_letter_message_count", "Byte2Count": "byte2_count"} {
		if got := meta.GCPSnakeCase(in); got != want {
			t.Errorf("gcpSnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseGCPCloudTasksMetadata(t *testing.T) {
	auth := map[string]string{"GoogleApplicationCredentials": gcpTestKey}
	tests := []parseCase[meta.GCPCloudTasksMetadata]{
		{name: "defaults", meta: map[string]string{"queueName": "mails", "projectID": "acme-prod"}, auth: auth, check: func(t *testing.T, m *meta.GCPCloudTasksMetadata) {
			if m.Value != 100 || m.ActivationValue != 0 || m.FilterDuration != 0 || m.QueueName != "mails" || m.ProjectID != "acme-prod" {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "missing queueName", meta: map[string]string{"projectID": "p"}, auth: auth, wantErr: []string{"metadata.queueName", "is required"}},
		{name: "missing projectID", meta: map[string]string{"queueName": "q"}, auth: auth, wantErr: []string{"metadata.projectID", "is required"}},
		{name: "zero value", meta: map[string]string{"queueName": "q", "projectID": "p", "value": "0"}, auth: auth, wantErr: []string{"metadata.value"}},
		{name: "no key", meta: map[string]string{"queueName": "q", "projectID": "p"}, wantErr: []string{"GoogleApplicationCredentials"}},
	}
	runParseCases(t, "gcp-cloudtasks", tests, "TESTKEYNEVERSHOWN")
	s, err := New(context.Background(), &Config{TriggerType: "gcp-cloudtasks", TriggerMetadata: map[string]string{"queueName": `odd"queue\`, "projectID": "p1"}, AuthParams: auth})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	ct := s.(*gcpCloudTasksScaler)
	if want := `metric.type="cloudtasks.googleapis.com/queue/depth" AND resource.labels.queue_id="odd\"queue\\" AND resource.labels.project_id="p1"`; ct.filter != want {
		t.Errorf("filter %s, want %s", ct.filter, want)
	}
	if ct.metricName != `s0-gcp-ct-odd-queue\` {
		t.Errorf("metric name %s", ct.metricName)
	}
}

package scalers

import (
	"context"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

func TestParseAWSSQSQueueMetadata(t *testing.T) {
	const queueURL = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"
	base := func(extra ...string) map[string]string {
		m := map[string]string{"queueURL": queueURL, "awsRegion": "eu-west-1"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	keys := map[string]string{"awsAccessKeyID": "AKIDEXAMPLE", "awsSecretAccessKey": "wJalrXUtnFEMI-secret"}
	tests := []parseCase[meta.AWSSQSQueueMetadata]{
		{name: "defaults", meta: base(), auth: keys, check: func(t *testing.T, m *meta.AWSSQSQueueMetadata) {
			if m.QueueLength != 5 || m.ActivationQueueLength != 0 || !m.ScaleOnInFlight || m.ScaleOnDelayed || m.QueueName != "orders" ||
				strings.Join(m.Attributes, ",") != meta.SQSAttrVisible+","+meta.SQSAttrInFlight || m.Creds.AccessKeyID != "AKIDEXAMPLE" {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "everything", meta: base("queueLength", "10", "activationQueueLength", "3", "scaleOnInFlight", "false", "scaleOnDelayed", "true",
			"awsEndpoint", "http://127.0.0.1:4566"), auth: map[string]string{"awsAccessKeyId": "AKID2", "awsSecretAccessKey": "s", "awsSessionToken": "tok"},
			check: func(t *testing.T, m *meta.AWSSQSQueueMetadata) {
				if m.QueueLength != 10 || m.ActivationQueueLength != 3 || strings.Join(m.Attributes, ",") != meta.SQSAttrVisible+","+meta.SQSAttrDelayed ||
					m.AwsEndpoint != "http://127.0.0.1:4566" || m.Creds.AccessKeyID != "AKID2" || m.Creds.SessionToken != "tok" {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "queue name instead of a URL", meta: base("queueURL", "orders"), auth: keys, check: func(t *testing.T, m *meta.AWSSQSQueueMetadata) {
			if m.QueueName != "orders" {
				t.Errorf("queue name %q", m.QueueName)
			}
		}},
		{name: "queueURL from env", meta: map[string]string{"queueURLFromEnv": "QUEUE", "awsRegion": "eu-west-1"}, auth: keys,
			env: map[string]string{"QUEUE": queueURL}, check: func(t *testing.T, m *meta.AWSSQSQueueMetadata) {
				if m.QueueURL != queueURL {
					t.Errorf("queue URL %q", m.QueueURL)
				}
			}},
		{name: "awsRegion from the TriggerAuthentication", meta: map[string]string{"queueURL": queueURL},
			auth: map[string]string{"awsRegion": "us-east-2", "awsRoleArn": "arn:aws:iam::123456789012:role/keda"},
			check: func(t *testing.T, m *meta.AWSSQSQueueMetadata) {
				if m.AwsRegion != "us-east-2" || m.Creds.RoleArn == "" || m.Creds.Static() {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "the operator's identity", meta: base("identityOwner", "operator"), check: func(t *testing.T, m *meta.AWSSQSQueueMetadata) {
			if m.Creds != (meta.AWSCredentials{}) {
				t.Errorf("credentials %+v", m.Creds)
			}
		}},
		{name: "deprecated keys in metadata and env", meta: base("awsAccessKeyID", "AKID3", "awsSecretAccessKeyFromEnv", "SECRET"),
			env: map[string]string{"SECRET": "s3"}, check: func(t *testing.T, m *meta.AWSSQSQueueMetadata) {
				if m.Creds.AccessKeyID != "AKID3" || m.Creds.SecretAccessKey != "s3" {
					t.Errorf("credentials %+v", m.Creds)
				}
			}},
		{name: "offline with a TriggerAuthentication", meta: base(), offline: true, check: func(t *testing.T, m *meta.AWSSQSQueueMetadata) {}},

		{name: "missing queueURL", meta: map[string]string{"awsRegion": "eu-west-1"}, auth: keys, wantErr: []string{"trigger 0 (aws-sqs-queue)", "metadata.queueURL", "is required"}},
		{name: "missing awsRegion", meta: map[string]string{"queueURL": queueURL}, auth: keys, wantErr: []string{"metadata.awsRegion", "is required"}},
		{name: "queueURL without a queue", meta: base("queueURL", "https://sqs.eu-west-1.amazonaws.com/123456789012/"), auth: keys,
			wantErr: []string{"metadata.queueURL", "no queue name", "<account id>/<queue name>"}},
		{name: "queueURL with a deeper path", meta: base("queueURL", "https://sqs.eu-west-1.amazonaws.com/a/b/c"), auth: keys, wantErr: []string{"metadata.queueURL"}},
		{name: "queueLength 0", meta: base("queueLength", "0"), auth: keys, wantErr: []string{"metadata.queueLength", "at least 1"}},
		{name: "queueLength not a number", meta: base("queueLength", "many"), auth: keys, wantErr: []string{"metadata.queueLength"}},
		{name: "negative activationQueueLength", meta: base("activationQueueLength", "-1"), auth: keys, wantErr: []string{"metadata.activationQueueLength", "not be negative"}},
		{name: "bad scaleOnInFlight", meta: base("scaleOnInFlight", "maybe"), auth: keys, wantErr: []string{"metadata.scaleOnInFlight"}},
		{name: "bad identityOwner", meta: base("identityOwner", "someone"), auth: keys, wantErr: []string{"metadata.identityOwner", "pod, operator"}},
		{name: "awsEndpoint not a URL", meta: base("awsEndpoint", "localhost:4566"), auth: keys, wantErr: []string{"metadata.awsEndpoint", "http(s) URL"}},
		{name: "no credentials", meta: base(), wantErr: []string{"awsAccessKeyID", "no AWS credentials", "identityOwner: operator"}},
		{name: "key without secret", meta: base(), auth: map[string]string{"awsAccessKeyID": "AKID"}, wantErr: []string{"awsSecretAccessKey", "is required"}},
		{name: "deprecated key without secret", meta: base("awsAccessKeyID", "AKID"), wantErr: []string{"awsSecretAccessKey", "is required"}},
	}
	runParseCases(t, "aws-sqs-queue", tests, "wJalrXUtnFEMI-secret")
}

// TestAWSSQSQueueMetricSpec: KEDA's metric name (aws-sqs-<queue name>, normalized) and the
// target from queueLength, Value or AverageValue as the trigger asks; a ScaledJob reads the same.
func TestAWSSQSQueueMetricSpec(t *testing.T) {
	for _, tt := range []struct {
		queueURL, metricType, wantName string
	}{
		{queueURL: "https://sqs.eu-west-1.amazonaws.com/123456789012/orders", wantName: "s1-aws-sqs-orders"},
		{queueURL: "https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo", metricType: "Value", wantName: "s1-aws-sqs-orders-fifo"},
		{queueURL: "my-queue", wantName: "s1-aws-sqs-my-queue"},
	} {
		cfg := &Config{TriggerType: "aws-sqs-queue", TriggerIndex: 1, MetricType: autoscalingv2.MetricTargetType(tt.metricType), Timeout: time.Second,
			TriggerMetadata: map[string]string{"queueURL": tt.queueURL, "awsRegion": "eu-west-1", "queueLength": "7"},
			AuthParams:      map[string]string{"awsAccessKeyID": "AKID", "awsSecretAccessKey": "s"}}
		s, err := New(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		specs := s.GetMetricSpecForScaling(context.Background())
		if len(specs) != 1 || specs[0].External.Metric.Name != tt.wantName {
			t.Fatalf("specs %+v, want the name %s", specs, tt.wantName)
		}
		target := specs[0].External.Target
		want := autoscalingv2.AverageValueMetricType
		if tt.metricType == "Value" {
			want = autoscalingv2.ValueMetricType
		}
		if target.Type != want || (want == autoscalingv2.ValueMetricType && target.Value.Value() != 7) || (want != autoscalingv2.ValueMetricType && target.AverageValue.Value() != 7) {
			t.Errorf("target %+v", target)
		}
		_ = s.Close(context.Background())
	}
}

func TestSumSQSAttributes(t *testing.T) {
	all := []string{meta.SQSAttrVisible, meta.SQSAttrInFlight, meta.SQSAttrDelayed}
	for _, tt := range []struct {
		name    string
		attrs   map[string]string
		want    int64
		wantErr string
	}{
		{name: "sum", attrs: map[string]string{meta.SQSAttrVisible: "3", meta.SQSAttrInFlight: "2", meta.SQSAttrDelayed: "1"}, want: 6},
		{name: "held at the largest count", attrs: map[string]string{meta.SQSAttrVisible: "9223372036854775807", meta.SQSAttrInFlight: "5", meta.SQSAttrDelayed: "0"}, want: math.MaxInt64},
		{name: "missing", attrs: map[string]string{meta.SQSAttrVisible: "3", meta.SQSAttrInFlight: "2"}, wantErr: "did not return the attribute " + meta.SQSAttrDelayed},
		{name: "negative", attrs: map[string]string{meta.SQSAttrVisible: "-3", meta.SQSAttrInFlight: "2", meta.SQSAttrDelayed: "1"}, wantErr: "not a count"},
		{name: "not a number", attrs: map[string]string{meta.SQSAttrVisible: "lots", meta.SQSAttrInFlight: "2", meta.SQSAttrDelayed: "1"}, wantErr: "not a count"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n, err := sumSQSAttributes(tt.attrs, all)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || n != tt.want {
				t.Fatalf("%d, %v; want %d", n, err, tt.want)
			}
		})
	}
}

// TestSQSClientSharing: triggers of the same region, endpoint and credentials share one client;
// another secret is another client, and the pool's keys do not hold the secret.
func TestSQSClientSharing(t *testing.T) {
	pool := NewClientPool()
	build := func(secret string) Scaler {
		cfg := &Config{TriggerType: "aws-sqs-queue", Timeout: time.Second, Clients: pool,
			TriggerMetadata: map[string]string{"queueURL": "https://sqs.eu-west-1.amazonaws.com/1/q", "awsRegion": "eu-west-1"},
			AuthParams:      map[string]string{"awsAccessKeyID": "AKID", "awsSecretAccessKey": secret}}
		s, err := New(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b, c := build("secret-one"), build("secret-one"), build("secret-two")
	if pool.Len() != 2 {
		t.Errorf("%d shared clients, want 2", pool.Len())
	}
	for id := range pool.entries {
		if strings.Contains(id, "secret") || strings.Contains(id, "AKID") {
			t.Errorf("pool key %q shows a credential", id)
		}
	}
	for _, s := range []Scaler{a, b, c} {
		_ = s.Close(context.Background())
	}
	if pool.Len() != 0 {
		t.Errorf("%d clients left after every trigger closed", pool.Len())
	}
}

// TestBoundedBody: an answer past the bound fails rather than being read to its end.
func TestBoundedBody(t *testing.T) {
	rt := roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, ContentLength: -1, Body: io.NopCloser(strings.NewReader(strings.Repeat("x", 100)))}, nil
	})
	for _, tt := range []struct {
		limit   int64
		wantErr bool
	}{{limit: 100}, {limit: 99, wantErr: true}} {
		resp, err := (&boundedBodyTransport{base: rt, limit: tt.limit}).RoundTrip(&http.Request{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(resp.Body)
		if (err != nil) != tt.wantErr {
			t.Errorf("limit %d: error %v", tt.limit, err)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

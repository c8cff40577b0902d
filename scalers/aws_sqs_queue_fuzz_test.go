package scalers

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/kedactl/kedactl/scalers/meta"
)

// FuzzAWSSQSQueueResponse answers GetQueueAttributes with arbitrary bytes and an arbitrary
// status: no answer panics, a value is never negative, an answer past the bound is not read to
// its end, errors stay short and never show the secret.
func FuzzAWSSQSQueueResponse(f *testing.F) {
	for _, seed := range []struct {
		status int
		body   string
	}{
		{200, `{"Attributes":{"ApproximateNumberOfMessages":"3","ApproximateNumberOfMessagesNotVisible":"2","ApproximateNumberOfMessagesDelayed":"1"}}`},
		{200, `{"Attributes":{"ApproximateNumberOfMessages":"9223372036854775807","ApproximateNumberOfMessagesNotVisible":"9223372036854775807"}}`},
		{200, `{"Attributes":{"ApproximateNumberOfMessages":"-1","ApproximateNumberOfMessagesNotVisible":"0"}}`},
		{200, `{}`},
		{200, `{"Attributes":null}`},
		{200, `not json`},
		{400, `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}`},
		{403, `{"__type":"com.amazon.coral.service#InvalidClientTokenId","message":"The security token included in the request is invalid."}`},
		{500, strings.Repeat("x", 2000)},
	} {
		f.Add(seed.status, []byte(seed.body))
	}
	const secret = "fuzz-secret-key"
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			status = 200
		}
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			h := http.Header{"Content-Type": {"application/x-amz-json-1.0"}}
			return &http.Response{StatusCode: status, Header: h, ContentLength: -1, Body: io.NopCloser(strings.NewReader(string(body))), Request: r}, nil
		})
		client := sqs.New(sqs.Options{Region: "eu-west-1", BaseEndpoint: aws.String("http://127.0.0.1:1"),
			Credentials: credentials.NewStaticCredentialsProvider("AKID", secret, ""),
			HTTPClient:  &http.Client{Transport: &boundedBodyTransport{base: rt, limit: 4096}},
			Retryer:     aws.NopRetryer{}})
		cfg := &Config{TriggerType: "aws-sqs-queue", Timeout: time.Second}
		s := &awsSQSQueueScaler{cfg: cfg, client: client, release: func() {}, metricName: "s0-aws-sqs-q",
			meta: meta.AWSSQSQueueMetadata{QueueURL: "http://127.0.0.1:1/1/q", AWSAuth: meta.AWSAuth{Creds: meta.AWSCredentials{AccessKeyID: "AKID", SecretAccessKey: secret}}, Attributes: []string{meta.SQSAttrVisible, meta.SQSAttrInFlight, meta.SQSAttrDelayed}}}
		values, _, err := s.GetMetricsAndActivity(context.Background(), "s0-aws-sqs-q")
		if err != nil {
			if len(err.Error()) > 1000 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error shows the secret: %v", err)
			}
			return
		}
		if status < 200 || status > 299 {
			t.Fatalf("status %d read as a value", status)
		}
		if len(values) != 1 || values[0].Value.Sign() < 0 {
			t.Fatalf("values %+v", values)
		}
	})
}

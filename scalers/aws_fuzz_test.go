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
	"github.com/kedactl/kedactl/scalers/meta"
)

// fuzzAWSSecret is the secret key the fuzzed triggers sign with; no error may show it.
const fuzzAWSSecret = "fuzz-secret-key"

type fuzzAnswer struct {
	status int
	body   string
}

// fuzzAWSAnswers answers an aws-* trigger's one call with arbitrary bytes and an arbitrary status:
// no answer panics, an answer past the bound is not read to its end,
// errors stay short and never show the secret, and with nonNegative a value is never below 0.
// newScaler makes the trigger on the SDK config
// given (its HTTP client answers the fuzzed bytes with contentType).
func fuzzAWSAnswers(f *testing.F, seeds []fuzzAnswer, contentType string, nonNegative bool, newScaler func(cfg *Config, awsCfg aws.Config, auth meta.AWSAuth) Scaler) {
	for _, seed := range seeds {
		f.Add(seed.status, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			status = 200
		}
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			h := http.Header{"Content-Type": {contentType}}
			return &http.Response{StatusCode: status, Header: h, ContentLength: -1, Body: io.NopCloser(strings.NewReader(string(body))), Request: r}, nil
		})
		awsCfg := aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String("http://127.0.0.1:1"),
			Credentials: credentials.NewStaticCredentialsProvider("AKID", fuzzAWSSecret, ""),
			HTTPClient:  &http.Client{Transport: &boundedBodyTransport{base: rt, limit: 4096}},
			Retryer:     func() aws.Retryer { return aws.NopRetryer{} }}
		auth := meta.AWSAuth{AwsRegion: "eu-west-1", Creds: meta.AWSCredentials{AccessKeyID: "AKID", SecretAccessKey: fuzzAWSSecret}}
		s := newScaler(&Config{Timeout: time.Second}, awsCfg, auth)
		values, _, err := s.GetMetricsAndActivity(context.Background(), "s0-fuzz")
		if err != nil {
			if len(err.Error()) > 1000 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			if strings.Contains(err.Error(), fuzzAWSSecret) {
				t.Fatalf("error shows the secret: %v", err)
			}
			return
		}
		if status < 200 || status > 299 {
			t.Fatalf("status %d read as a value", status)
		}
		if len(values) != 1 || (nonNegative && values[0].Value.Sign() < 0) {
			t.Fatalf("values %+v", values)
		}
	})
}

package sqs

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// TestGoawsFallsShort pins why the scaler's tests use the fake rather than goaws v0.4.5: a
// request in SQS's JSON protocol (the only one aws-sdk-go-v2 speaks) is refused, and in the
// query protocol GetQueueAttributes has no ApproximateNumberOfMessagesDelayed and counts a
// delayed message as both visible and not visible. Should this test fail, goaws may now do
// what the scaler needs: try the scaler's tests against it.
func TestGoawsFallsShort(t *testing.T) {
	g := StartGoaws(t, "jobs")
	ctx := context.Background()

	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, g.URL+"/", strings.NewReader(`{"QueueUrl":"`+g.QueueURL("jobs")+`","AttributeNames":["All"]}`))
	req.Header.Set("X-Amz-Target", "AmazonSQS.GetQueueAttributes")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("goaws answered a JSON-protocol request %d %q, no longer 400: it may speak the JSON protocol now", resp.StatusCode, body)
	}

	query := func(form url.Values) string {
		resp, err := http.PostForm(g.QueueURL("jobs"), form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("goaws answered %s %d %q", form.Get("Action"), resp.StatusCode, b)
		}
		return string(b)
	}
	query(url.Values{"Action": {"SendMessage"}, "MessageBody": {"later"}, "DelaySeconds": {"600"}})
	attrs := query(url.Values{"Action": {"GetQueueAttributes"}, "AttributeName.1": {"All"}})
	if strings.Contains(attrs, "ApproximateNumberOfMessagesDelayed") {
		t.Errorf("goaws now reports ApproximateNumberOfMessagesDelayed:\n%s", attrs)
	}
	if !strings.Contains(attrs, "<Name>ApproximateNumberOfMessages</Name>\n              <Value>1</Value>") {
		t.Errorf("goaws no longer counts a delayed message as visible:\n%s", attrs)
	}
}

// TestFakeVerifiesSignatures: the fake accepts aws-sdk-go-v2's signed requests with its
// credentials and refuses others the way SQS does.
func TestFakeVerifiesSignatures(t *testing.T) {
	s := Start(t, Options{Region: "eu-west-1", AccessKeyID: "AKIDTEST", SecretAccessKey: "s3cr3t", SessionToken: "tok"})
	u := s.CreateQueue("jobs")
	s.SetCounts("jobs", 3, 2, 1)
	client := func(key, secret, token, region string) *sqs.Client {
		return sqs.New(sqs.Options{Region: region, BaseEndpoint: aws.String(s.URL),
			Credentials: credentials.NewStaticCredentialsProvider(key, secret, token)})
	}
	ctx := context.Background()
	all := []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"}
	in := &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u), AttributeNames: []sqstypes.QueueAttributeName{"All"}}
	out, err := client("AKIDTEST", "s3cr3t", "tok", "eu-west-1").GetQueueAttributes(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Attributes[all[0]] != "3" || out.Attributes[all[1]] != "2" || out.Attributes[all[2]] != "1" {
		t.Errorf("attributes %v", out.Attributes)
	}
	// SQS is "query compatible": the SDK reports an error by the code of the x-amzn-query-error
	// header when there is one (the older protocol's code), else by __type.
	for _, tt := range []struct {
		name                     string
		key, secret, tok, region string
		queueURL                 string
		wantCode                 string
	}{
		{"wrong secret", "AKIDTEST", "other", "tok", "eu-west-1", u, "SignatureDoesNotMatch"},
		{"unknown key", "AKIDOTHER", "s3cr3t", "tok", "eu-west-1", u, "InvalidClientTokenId"},
		{"no session token", "AKIDTEST", "s3cr3t", "", "eu-west-1", u, "InvalidClientTokenId"},
		{"other region", "AKIDTEST", "s3cr3t", "tok", "us-east-1", u, "SignatureDoesNotMatch"},
		{"unknown queue", "AKIDTEST", "s3cr3t", "tok", "eu-west-1", s.QueueURL("nope"), "AWS.SimpleQueueService.NonExistentQueue"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client(tt.key, tt.secret, tt.tok, tt.region).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(tt.queueURL)})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.wantCode {
				t.Errorf("error %v, want code %s", err, tt.wantCode)
			}
		})
	}
}

package scalers

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseAWSKinesisStreamMetadata(t *testing.T) {
	base := func(extra ...string) map[string]string {
		m := map[string]string{"streamName": "events", "awsRegion": "eu-west-1"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	keys := map[string]string{"awsAccessKeyID": "AKIDEXAMPLE", "awsSecretAccessKey": "kinesis-secret"}
	tests := []parseCase[meta.AWSKinesisStreamMetadata]{
		{name: "defaults", meta: base(), auth: keys, check: func(t *testing.T, m *meta.AWSKinesisStreamMetadata) {
			if m.ShardCount != 2 || m.ActivationShardCount != 0 || m.StreamName != "events" || m.AwsRegion != "eu-west-1" || m.Creds.AccessKeyID != "AKIDEXAMPLE" {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "everything", meta: base("shardCount", "4", "activationShardCount", "3", "awsEndpoint", "http://127.0.0.1:4567"),
			auth: map[string]string{"awsRoleArn": "arn:aws:iam::123456789012:role/keda"}, check: func(t *testing.T, m *meta.AWSKinesisStreamMetadata) {
				if m.ShardCount != 4 || m.ActivationShardCount != 3 || m.AwsEndpoint != "http://127.0.0.1:4567" || m.Creds.RoleArn == "" {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "the operator's identity", meta: base("identityOwner", "operator"), check: func(t *testing.T, m *meta.AWSKinesisStreamMetadata) {
			if m.Creds != (meta.AWSCredentials{}) {
				t.Errorf("credentials %+v", m.Creds)
			}
		}},
		{name: "missing streamName", meta: map[string]string{"awsRegion": "eu-west-1"}, auth: keys, wantErr: []string{"trigger 0 (aws-kinesis-stream)", "metadata.streamName", "is required"}},
		{name: "missing awsRegion", meta: map[string]string{"streamName": "events"}, auth: keys, wantErr: []string{"metadata.awsRegion", "is required"}},
		{name: "shardCount 0", meta: base("shardCount", "0"), auth: keys, wantErr: []string{"metadata.shardCount", "at least 1"}},
		{name: "shardCount not a number", meta: base("shardCount", "two"), auth: keys, wantErr: []string{"metadata.shardCount"}},
		{name: "awsEndpoint not a URL", meta: base("awsEndpoint", "localhost:4567"), auth: keys, wantErr: []string{"metadata.awsEndpoint", "http(s) URL"}},
		{name: "no credentials", meta: base(), wantErr: []string{"awsAccessKeyID", "no AWS credentials"}},
		{name: "key without secret", meta: base(), auth: map[string]string{"awsAccessKeyID": "AKID"}, wantErr: []string{"awsSecretAccessKey", "is required"}},
	}
	runParseCases(t, "aws-kinesis-stream", tests, "kinesis-secret")
}

func TestOpenShardCount(t *testing.T) {
	summary := func(n *int32) *kinesis.DescribeStreamSummaryOutput {
		return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: &kinesistypes.StreamDescriptionSummary{OpenShardCount: n}}
	}
	for _, tt := range []struct {
		name    string
		out     *kinesis.DescribeStreamSummaryOutput
		want    int64
		wantErr bool
	}{
		{name: "open shards", out: summary(aws.Int32(7)), want: 7},
		{name: "none", out: summary(aws.Int32(0)), want: 0},
		{name: "negative", out: summary(aws.Int32(-1)), wantErr: true},
		{name: "no count", out: summary(nil), wantErr: true},
		{name: "no summary", out: &kinesis.DescribeStreamSummaryOutput{}, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n, err := openShardCount(tt.out)
			if (err != nil) != tt.wantErr || n != tt.want {
				t.Fatalf("%d, %v; want %d (error %v)", n, err, tt.want, tt.wantErr)
			}
		})
	}
}

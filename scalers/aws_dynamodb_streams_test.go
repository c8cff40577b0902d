package scalers

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseAWSDynamoDBStreamsMetadata(t *testing.T) {
	base := func(extra ...string) map[string]string {
		m := map[string]string{"tableName": "orders", "awsRegion": "ap-northeast-1"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	keys := map[string]string{"awsAccessKeyID": "AKIDEXAMPLE", "awsSecretAccessKey": "streams-secret"}
	tests := []parseCase[meta.AWSDynamoDBStreamsMetadata]{
		{name: "defaults", meta: base(), auth: keys, check: func(t *testing.T, m *meta.AWSDynamoDBStreamsMetadata) {
			if m.ShardCount != 2 || m.ActivationShardCount != 0 || m.TableName != "orders" || m.AwsRegion != "ap-northeast-1" || m.Creds.AccessKeyID != "AKIDEXAMPLE" {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "everything", meta: base("shardCount", "4", "activationShardCount", "1", "awsEndpoint", "http://127.0.0.1:4566"),
			auth: map[string]string{"awsAccessKeyId": "AKIDEXAMPLE", "awsSecretAccessKey": "streams-secret", "awsSessionToken": "tok"},
			check: func(t *testing.T, m *meta.AWSDynamoDBStreamsMetadata) {
				if m.ShardCount != 4 || m.ActivationShardCount != 1 || m.AwsEndpoint != "http://127.0.0.1:4566" || m.Creds.SessionToken != "tok" {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "a role", meta: base(), auth: map[string]string{"awsRoleArn": "arn:aws:iam::123456789012:role/keda"}, check: func(t *testing.T, m *meta.AWSDynamoDBStreamsMetadata) {
			if m.Creds.RoleArn == "" || m.Creds.Static() {
				t.Errorf("credentials %+v", m.Creds)
			}
		}},
		{name: "the operator's identity", meta: base("identityOwner", "operator"), check: func(t *testing.T, m *meta.AWSDynamoDBStreamsMetadata) {
			if m.Creds != (meta.AWSCredentials{}) {
				t.Errorf("credentials %+v", m.Creds)
			}
		}},
		{name: "awsRegion from the TriggerAuthentication", meta: map[string]string{"tableName": "orders"},
			auth: map[string]string{"awsRegion": "eu-west-1", "awsAccessKeyID": "AKID", "awsSecretAccessKey": "streams-secret"},
			check: func(t *testing.T, m *meta.AWSDynamoDBStreamsMetadata) {
				if m.AwsRegion != "eu-west-1" {
					t.Errorf("region %q", m.AwsRegion)
				}
			}},
		{name: "no metadata", meta: map[string]string{}, auth: keys, wantErr: []string{"trigger 0 (aws-dynamodb-streams)", "is required"}},
		{name: "missing tableName", meta: map[string]string{"awsRegion": "eu-west-1"}, auth: keys, wantErr: []string{"metadata.tableName", "is required"}},
		{name: "blank tableName", meta: base("tableName", " "), auth: keys, wantErr: []string{"metadata.tableName", "is required"}},
		{name: "missing awsRegion", meta: map[string]string{"tableName": "orders"}, auth: keys, wantErr: []string{"awsRegion", "is required"}},
		{name: "shardCount 0", meta: base("shardCount", "0"), auth: keys, wantErr: []string{"metadata.shardCount", "at least 1"}},
		{name: "shardCount not a number", meta: base("shardCount", "a"), auth: keys, wantErr: []string{"metadata.shardCount"}},
		{name: "activationShardCount not a number", meta: base("activationShardCount", "one"), auth: keys, wantErr: []string{"metadata.activationShardCount"}},
		{name: "awsEndpoint not a URL", meta: base("awsEndpoint", "localhost:4566"), auth: keys, wantErr: []string{"metadata.awsEndpoint", "http(s) URL"}},
		{name: "identityOwner neither pod nor operator", meta: base("identityOwner", "node"), auth: keys, wantErr: []string{"identityOwner"}},
		{name: "no credentials", meta: base(), wantErr: []string{"awsAccessKeyID", "no AWS credentials"}},
		{name: "key without secret", meta: base(), auth: map[string]string{"awsAccessKeyID": "AKID"}, wantErr: []string{"awsSecretAccessKey", "is required"}},
	}
	runParseCases(t, "aws-dynamodb-streams", tests, "streams-secret")
}

func TestNextShardPage(t *testing.T) {
	for _, tt := range []struct {
		name       string
		sent, last *string
		want       *string
		wantErr    bool
	}{
		{name: "one page", last: nil, want: nil},
		{name: "an empty last shard ends too", sent: aws.String("shardId-1"), last: aws.String(""), want: nil},
		{name: "first of several", last: aws.String("shardId-100"), want: aws.String("shardId-100")},
		{name: "a later page", sent: aws.String("shardId-100"), last: aws.String("shardId-200"), want: aws.String("shardId-200")},
		{name: "no progress", sent: aws.String("shardId-100"), last: aws.String("shardId-100"), wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := nextShardPage(tt.sent, tt.last)
			if (err != nil) != tt.wantErr || aws.ToString(got) != aws.ToString(tt.want) || (got == nil) != (tt.want == nil) {
				t.Fatalf("%v, %v; want %v (error %v)", aws.ToString(got), err, aws.ToString(tt.want), tt.wantErr)
			}
		})
	}
}

package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/kedactl/kedactl/test/servers/kinesalite"
)

// TestAWSKinesisStreamScalesZeroToMaxToZero: an aws-kinesis-stream trigger on kinesalite (behind
// the front verifying SigV4; awsEndpoint points at it), the keys and session token from a Secret
// through a TriggerAuthentication. One open shard is at activationShardCount 1 and leaves the
// workers at 0; two activate them; nine take the real HPA to the maximum of 4 (shardCount 2);
// merged back to one shard they return to 0 after the cooldown. Every request was signed with
// the Secret's keys for awsRegion.
func TestAWSKinesisStreamScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ctx := context.Background()
	const keyID, secret, token = "AKIDE2EKINESIS", "e2e/kinesis-secret-access-key", "e2e-kinesis-session-token"
	srv := kinesalite.Start(t, kinesalite.Options{Region: "ap-southeast-2", AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: token})
	if err := srv.CreateStream(ctx, "clicks", 1); err != nil {
		t.Fatal(err)
	}
	set := func(t *testing.T, n int) {
		if err := srv.SetOpenShards(ctx, "clicks", n); err != nil {
			t.Fatal(err)
		}
	}
	s.runScalerJourney(t, scalerJourney{
		namespace: "kinesis",
		secret:    "aws-secret",
		auth:      "aws-auth",
		params: []secretParam{
			{"awsAccessKeyID", "AWS_ACCESS_KEY_ID", keyID},
			{"awsSecretAccessKey", "AWS_SECRET_ACCESS_KEY", secret},
			{"awsSessionToken", "AWS_SESSION_TOKEN", token},
		},
		triggerType: "aws-kinesis-stream",
		metadata: fmt.Sprintf(`streamName: clicks
			awsRegion: ap-southeast-2
			awsEndpoint: %s
			activationShardCount: "1"`, srv.URL),
		metric:       "s0-aws-kinesis-clicks",
		averageValue: 2,
		set:          set,
		polls: func() (n int) {
			for _, r := range srv.Requests() {
				if r.Status == 200 {
					n++
				}
			}
			return n
		},
		// One shard at the threshold; two activate; 9 / 2 asks for 5 workers, above the maximum.
		idle: 1, one: 2, max: 9,
		drain: func(t *testing.T) { set(t, 1) },
	})

	for _, r := range srv.Requests() {
		if r.Status != 200 || r.AccessKeyID != keyID || r.Region != "ap-southeast-2" || r.Target != "Kinesis_20131202.DescribeStreamSummary" {
			t.Fatalf("request %+v", r)
		}
	}
}

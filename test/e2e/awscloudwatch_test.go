package e2e

import (
	"fmt"
	"testing"
	"time"

	cwserver "github.com/kedactl/kedactl/test/servers/cloudwatch"
)

// TestAWSCloudWatchScalesZeroToMaxToZero: an aws-cloudwatch trigger on the CloudWatch fake
// (GetMetricData, SigV4 verified; awsEndpoint points at it), the keys from a Secret through a
// TriggerAuthentication, reading a queue's backlog metric each minute. No data (minMetricValue 0)
// leaves the workers at 0; a backlog of three activates them; forty takes the real HPA to the
// maximum of 4 (targetMetricValue 5); no backlog returns them to 0 after the cooldown. Every
// request was signed with the Secret's keys for awsRegion.
func TestAWSCloudWatchScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const keyID, secret = "AKIDE2ECLOUDWATCH", "e2e/cloudwatch-secret-access-key"
	srv := cwserver.Start(t, cwserver.Options{Region: "sa-east-1", AccessKeyID: keyID, SecretAccessKey: secret})
	dims := []cwserver.Dimension{{Name: "QueueName", Value: "renders"}}

	s.runScalerJourney(t, scalerJourney{
		namespace: "cloudwatch",
		secret:    "aws-secret",
		auth:      "aws-auth",
		params: []secretParam{
			{"awsAccessKeyID", "AWS_ACCESS_KEY_ID", keyID},
			{"awsSecretAccessKey", "AWS_SECRET_ACCESS_KEY", secret},
		},
		triggerType: "aws-cloudwatch",
		metadata: fmt.Sprintf(`namespace: Renders
			metricName: Backlog
			dimensionName: QueueName
			dimensionValue: renders
			metricStat: Maximum
			metricStatPeriod: "60"
			metricCollectionTime: "300"
			targetMetricValue: "5"
			minMetricValue: "0"
			awsRegion: sa-east-1
			awsEndpoint: %s`, srv.URL),
		metric:       "s0-aws-cloudwatch",
		averageValue: 5,
		// The backlog is reported each minute, from ten minutes ago to half an hour ahead, so
		// that the newest whole minute holds it while the journey runs.
		set: func(_ *testing.T, n int) {
			srv.Clear("Renders", "Backlog", dims)
			now := time.Now().Truncate(time.Minute)
			for m := -10; m <= 30; m++ {
				srv.Put("Renders", "Backlog", dims, now.Add(time.Duration(m)*time.Minute+time.Second), float64(n))
			}
		},
		polls: func() (n int) {
			for _, r := range srv.Requests() {
				if r.Status == 200 {
					n++
				}
			}
			return n
		},
		// A backlog of three; 40 / 5 = 8 workers, more than the maximum of 4.
		one: 3, max: 40,
	})

	for _, r := range srv.Requests() {
		if r.Status != 200 || r.AccessKeyID != keyID || r.Region != "sa-east-1" || r.Target != "GraniteServiceVersion20100801.GetMetricData" {
			t.Fatalf("request %+v", r)
		}
	}
}

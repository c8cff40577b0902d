package e2e

import (
	"fmt"
	"testing"
)

// TestGCPPubSubScalesZeroToMaxToZero: a gcp-pubsub trigger naming its subscription with the
// project (projects/<p>/subscriptions/<s>), the service account key from a Secret through a
// TriggerAuthentication, runs KEDA's MQL query for the undelivered messages on the suite's Cloud
// Monitoring fake: 0 -> 1 -> 4 -> 0 as the backlog grows and drains.
func TestGCPPubSubScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	gm := s.gcpMonitoring
	const (
		project = "e2e-pubsub"
		metric  = "pubsub.googleapis.com/subscription/num_undelivered_messages"
	)
	key := gm.NewServiceAccount(project, "keda-e2e")
	backlog := func(n int64) {
		gm.SetGauge(project, metric, "pubsub_subscription", map[string]string{"subscription_id": "orders"}, n)
	}
	backlog(0)

	s.runScalerJourney(t, gcpJourney(key, scalerJourney{
		namespace:    "pubsub",
		triggerType:  "gcp-pubsub",
		metadata:     fmt.Sprintf(`subscriptionName: projects/%s/subscriptions/orders`+"\n"+`value: "5"`, project),
		metric:       "s0-gcp-ps-projects-" + project + "-subscriptions-orders",
		averageValue: 5,
		set:          func(_ *testing.T, n int) { backlog(int64(n)) },
		one:          3, max: 100,
	}))

	want := "fetch pubsub_subscription | metric '" + metric + "' | filter (resource.project_id == '" + project + "' && resource.subscription_id == 'orders') | within 2m0s"
	for _, r := range gm.Requests() {
		if r.Project == project && (r.Status != 200 || r.Query != want || r.Account != "keda-e2e@"+project+".iam.gserviceaccount.com") {
			t.Fatalf("request %+v", r)
		}
	}
}

// gcpJourney is j with the service account key in a Secret, passed as
// GoogleApplicationCredentials through a TriggerAuthentication.
func gcpJourney(key string, j scalerJourney) scalerJourney {
	j.secret, j.auth = "gcp-secret", "gcp-auth"
	j.params = []secretParam{{"GoogleApplicationCredentials", "GOOGLE_APPLICATION_CREDENTIALS_JSON", key}}
	return j
}

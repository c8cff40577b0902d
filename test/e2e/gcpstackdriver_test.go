package e2e

import (
	"fmt"
	"testing"
)

// TestGCPStackdriverScalesZeroToMaxToZero: a gcp-stackdriver trigger whose service account key
// comes from a Secret through a TriggerAuthentication (GoogleApplicationCredentials) reads a
// subscription's backlog from the Cloud Monitoring fake (the operator's
// CLOUDSDK_API_ENDPOINT_OVERRIDES_MONITORING points there; the key's token_uri names the fake's
// token endpoint). A backlog at the activation target leaves the worker at 0; above it 0 -> 1;
// a large one takes the real HPA to the maximum of 4; an empty backlog brings it back to 0 after
// the cooldown.
func TestGCPStackdriverScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	gm := s.gcpMonitoring
	// The fake is the suite's: this test's own project and account.
	const (
		project = "e2e-stackdriver"
		metric  = "pubsub.googleapis.com/subscription/num_undelivered_messages"
		filter  = `metric.type="` + metric + `" AND resource.labels.subscription_id="orders"`
	)
	key := gm.NewServiceAccount(project, "keda-e2e")
	backlog := func(n int64) {
		gm.SetGauge(project, metric, "pubsub_subscription", map[string]string{"subscription_id": "orders"}, n)
	}
	backlog(2)
	// The requests of this test's project.
	polls := func() (n int) {
		for _, r := range gm.Requests() {
			if r.Project == project && r.Status == 200 {
				n++
			}
		}
		return n
	}

	s.runScalerJourney(t, gcpJourney(key, scalerJourney{
		namespace:   "stackdriver",
		triggerType: "gcp-stackdriver",
		metadata: fmt.Sprintf(`projectId: %s
			filter: %q
			targetValue: "5"
			activationTargetValue: "2"`, project, filter),
		metric:       "s0-gcp-stackdriver-" + project,
		averageValue: 5,
		set:          func(_ *testing.T, n int) { backlog(int64(n)) },
		polls:        polls,
		// A backlog of 2 is not above activationTargetValue 2; 3 is; 100 / 5 per replica = 20.
		idle: 2, one: 3, max: 100,
	}))

	// Every request of this project carried a token of the Secret's service account and the
	// trigger's filter restricted to the project, as KEDA words it; the token was fetched once.
	for _, r := range gm.Requests() {
		if r.Project == project && (r.Account != "keda-e2e@"+project+".iam.gserviceaccount.com" || r.Status != 200 ||
			r.Filter != filter+` AND resource.labels.project_id="`+project+`"` || r.Path != "/v3/projects/"+project+"/timeSeries") {
			t.Fatalf("request %+v", r)
		}
	}
	n := 0
	for _, tr := range gm.TokenRequests() {
		if tr.Account == "keda-e2e@"+project+".iam.gserviceaccount.com" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d token requests of the service account, want 1 (the token is reused until it expires)", n)
	}
}

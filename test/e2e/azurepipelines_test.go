package e2e

import (
	"testing"

	adoserver "github.com/kedactl/kedactl/test/servers/azuredevops"
)

// TestAzurePipelinesScalesZeroToMaxToZero: an azure-pipelines trigger on the Azure DevOps fake,
// with the personal access token from a Secret through a TriggerAuthentication, finds its pool
// by name and counts the pool's job requests whose demands its agents meet. One job is at the
// activation threshold and leaves the agents at 0; two activate them; twenty take the real HPA
// to the maximum of 4; once the jobs finish the agents go back to 0 after the cooldown.
func TestAzurePipelinesScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const pat = "ado-e2e-azure-pipelines-token"
	ado := adoserver.Start(t, adoserver.Options{Org: "acme", Token: pat})
	ado.AddPool("windows")
	pool := ado.AddPool("linux-agents")
	jobs := func(n int) []adoserver.Job {
		out := make([]adoserver.Job, n)
		for i := range out {
			out[i] = adoserver.Job{Demands: []string{"docker", "Agent.Version -gtVersion 3.0.0"}}
		}
		return out
	}
	// A job demanding what the agents lack never counts.
	ado.Queue(pool, adoserver.Job{Demands: []string{"gpu"}})

	queued := 0
	s.runScalerJourney(t, scalerJourney{
		namespace:   "azpipelines",
		secret:      "ado-secret",
		auth:        "ado-auth",
		params:      []secretParam{{"personalAccessToken", "pat", pat}},
		triggerType: "azure-pipelines",
		metadata: `organizationURL: ` + ado.OrgURL + `
			poolName: linux-agents
			demands: docker,kubernetes
			targetPipelinesQueueLength: "2"
			activationTargetPipelinesQueueLength: "1"`,
		metric:       "s0-azure-pipelines-11",
		averageValue: 2,
		set: func(_ *testing.T, n int) {
			ado.Queue(pool, jobs(n-queued)...)
			queued = n
		},
		polls: func() (n int) {
			for _, r := range ado.Requests() {
				if r.Path == "/acme/_apis/distributedtask/pools/11/jobrequests" && r.Status == 200 {
					n++
				}
			}
			return n
		},
		idle: 1, one: 2, max: 20,
		drain: func(*testing.T) { ado.FinishAll(pool, "succeeded") },
	})

	// Every request carried the token from the Secret as basic auth's password.
	for _, r := range ado.Requests() {
		if !r.Basic || r.Token != pat || r.Status != 200 {
			t.Fatalf("request %s %s (basic %t) answered %d", r.Method, r.Path, r.Basic, r.Status)
		}
	}
}

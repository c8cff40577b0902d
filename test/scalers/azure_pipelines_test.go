package scalers_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/plugin/diagnose"
	"github.com/kedactl/kedactl/scalers"
	adoserver "github.com/kedactl/kedactl/test/servers/azuredevops"
)

const adoTestPAT = "ado-pat-5e1d-never-in-errors"

// newAzurePipelinesTrigger builds an azure-pipelines trigger on the fake's organization.
func newAzurePipelinesTrigger(srv *adoserver.Server, pat string, meta map[string]string) (scalers.Scaler, error) {
	m := map[string]string{"organizationURL": srv.OrgURL}
	for k, v := range meta {
		m[k] = v
	}
	return scalers.New(context.Background(), &scalers.Config{TriggerType: "azure-pipelines", TriggerMetadata: m,
		AuthParams: map[string]string{"personalAccessToken": pat}, Timeout: 5 * time.Second})
}

// pollAzurePipelines polls once and returns the value and activity.
func pollAzurePipelines(t *testing.T, s scalers.Scaler, metric string) (float64, bool, error) {
	t.Helper()
	vals, active, err := s.GetMetricsAndActivity(context.Background(), metric)
	if err != nil {
		return 0, false, err
	}
	if len(vals) != 1 || vals[0].MetricName != metric {
		t.Fatalf("poll gave %+v", vals)
	}
	return vals[0].Value.AsApproximateFloat64(), active, nil
}

// wantADOErr checks that err mentions every text, shows no form of the token, and is
// classified as cause.
func wantADOErr(t *testing.T, err error, cause string, mentions ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error mentioning %q", mentions)
	}
	for _, m := range mentions {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
	for _, secret := range []string{adoTestPAT, base64.StdEncoding.EncodeToString([]byte(":" + adoTestPAT))} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows the token: %v", err)
		}
	}
	if got := diagnose.FailureCause(err.Error()); got != cause {
		t.Errorf("error %q is classified %q, want %q", err, got, cause)
	}
}

// TestAzurePipelinesAgainstFake: the trigger finds its pool by name or ID, counts the job
// requests in the form its metadata asks for, and sends the token as Azure DevOps takes it.
func TestAzurePipelinesAgainstFake(t *testing.T) {
	srv := adoserver.Start(t, adoserver.Options{Org: "acme", Token: adoTestPAT})
	pool := srv.AddPool("Linux")
	srv.AddPool("windows")
	ids := srv.Queue(pool,
		adoserver.Job{Demands: []string{"maven", "Agent.Version -gtVersion 2.163.1"}, MatchedAgents: []string{"tmpl"}},
		adoserver.Job{Demands: []string{"java"}, MatchedAgents: []string{"other"}},
		adoserver.Job{Demands: []string{"maven"}, MatchedAgents: []string{"tmpl"}},
	)
	srv.Take(ids[2], "agent-7")

	const metric = "s0-azure-pipelines-10"
	for _, tt := range []struct {
		name  string
		meta  map[string]string
		want  float64
		query string
	}{
		{"by name, latest 250", map[string]string{"poolName": "linux"}, 3, "$top=250"},
		{"by ID, not in flight", map[string]string{"poolID": "10", "scaleOnInFlight": "false"}, 2, "$top=250"},
		{"latest 1", map[string]string{"poolID": "10", "jobsToFetch": "1"}, 1, "$top=1"},
		{"demands", map[string]string{"poolID": "10", "demands": "maven"}, 2, "$top=250"},
		{"parent reads matchedAgents from the full list", map[string]string{"poolID": "10", "parent": "tmpl"}, 2, ""},
		{"unfinished only", map[string]string{"poolID": "10", "fetchUnfinishedJobsOnly": "true", "activationTargetPipelinesQueueLength": "3"}, 3, "completedRequestCount=0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newAzurePipelinesTrigger(srv, adoTestPAT, tt.meta)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(context.Background())
			if spec := s.GetMetricSpecForScaling(context.Background()); len(spec) != 1 || spec[0].External.Metric.Name != metric {
				t.Fatalf("metric spec %+v, want %s", spec, metric)
			}
			v, active, err := pollAzurePipelines(t, s, metric)
			if err != nil {
				t.Fatal(err)
			}
			activation := 0.0
			if tt.meta["activationTargetPipelinesQueueLength"] != "" {
				activation = 3
			}
			if v != tt.want || active != (v > activation) {
				t.Errorf("value %g active %t, want %g", v, active, tt.want)
			}
			reqs := srv.Requests()
			last := reqs[len(reqs)-1]
			if last.Path != "/acme/_apis/distributedtask/pools/10/jobrequests" || strings.ReplaceAll(last.Query.Encode(), "%24", "$") != tt.query {
				t.Errorf("job requests read as %s?%s, want ?%s", last.Path, last.Query.Encode(), tt.query)
			}
		})
	}
	for _, r := range srv.Requests() {
		if !r.Basic || r.User != "" || r.Token != adoTestPAT || r.Status != 200 {
			t.Errorf("request %s %s: basic %t user %q, answered %d", r.Method, r.Path, r.Basic, r.User, r.Status)
		}
	}

	// Finished jobs no longer count.
	s, err := newAzurePipelinesTrigger(srv, adoTestPAT, map[string]string{"poolName": "Linux"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	srv.FinishAll(pool, "succeeded")
	if v, active, err := pollAzurePipelines(t, s, metric); err != nil || v != 0 || active {
		t.Errorf("after the jobs finished: %g %t %v", v, active, err)
	}
}

// TestAzurePipelinesFailures: the common failures say what to check, show no token, and are
// classified for kubectl keda describe.
func TestAzurePipelinesFailures(t *testing.T) {
	srv := adoserver.Start(t, adoserver.Options{Org: "acme", Token: adoTestPAT})
	srv.AddPool("linux")

	_, err := newAzurePipelinesTrigger(srv, "another-token", map[string]string{"poolName": "linux"})
	wantADOErr(t, err, diagnose.CauseCredentials, "trigger 0 (azure-pipelines)", "401", "personalAccessToken")
	_, err = newAzurePipelinesTrigger(srv, adoTestPAT, map[string]string{"poolName": "mac"})
	wantADOErr(t, err, diagnose.CauseNotFound, `agent pool "mac" not found`, "poolName")
	_, err = newAzurePipelinesTrigger(srv, adoTestPAT, map[string]string{"poolID": "42"})
	wantADOErr(t, err, diagnose.CauseNotFound, "404", "TaskAgentPoolNotFoundException", "Agent pool 42 could not be found")

	s, err := newAzurePipelinesTrigger(srv, adoTestPAT, map[string]string{"poolID": "10"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	srv.SetThrottle(time.Second, 0)
	if v, _, err := pollAzurePipelines(t, s, "s0-azure-pipelines-10"); err != nil || v != 0 {
		t.Errorf("a delayed answer still counts: %g %v", v, err)
	}
	srv.SetThrottle(0, 45*time.Second)
	_, _, err = pollAzurePipelines(t, s, "s0-azure-pipelines-10")
	wantADOErr(t, err, diagnose.CauseRefused, "429", "retry after 45 s", "RequestBlockedException")
	srv.SetThrottle(0, 0)

	// The organization's server is gone.
	down := adoserver.Start(t, adoserver.Options{Org: "acme", Token: adoTestPAT})
	down.AddPool("linux")
	gone, err := newAzurePipelinesTrigger(down, adoTestPAT, map[string]string{"poolName": "linux"})
	if err != nil {
		t.Fatal(err)
	}
	defer gone.Close(context.Background())
	down.Close()
	_, _, err = pollAzurePipelines(t, gone, "s0-azure-pipelines-10")
	wantADOErr(t, err, diagnose.CauseUnreachable, "could not reach", "organizationURL")
}

package scalers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseAzurePipelinesMetadata(t *testing.T) {
	const pat = "ado-pat-never-in-errors"
	base := func(extra ...string) map[string]string {
		m := map[string]string{"organizationURL": "https://dev.azure.com/acme", "poolName": "linux"}
		for i := 0; i+1 < len(extra); i += 2 {
			if extra[i+1] == "" {
				delete(m, extra[i])
				continue
			}
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	withPAT := map[string]string{"personalAccessToken": pat}
	tests := []parseCase[meta.AzurePipelinesMetadata]{
		{name: "defaults", meta: base(), auth: withPAT, check: func(t *testing.T, m *meta.AzurePipelinesMetadata) {
			if m.OrgURL.String() != "https://dev.azure.com/acme" || m.OrgName != "acme" || m.PoolName != "linux" || m.PoolID != 0 ||
				m.TargetPipelinesQueueLength != 1 || m.ActivationTargetPipelinesQueueLength != 0 || m.JobsToFetch != 250 ||
				m.FetchUnfinishedJobsOnly || !m.ScaleOnInFlight || m.RequireAllDemands || m.RequireAllDemandsAndIgnoreOthers ||
				m.CaseInsensitiveDemandsProcessing || m.PersonalAccessToken != pat {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "everything", meta: base("poolName", "", "poolID", "12", "demands", "maven,java", "targetPipelinesQueueLength", "3",
			"activationTargetPipelinesQueueLength", "2", "scaleOnInFlight", "false", "requireAllDemands", "true",
			"caseInsensitiveDemandsProcessing", "true", "fetchUnfinishedJobsOnly", "true"), auth: withPAT,
			check: func(t *testing.T, m *meta.AzurePipelinesMetadata) {
				if m.PoolID != 12 || m.Demands != "maven,java" || m.TargetPipelinesQueueLength != 3 || m.ActivationTargetPipelinesQueueLength != 2 ||
					m.ScaleOnInFlight || !m.RequireAllDemands || !m.CaseInsensitiveDemandsProcessing || !m.FetchUnfinishedJobsOnly {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "organization and token from the env and the TriggerAuthentication", meta: base("organizationURL", "", "organizationURLFromEnv", "ADO_URL", "personalAccessTokenFromEnv", "ADO_PAT"),
			env: map[string]string{"ADO_URL": "https://ado.example.com/tfs/Coll", "ADO_PAT": pat},
			check: func(t *testing.T, m *meta.AzurePipelinesMetadata) {
				if m.OrgName != "Coll" || m.PersonalAccessToken != pat {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "organization URL from the TriggerAuthentication", meta: base("organizationURL", ""),
			auth: map[string]string{"personalAccessToken": pat, "organizationURL": "https://dev.azure.com/other"},
			check: func(t *testing.T, m *meta.AzurePipelinesMetadata) {
				if m.OrgName != "other" {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "offline without the token", meta: base(), offline: true, check: func(*testing.T, *meta.AzurePipelinesMetadata) {}},
		{name: "no token", meta: base(), wantErr: []string{"personalAccessToken", "is required"}},
		{name: "no organization", meta: base("organizationURL", ""), auth: withPAT, wantErr: []string{"organizationURL", "is required"}},
		{name: "trailing slash", meta: base("organizationURL", "https://dev.azure.com/acme/"), auth: withPAT, wantErr: []string{"organizationURL", "names no organization"}},
		{name: "not a URL", meta: base("organizationURL", "dev.azure.com/acme"), auth: withPAT, wantErr: []string{"organizationURL", "http(s) URL"}},
		{name: "no pool", meta: base("poolName", ""), auth: withPAT, wantErr: []string{"poolName", "or poolID"}},
		{name: "pool ID not a number", meta: base("poolID", "linux"), auth: withPAT, wantErr: []string{"poolID", "not a valid"}},
		{name: "negative pool ID", meta: base("poolName", "", "poolID", "-1"), auth: withPAT, wantErr: []string{"poolID", "is -1"}},
		{name: "zero target", meta: base("targetPipelinesQueueLength", "0"), auth: withPAT, wantErr: []string{"targetPipelinesQueueLength", "at least 1"}},
		{name: "negative activation", meta: base("activationTargetPipelinesQueueLength", "-1"), auth: withPAT, wantErr: []string{"activationTargetPipelinesQueueLength"}},
		{name: "zero jobs to fetch", meta: base("jobsToFetch", "0"), auth: withPAT, wantErr: []string{"jobsToFetch", "is 0"}},
		{name: "jobsToFetch with fetchUnfinishedJobsOnly", meta: base("jobsToFetch", "10", "fetchUnfinishedJobsOnly", "false"), auth: withPAT,
			wantErr: []string{"trigger 0 (azure-pipelines)", "jobsToFetch", "fetchUnfinishedJobsOnly"}},
		{name: "jobsToFetch with parent", meta: base("jobsToFetch", "10", "parent", "agent-template"), auth: withPAT, wantErr: []string{"jobsToFetch", "parent"}},
		{name: "bool not a bool", meta: base("scaleOnInFlight", "yes"), auth: withPAT, wantErr: []string{"scaleOnInFlight"}},
	}
	runParseCases(t, "azure-pipelines", tests, pat)
}

func TestAzurePipelinesQueueLength(t *testing.T) {
	done := "succeeded"
	agents := func(names ...string) *[]struct {
		Name string `json:"name"`
	} {
		out := make([]struct {
			Name string `json:"name"`
		}, len(names))
		for i, n := range names {
			out[i].Name = n
		}
		return &out
	}
	jobs := []adoJobRequest{
		{Demands: []string{"maven", "Agent.Version -gtVersion 2.163.1"}, MatchedAgents: agents("tmpl", "other")},
		{Demands: []string{"maven", "java"}, MatchedAgents: agents("other")},
		{Demands: []string{"Maven"}, ReceiveTime: "2026-12-07T10:00:00.1Z"},
		{Demands: nil, ReceiveTime: "0001-01-01T00:00:00"},
		{Demands: []string{"maven"}, Result: &done, MatchedAgents: agents("tmpl")},
	}
	tests := []struct {
		name string
		meta meta.AzurePipelinesMetadata
		want int64
	}{
		{"every unfinished job", meta.AzurePipelinesMetadata{ScaleOnInFlight: true}, 4},
		{"not the ones agents took", meta.AzurePipelinesMetadata{}, 3},
		{"parent among the matched agents", meta.AzurePipelinesMetadata{ScaleOnInFlight: true, Parent: "tmpl"}, 1},
		{"parent wins over demands", meta.AzurePipelinesMetadata{ScaleOnInFlight: true, Parent: "other", Demands: "nothing"}, 2},
		// Every job demand among the trigger's: maven (the version demand left out), and the
		// job without demands.
		{"job demands among the trigger's", meta.AzurePipelinesMetadata{ScaleOnInFlight: true, Demands: "maven"}, 2},
		{"case-insensitive", meta.AzurePipelinesMetadata{ScaleOnInFlight: true, Demands: "maven", CaseInsensitiveDemandsProcessing: true}, 3},
		{"both sides' demands", meta.AzurePipelinesMetadata{ScaleOnInFlight: true, Demands: "maven,java"}, 3},
		{"requireAllDemands: the same set", meta.AzurePipelinesMetadata{ScaleOnInFlight: true, Demands: "maven,java", RequireAllDemands: true}, 1},
		{"requireAllDemandsAndIgnoreOthers: the trigger's among the job's", meta.AzurePipelinesMetadata{ScaleOnInFlight: true, Demands: "java", RequireAllDemandsAndIgnoreOthers: true}, 1},
		// KEDA splits on commas without trimming: " java" is no demand a job has.
		{"no trimming", meta.AzurePipelinesMetadata{ScaleOnInFlight: true, Demands: "maven, java"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := azurePipelinesQueueLength(jobs, &tt.meta); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestAzurePipelinesAnswers(t *testing.T) {
	if _, err := parseAzurePipelinesJobRequests([]byte(`{"count":0}`)); err == nil {
		t.Error("a list without value is taken")
	}
	if jobs, err := parseAzurePipelinesJobRequests([]byte(`{"count":1,"value":[{"requestId":1,"demands":["a"],"result":null}]}`)); err != nil || len(jobs) != 1 || jobs[0].Result != nil {
		t.Errorf("parsed %+v, %v", jobs, err)
	}
	for _, tt := range []struct {
		body string
		id   int64
		err  string
	}{
		{`{"count":1,"value":[{"id":7,"name":"linux"}]}`, 7, ""},
		{`{"count":0,"value":[]}`, 0, `agent pool "linux" not found`},
		{`{"count":2,"value":[{"id":7},{"id":8}]}`, 0, "2 agent pools"},
		{`<html>`, 0, "not an agent pool list"},
	} {
		id, err := azurePipelinesPoolByName([]byte(tt.body), "linux")
		if id != tt.id || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: %d, %v; want %d, %q", tt.body, id, err, tt.id, tt.err)
		}
	}
	notFound := `{"$id":"1","innerException":null,"message":"Agent pool 9 could not be found.","typeName":"x","typeKey":"TaskAgentPoolNotFoundException","errorCode":0,"eventId":3000}`
	for _, tt := range []struct {
		status int
		header http.Header
		body   string
		want   string
	}{
		{200, nil, `{}`, ""},
		{203, nil, `<html>sign in</html>`, "refused the credentials"},
		{401, nil, `Access Denied: The Personal Access Token used has expired.`, "401: it refused the credentials"},
		{404, nil, notFound, "404 not found (TaskAgentPoolNotFoundException: Agent pool 9 could not be found.)"},
		{429, http.Header{"Retry-After": {"30"}}, ``, "rate limit reached, retry after 30 s"},
		{500, nil, `{"message":"boom"}`, "500 Internal Server Error (boom)"},
	} {
		err := azurePipelinesAnswerError(tt.status, tt.header, []byte(tt.body))
		if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%d %s: %v, want %q", tt.status, tt.body, err, tt.want)
		}
	}
}

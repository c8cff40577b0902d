package scalers

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
)

// adoJobRequest is what the trigger reads of an Azure Pipelines job request
// (TaskAgentJobRequest).
type adoJobRequest struct {
	// Result is set once the job finished (succeeded, failed, canceled, ...).
	Result *string `json:"result"`
	// ReceiveTime is set once an agent took the job.
	ReceiveTime string `json:"receiveTime"`
	// Demands are the capabilities the job asks an agent for, such as "maven" or
	// "Agent.Version -gtVersion 2.163.1".
	Demands []string `json:"demands"`
	// MatchedAgents are the agents whose capabilities meet the demands; absent in the $top form.
	MatchedAgents *[]struct {
		Name string `json:"name"`
	} `json:"matchedAgents"`
}

// received tells whether an agent took the job: .NET's default date is no time.
func (j *adoJobRequest) received() bool {
	return j.ReceiveTime != "" && !strings.HasPrefix(j.ReceiveTime, "0001-01-01")
}

// parseAzurePipelinesJobRequests reads a job request list {"count":n,"value":[...]}.
func parseAzurePipelinesJobRequests(body []byte) ([]adoJobRequest, error) {
	var list struct {
		Value *[]adoJobRequest `json:"value"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("the answer is not a job request list: %w", err)
	}
	if list.Value == nil {
		return nil, fmt.Errorf("the answer is not a job request list: it has no value array")
	}
	return *list.Value, nil
}

// azurePipelinesPoolByName reads the pool list answered to ?poolName= and returns the one pool's ID.
func azurePipelinesPoolByName(body []byte, name string) (int64, error) {
	var list struct {
		Value *[]struct {
			ID int64 `json:"id"`
		} `json:"value"`
	}
	if err := json.Unmarshal(body, &list); err != nil || list.Value == nil {
		return 0, fmt.Errorf("the answer is not an agent pool list")
	}
	switch n := len(*list.Value); n {
	case 0:
		return 0, fmt.Errorf("agent pool %q not found: check metadata.poolName (the name under Organization settings > Agent pools) and that the token's user may see it", name)
	case 1:
		return (*list.Value)[0].ID, nil
	default:
		return 0, fmt.Errorf("%d agent pools are named %q: give metadata.poolID instead", n, name)
	}
}

// azurePipelinesQueueLength counts the jobs that agents of the trigger would take, as KEDA
// does: finished jobs never count, taken ones only with scaleOnInFlight; then, with parent, the
// jobs whose matched agents include it; else, with demands, the jobs whose demands match; else
// every job.
func azurePipelinesQueueLength(jobs []adoJobRequest, m *meta.AzurePipelinesMetadata) int64 {
	var n int64
	for i := range jobs {
		j := &jobs[i]
		if j.Result != nil || !m.ScaleOnInFlight && j.received() {
			continue
		}
		switch {
		case m.Parent != "":
			if adoParentMatches(j, m.Parent) {
				n++
			}
		case m.Demands != "":
			if adoDemandsMatch(j.Demands, m) {
				n++
			}
		default:
			n++
		}
	}
	return n
}

// adoParentMatches tells whether the parent agent is among the job's matched agents.
func adoParentMatches(j *adoJobRequest, parent string) bool {
	if j.MatchedAgents == nil {
		return false
	}
	for _, a := range *j.MatchedAgents {
		if a.Name == parent {
			return true
		}
	}
	return false
}

// adoDemandsMatch compares the job's demands with the trigger's comma-separated demands, the
// agent version demands left out of both, as KEDA does: every job demand must be among the
// trigger's; with requireAllDemands the two must also be the same size; with
// requireAllDemandsAndIgnoreOthers only every trigger demand must be among the job's. Matches
// are counted pairwise, so a demand listed twice counts twice, as in KEDA.
func adoDemandsMatch(jobDemands []string, m *meta.AzurePipelinesMetadata) bool {
	inJob := withoutAgentVersion(jobDemands)
	inTrigger := withoutAgentVersion(strings.Split(m.Demands, ","))
	matches := 0
	for _, d := range inJob {
		for _, t := range inTrigger {
			if d == t || m.CaseInsensitiveDemandsProcessing && strings.EqualFold(d, t) {
				matches++
			}
		}
	}
	switch {
	case m.RequireAllDemands:
		return matches == len(inJob) && matches == len(inTrigger)
	case m.RequireAllDemandsAndIgnoreOthers:
		return matches == len(inTrigger)
	default:
		return matches == len(inJob)
	}
}

// withoutAgentVersion drops the demands on the agent's version, which every agent meets.
func withoutAgentVersion(demands []string) []string {
	var out []string
	for _, d := range demands {
		if !strings.HasPrefix(d, "Agent.Version") {
			out = append(out, d)
		}
	}
	return out
}

package meta

import (
	"fmt"
	"net/url"
	"strings"
)

// AzurePipelinesMetadata is the azure-pipelines trigger's metadata, with KEDA's parameter names
// and sources.
type AzurePipelinesMetadata struct {
	OrganizationURL                      string `keda:"name=organizationURL, order=resolvedEnv;authParams;triggerMetadata"`
	PersonalAccessToken                  string `keda:"name=personalAccessToken, order=authParams;resolvedEnv, optional, secret"`
	Parent                               string `keda:"name=parent, order=triggerMetadata, optional"`
	Demands                              string `keda:"name=demands, order=triggerMetadata, optional"`
	PoolName                             string `keda:"name=poolName, order=triggerMetadata, optional"`
	PoolID                               int64  `keda:"name=poolID, order=triggerMetadata, optional"`
	TargetPipelinesQueueLength           int64  `keda:"name=targetPipelinesQueueLength, order=triggerMetadata, default=1"`
	ActivationTargetPipelinesQueueLength int64  `keda:"name=activationTargetPipelinesQueueLength, order=triggerMetadata, default=0"`
	JobsToFetch                          int64  `keda:"name=jobsToFetch, order=triggerMetadata, default=250"`
	FetchUnfinishedJobsOnly              bool   `keda:"name=fetchUnfinishedJobsOnly, order=triggerMetadata, default=false"`
	ScaleOnInFlight                      bool   `keda:"name=scaleOnInFlight, order=triggerMetadata, default=true"`
	RequireAllDemands                    bool   `keda:"name=requireAllDemands, order=triggerMetadata, default=false"`
	RequireAllDemandsAndIgnoreOthers     bool   `keda:"name=requireAllDemandsAndIgnoreOthers, order=triggerMetadata, default=false"`
	CaseInsensitiveDemandsProcessing     bool   `keda:"name=caseInsensitiveDemandsProcessing, order=triggerMetadata, default=false"`

	// Set by Validate: the organization's URL without a trailing query, and its last path
	// segment, the organization's name.
	OrgURL  *url.URL
	OrgName string
}

// Validate checks what the metadata alone decides.
func (m *AzurePipelinesMetadata) Validate() error {
	if m.OrganizationURL == "" {
		// Offline, organizationURLFromEnv or a TriggerAuthentication may still supply it.
		return &ParamError{Param: "organizationURL", Problem: "is required", Fix: "set metadata.organizationURL (or organizationURLFromEnv), such as https://dev.azure.com/my-organization"}
	}
	u, err := httpURL("organizationURL", m.OrganizationURL, "https://dev.azure.com/my-organization")
	if err != nil {
		return err
	}
	// KEDA takes the organization's name from after the last slash, and refuses a URL that
	// ends in one.
	name := m.OrganizationURL[strings.LastIndex(m.OrganizationURL, "/")+1:]
	if name == "" || u.Path == "" || u.Path == "/" {
		return &ParamError{Param: "organizationURL", Problem: "names no organization after its last slash",
			Fix: "use the organization's URL without a trailing slash, such as https://dev.azure.com/my-organization"}
	}
	u.RawQuery, u.Fragment = "", ""
	m.OrgURL, m.OrgName = u, name
	switch {
	case m.PoolName == "" && m.PoolID == 0:
		return &ParamError{Param: "poolName", Problem: "is required (or poolID)", Fix: "name the agent pool the agents join, or give its numeric poolID"}
	case m.PoolID < 0:
		return &ParamError{Param: "poolID", Problem: fmt.Sprintf("is %d", m.PoolID), Fix: "use the agent pool's ID from Organization settings > Agent pools (its URL's poolId)"}
	case m.TargetPipelinesQueueLength < 1:
		return &ParamError{Param: "targetPipelinesQueueLength", Problem: fmt.Sprintf("is %d", m.TargetPipelinesQueueLength),
			Fix: "must be at least 1: it is the number of waiting jobs per agent the HPA aims at"}
	case m.ActivationTargetPipelinesQueueLength < 0:
		return &ParamError{Param: "activationTargetPipelinesQueueLength", Problem: fmt.Sprintf("is %d", m.ActivationTargetPipelinesQueueLength), Fix: "use 0 or more waiting jobs"}
	case m.JobsToFetch < 1:
		return &ParamError{Param: "jobsToFetch", Problem: fmt.Sprintf("is %d", m.JobsToFetch), Fix: "use how many of the pool's latest job requests to read, 1 or more (250 by default)"}
	}
	return nil
}

// ValidateConfig refuses, as KEDA does, parameters written together that exclude each other:
// jobsToFetch asks for the latest N requests, which the other two do not read.
//
// It also requires the token, here rather than in Validate so that, offline, a token a
// TriggerAuthentication or the target's env will supply does not hide the check above.
func (m *AzurePipelinesMetadata) ValidateConfig(t *Trigger) error {
	if t.Metadata["jobsToFetch"] != "" {
		for _, other := range []string{"fetchUnfinishedJobsOnly", "parent"} {
			if t.Metadata[other] != "" {
				return t.Identify(&ParamError{Param: "jobsToFetch", Problem: "is set together with " + other,
					Fix: "remove one of them: with " + other + " the trigger reads the pool's whole list of requests (or its unfinished ones), with jobsToFetch only the latest ones"})
			}
		}
	}
	suppliedLater := t.Offline && (t.HasAuthenticationRef || t.Metadata["personalAccessTokenFromEnv"] != "")
	if m.PersonalAccessToken == "" && !suppliedLater {
		return t.Identify(&ParamError{Param: "personalAccessToken", Problem: "is required",
			Fix: "set parameter personalAccessToken in a TriggerAuthentication (secretTargetRef to a Secret holding an Azure DevOps PAT with the Agent Pools (read) scope)"})
	}
	return nil
}

package scalers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The azure-pipelines trigger counts the job requests waiting in (or running on) an Azure
// Pipelines agent pool, through the Azure DevOps REST API of organizationURL, with the
// personal access token as basic auth (an empty user name):
//
//	GET {org}/_apis/distributedtask/pools?poolName=<name>      the pool's ID from its name
//	GET {org}/_apis/distributedtask/pools/<id>                 that a poolID names a pool
//	GET {org}/_apis/distributedtask/pools/<id>/jobrequests     the pool's job requests
//
// The job requests are read as KEDA reads them: the latest jobsToFetch ($top), or only the
// unfinished ones (completedRequestCount=0, fetchUnfinishedJobsOnly), or all of them (parent,
// whose matching needs each request's matchedAgents, which the $top form leaves out).

// azurePipelinesScaler resolves its pool once and counts its job requests on each poll.
type azurePipelinesScaler struct {
	cfg        *Config
	meta       meta.AzurePipelinesMetadata
	client     *httpClient
	poolID     int64
	metricName string
}

func newAzurePipelinesScaler(ctx context.Context, cfg *Config) (Scaler, error) {
	s := &azurePipelinesScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	// Basic auth with an empty user name and the token as the password is how Azure DevOps
	// takes a PAT; Secrets() then also hides the header's base64 form.
	p := meta.HTTPAuthParams{Password: s.meta.PersonalAccessToken}
	auth := &meta.HTTPAuth{Modes: []string{meta.AuthModeBasic}, Password: s.meta.PersonalAccessToken}
	s.client = newHTTPClient(cfg, &p, auth, "organizationURL", s.meta.OrgURL, 0, false)
	id, err := s.resolvePool(ctx)
	if err != nil {
		s.client.close()
		return nil, err
	}
	s.poolID = id
	s.metricName = MetricName(cfg.TriggerIndex, fmt.Sprintf("azure-pipelines-%d", id))
	return s, nil
}

func (s *azurePipelinesScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, float64(s.meta.TargetPipelinesQueueLength))
}

// GetMetricsAndActivity counts the matching job requests; the trigger is active above
// activationTargetPipelinesQueueLength.
func (s *azurePipelinesScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	body, err := s.request(ctx, s.jobRequestsURL())
	if err != nil {
		return nil, false, err
	}
	jobs, err := parseAzurePipelinesJobRequests(body)
	if err != nil {
		return nil, false, s.client.fail(s.jobRequestsURL(), err)
	}
	n := azurePipelinesQueueLength(jobs, &s.meta)
	return oneMetricValue(metricName, float64(n)), n > s.meta.ActivationTargetPipelinesQueueLength, nil
}

func (s *azurePipelinesScaler) Close(context.Context) error {
	s.client.close()
	return nil
}

// poolsURL is {org}/_apis/distributedtask/pools with the given path segments after it.
func (s *azurePipelinesScaler) poolsURL(elem ...string) *url.URL {
	return s.meta.OrgURL.JoinPath(append([]string{"_apis", "distributedtask", "pools"}, elem...)...)
}

// jobRequestsURL is the pool's job request list in the form the metadata asks for.
func (s *azurePipelinesScaler) jobRequestsURL() *url.URL {
	u := s.poolsURL(strconv.FormatInt(s.poolID, 10), "jobrequests")
	switch {
	case s.meta.FetchUnfinishedJobsOnly:
		u.RawQuery = "completedRequestCount=0"
	case s.meta.Parent != "":
		// All requests: with $top Azure DevOps leaves out matchedAgents, which parent reads.
	default:
		// KEDA sends the $ unescaped; Azure DevOps reads it either way.
		u.RawQuery = "$top=" + strconv.FormatInt(s.meta.JobsToFetch, 10)
	}
	return u
}

// resolvePool finds the pool's ID from poolName, or checks that poolID names a pool.
func (s *azurePipelinesScaler) resolvePool(ctx context.Context) (int64, error) {
	if s.meta.PoolName != "" {
		u := s.poolsURL()
		u.RawQuery = url.Values{"poolName": {s.meta.PoolName}}.Encode()
		body, err := s.request(ctx, u)
		if err != nil {
			return 0, err
		}
		id, err := azurePipelinesPoolByName(body, s.meta.PoolName)
		if err != nil {
			return 0, s.client.fail(u, err)
		}
		return id, nil
	}
	u := s.poolsURL(strconv.FormatInt(s.meta.PoolID, 10))
	if _, err := s.request(ctx, u); err != nil {
		return 0, err
	}
	return s.meta.PoolID, nil
}

// request GETs u and returns a 2xx answer's JSON body; other answers become errors that say
// what Azure DevOps meant.
func (s *azurePipelinesScaler) request(ctx context.Context, u *url.URL) ([]byte, error) {
	status, header, body, err := s.client.sendFull(ctx, http.MethodGet, u, http.Header{"Accept": {"application/json"}}, nil)
	if err != nil {
		return nil, err
	}
	if err := azurePipelinesAnswerError(status, header, body); err != nil {
		return nil, s.client.fail(u, err)
	}
	return body, nil
}

// azurePipelinesAnswerError words an answer that carries no data: Azure DevOps refuses a token
// with 401 (or, to a request it takes for a browser's, with a 203 sign-in page), names what it
// did not find with 404, and throttles with 429 and Retry-After.
func azurePipelinesAnswerError(status int, header http.Header, body []byte) error {
	msg := azureDevOpsMessage(body)
	switch {
	case status == http.StatusNonAuthoritativeInfo && !json.Valid(body):
		return errors.New("the Azure DevOps API answered 203 with a sign-in page: it refused the credentials: check personalAccessToken in the TriggerAuthentication (expired, revoked or without the Agent Pools (read) scope)")
	case status >= 200 && status <= 299:
		return nil
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("the Azure DevOps API answered %d: it refused the credentials%s: check personalAccessToken in the TriggerAuthentication (expired, revoked, for another organization or without the Agent Pools (read) scope)", status, msg)
	case status == http.StatusNotFound:
		return fmt.Errorf("the Azure DevOps API answered 404 not found%s: check organizationURL, poolName and poolID", msg)
	case status == http.StatusTooManyRequests:
		wait := header.Get("Retry-After")
		if wait == "" {
			wait = "?"
		}
		return fmt.Errorf("the Azure DevOps API answered 429: rate limit reached, retry after %s s%s: raise pollingInterval (the limit is per identity, shared with the token's other uses)", wait, msg)
	default:
		return fmt.Errorf("the Azure DevOps API answered %d %s%s", status, http.StatusText(status), msg)
	}
}

// azureDevOpsMessage is ": <message>" from Azure DevOps' error body
// {"$id":"1","message":...,"typeKey":...}, or "" when the body is no such JSON.
func azureDevOpsMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
		TypeKey string `json:"typeKey"`
	}
	if json.Unmarshal(body, &e) != nil || e.Message == "" {
		return ""
	}
	if len(e.Message) > 300 {
		e.Message = e.Message[:300] + "..."
	}
	if e.TypeKey != "" {
		return fmt.Sprintf(" (%s: %s)", e.TypeKey, e.Message)
	}
	return " (" + e.Message + ")"
}

package scalers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The new-relic trigger runs one NRQL query per poll through NerdGraph, New Relic's GraphQL API:
//
//	POST https://api.newrelic.com/graphql  (api.eu.newrelic.com for region EU, ...)
//	Api-Key: <queryKey>
//	{"query": "query($accountId: Int!, $query: Nrql!) {actor {account(id: $accountId) {nrql(query: $query) {results}}}}",
//	 "variables": {"accountId": <account>, "query": <nrql>}}
//
// and takes the first number of the first result row.

// newRelicNerdGraphEnv names the operator's environment variable that replaces the NerdGraph
// address of every region. It is the variable New Relic's Go client (the one KEDA builds its
// scaler on) reads for the same purpose, so an operator set up for KEDA behaves the same here;
// the tests point it at a fake.
const newRelicNerdGraphEnv = "NEW_RELIC_NERDGRAPH_BASE_URL"

// newRelicNRQLQuery asks for the result rows only: the scaler reads nothing else.
const newRelicNRQLQuery = `query($accountId: Int!, $query: Nrql!) { actor { account(id: $accountId) { nrql(query: $query) { results } } } }`

// newRelicEndpointOverride is the NerdGraph address from the operator's environment, if set.
func newRelicEndpointOverride(value string) (*url.URL, error) {
	if value == "" {
		return nil, nil
	}
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the operator's environment variable %s is not an http(s) URL: unset it, or set it to a NerdGraph address such as https://api.newrelic.com/graphql", newRelicNerdGraphEnv)
	}
	return u, nil
}

// newRelicRequest is the body of a NerdGraph query.
type newRelicRequest struct {
	Query     string            `json:"query"`
	Variables newRelicVariables `json:"variables"`
}

type newRelicVariables struct {
	AccountID int64  `json:"accountId"`
	Query     string `json:"query"`
}

// newRelicAnswer is what the scaler reads of NerdGraph's answer. A row is kept raw, so that its
// fields can be read in the order New Relic wrote them.
type newRelicAnswer struct {
	Data *struct {
		Actor *struct {
			Account *struct {
				NRQL *struct {
					Results []json.RawMessage `json:"results"`
				} `json:"nrql"`
			} `json:"account"`
		} `json:"actor"`
	} `json:"data"`
	Errors []newRelicError `json:"errors"`
}

type newRelicError struct {
	Message    string `json:"message"`
	Extensions struct {
		ErrorClass string `json:"errorClass"`
	} `json:"extensions"`
}

// errNewRelicNoData is a query that found no number to scale on.
var errNewRelicNoData = errors.New("no data")

// newRelicValue reads the query's value from a 2xx NerdGraph answer: the first number of the
// first row. KEDA's scaler takes a number of the first row too, but in Go's random map order;
// the first in the row is the query's first selected value, whatever the order of polls. A query
// with no row, or whose first row holds no number, is errNewRelicNoData (0 unless noDataError).
func newRelicValue(body []byte) (float64, error) {
	var ans newRelicAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		return 0, errors.New("the answer is not a NerdGraph (GraphQL) response")
	}
	if len(ans.Errors) > 0 {
		return 0, newRelicErrors(ans.Errors)
	}
	if ans.Data == nil || ans.Data.Actor == nil || ans.Data.Actor.Account == nil || ans.Data.Actor.Account.NRQL == nil {
		return 0, errors.New("the answer has no data.actor.account.nrql: is the account ID right, and may the key's user read it?")
	}
	rows := ans.Data.Actor.Account.NRQL.Results
	if len(rows) == 0 {
		return 0, fmt.Errorf("%w: the query returned no rows", errNewRelicNoData)
	}
	v, ok, err := firstNumber(rows[0])
	if err != nil {
		return 0, fmt.Errorf("the first result row is not a JSON object: %w", err)
	}
	if !ok {
		return 0, fmt.Errorf("%w: the first result row holds no number", errNewRelicNoData)
	}
	return v, nil
}

// newRelicErrors words NerdGraph's errors, at most three, each cut short.
func newRelicErrors(errs []newRelicError) error {
	var parts []string
	for i, e := range errs {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(errs)-3))
			break
		}
		msg := meta.Clip(strings.Join(strings.Fields(e.Message), " "), 200)
		if e.Extensions.ErrorClass != "" {
			msg = e.Extensions.ErrorClass + ": " + msg
		}
		parts = append(parts, msg)
	}
	return fmt.Errorf("NerdGraph answered with errors: %s", strings.Join(parts, "; "))
}

// firstNumber is the first top-level number of a JSON object, in document order.
func firstNumber(row json.RawMessage) (float64, bool, error) {
	dec := json.NewDecoder(bytes.NewReader(row))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return 0, false, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return 0, false, errors.New("not an object")
	}
	for dec.More() {
		if _, err := dec.Token(); err != nil { // the key
			return 0, false, err
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return 0, false, err
		}
		var n json.Number
		if json.Unmarshal(value, &n) != nil {
			continue // a string, null, an object (percentiles) or a list: not the value
		}
		f, err := n.Float64()
		if err != nil {
			// Beyond float64's range: as large as a value can be.
			continue
		}
		return f, true, nil
	}
	return 0, false, nil
}

// newRelicScaler runs the trigger's NRQL query on each poll.
type newRelicScaler struct {
	cfg        *Config
	meta       meta.NewRelicMetadata
	client     *httpClient
	endpoint   *url.URL
	body       []byte
	metricName string
}

func newNewRelicScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &newRelicScaler{cfg: cfg, metricName: MetricName(cfg.TriggerIndex, "new-relic")}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	if s.meta.Account == 0 {
		return nil, &ParamError{TriggerIndex: cfg.TriggerIndex, TriggerType: cfg.TriggerType, TriggerName: cfg.TriggerName,
			Param: "account", Problem: "is 0", Fix: "use the numeric account ID shown in New Relic's account settings"}
	}
	s.endpoint = s.meta.Endpoint
	override, err := newRelicEndpointOverride(os.Getenv(newRelicNerdGraphEnv))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", triggerWho(cfg), err)
	}
	if override != nil {
		s.endpoint = override
	}
	s.body, err = json.Marshal(newRelicRequest{Query: newRelicNRQLQuery, Variables: newRelicVariables{AccountID: s.meta.Account, Query: s.meta.NRQL}})
	if err != nil {
		return nil, fmt.Errorf("%s: metadata.nrql: %w", triggerWho(cfg), err)
	}
	// The key travels in NerdGraph's Api-Key header, set by the shared client so that it is
	// removed from every error text like any other credential.
	p := meta.HTTPAuthParams{AuthModes: []string{meta.AuthModeAPIKey}, APIKey: s.meta.QueryKey, KeyParamName: "Api-Key", Method: "header"}
	auth, err := p.Validate()
	if err != nil {
		// Only an empty key fails here: name the parameter KEDA's users know.
		return nil, &ParamError{TriggerIndex: cfg.TriggerIndex, TriggerType: cfg.TriggerType, TriggerName: cfg.TriggerName,
			Param: "queryKey", Problem: "is required", Fix: "set parameter queryKey (a New Relic user key, NRAK-...) in a TriggerAuthentication (secretTargetRef)"}
	}
	// NerdGraph has no timeout parameter in the trigger: the operator's HTTP timeout bounds each query.
	s.client = newHTTPClient(cfg, &p, auth, "region", s.endpoint, 0, false)
	return s, nil
}

func (s *newRelicScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	spec, err := ExternalMetricSpec(s.cfg, s.metricName, s.meta.Threshold)
	if err != nil {
		return nil
	}
	return []autoscalingv2.MetricSpec{spec}
}

// GetMetricsAndActivity runs the query once; the trigger is active when its value is above
// activationThreshold.
func (s *newRelicScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	v, err := s.query(ctx)
	if err != nil {
		return nil, false, err
	}
	return []external_metrics.ExternalMetricValue{{MetricName: metricName, Value: *floatQuantity(v)}}, v > s.meta.ActivationThreshold, nil
}

func (s *newRelicScaler) Close(context.Context) error {
	s.client.close()
	return nil
}

// query posts the NRQL query to NerdGraph and reads its value. No data is 0, unless noDataError.
func (s *newRelicScaler) query(ctx context.Context) (float64, error) {
	header := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	status, body, err := s.client.send(ctx, http.MethodPost, s.endpoint, header, s.body)
	if err != nil {
		return 0, err
	}
	if status < 200 || status > 299 {
		return 0, s.client.failOn(http.MethodPost, s.endpoint, s.statusError(status, body))
	}
	v, err := newRelicValue(body)
	if errors.Is(err, errNewRelicNoData) && !s.meta.NoDataError {
		return 0, nil
	}
	if err != nil {
		if errors.Is(err, errNewRelicNoData) {
			err = fmt.Errorf("%w (metadata.noDataError is true)", err)
		}
		return 0, s.client.redactErr(fmt.Errorf("%s: NRQL %s on account %d at %s: %w", triggerWho(s.cfg), meta.Quote(s.meta.NRQL, 200), s.meta.Account, s.endpoint.Redacted(), err))
	}
	return v, nil
}

// statusError words an answer outside 2xx, with NerdGraph's own error messages when it sent some.
func (s *newRelicScaler) statusError(status int, body []byte) error {
	e := &httpStatusError{code: status, body: body}
	var fix string
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		fix = "New Relic refused the queryKey: check that the TriggerAuthentication's queryKey is a valid user key (NRAK-...) and that region matches the account's data center"
	case http.StatusTooManyRequests:
		fix = "New Relic limits NerdGraph requests per user: raise pollingInterval or share fewer triggers per key"
	case http.StatusNotFound:
		fix = "no NerdGraph at this address: check metadata.region"
	}
	var ans newRelicAnswer
	detail := ""
	if json.Unmarshal(body, &ans) == nil && len(ans.Errors) > 0 {
		detail = newRelicErrors(ans.Errors).Error()
	} else if len(body) > 0 {
		detail = "answer: " + meta.Clip(strings.Join(strings.Fields(string(body)), " "), 200)
	}
	msg := e.Error()
	if fix != "" {
		msg += ": " + fix
	}
	if detail != "" {
		msg += " (" + detail + ")"
	}
	return s.client.redactErr(&rewordedError{msg: msg, err: e})
}

package scalers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

// What gcp-stackdriver, gcp-pubsub and gcp-cloudtasks share (the service account key, as every
// gcp-* trigger, is gcp_auth.go's): Cloud Monitoring's projects.timeSeries.list over its REST API:
//
//	GET {endpoint}v3/projects/{project}/timeSeries?filter=...&interval.startTime=...&interval.endTime=...
//	    [&aggregation.alignmentPeriod=60s&aggregation.perSeriesAligner=ALIGN_...&aggregation.crossSeriesReducer=REDUCE_...]
//	Authorization: Bearer {access token}
//
// KEDA reads the same method through Google's gRPC client; the REST API is documented as its
// equivalent, and speaking it with a few types of our own keeps the Cloud client libraries out.

const (
	// gcpMonitoringEndpointEnv names the operator's environment variable that replaces Cloud
	// Monitoring's address. It is the variable gcloud documents for the same purpose (the
	// api_endpoint_overrides/monitoring property), in the same form: a base URL to which the
	// API's version path is added. The tests point it at a fake.
	gcpMonitoringEndpointEnv = "CLOUDSDK_API_ENDPOINT_OVERRIDES_MONITORING"
	gcpMonitoringEndpoint    = "https://monitoring.googleapis.com/"
	// gcpScopeMonitoringRead is the scope KEDA asks for: reading time series needs no more.
	gcpScopeMonitoringRead = "https://www.googleapis.com/auth/monitoring.read"
	// gcpMaxPages bounds the pages one poll follows when Cloud Monitoring answers a page without
	// series but with a next page.
	gcpMaxPages = 10
)

// gcpMonitoringBase is Cloud Monitoring's address, or the operator's override of it.
func gcpMonitoringBase(override string) (*url.URL, error) {
	raw := gcpMonitoringEndpoint
	if override != "" {
		raw = override
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("the operator's environment variable %s is not an http(s) base URL: unset it, or set it to an address such as %s", gcpMonitoringEndpointEnv, gcpMonitoringEndpoint)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawPath = ""
	return u, nil
}

// gcpMonitoringClient reads time series for one trigger: the shared HTTP transport, and a
// token source shared by every trigger with the same key.
type gcpMonitoringClient struct {
	cfg    *Config
	http   *httpClient
	base   *url.URL
	tokens *gcpTokens
	// keyProject is the key's project_id, the project of triggers that name none.
	keyProject string
	// badRequestFix says what to check when Cloud Monitoring refuses the request (400): the
	// parameters the trigger builds it from.
	badRequestFix string
}

// newGCPMonitoringClient builds the client of one trigger from its credentials. It does no I/O
// except reading a key file.
func newGCPMonitoringClient(cfg *Config, src *meta.GCPCredentialSource, badRequestFix string) (*gcpMonitoringClient, error) {
	base, err := gcpMonitoringBase(os.Getenv(gcpMonitoringEndpointEnv))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", triggerWho(cfg), err)
	}
	hc := newHTTPClient(cfg, &meta.HTTPAuthParams{}, &meta.HTTPAuth{}, "projectId", base, 0, false)
	// Also with the operator's override, the token comes from the key's token_uri.
	tokens, err := newGCPTokens(cfg, src, gcpScopeMonitoringRead, hc)
	if err != nil {
		hc.close()
		return nil, err
	}
	return &gcpMonitoringClient{cfg: cfg, http: hc, base: base, tokens: tokens, keyProject: tokens.sa.ProjectID, badRequestFix: badRequestFix}, nil
}

func (c *gcpMonitoringClient) close() {
	c.tokens.close()
	c.http.close()
}

// gcpListRequest is one timeSeries.list request.
type gcpListRequest struct {
	project    string
	filter     string
	start, end time.Time
	agg        meta.GCPAggregation
}

// gcpListURL is the request's address under base, for page pageToken ("" for the first).
func gcpListURL(base *url.URL, r *gcpListRequest, pageToken string) *url.URL {
	u := *base
	u.Path += "v3/projects/" + r.project + "/timeSeries"
	u.RawPath = ""
	q := url.Values{
		"filter":             {r.filter},
		"interval.startTime": {r.start.UTC().Format(time.RFC3339)},
		"interval.endTime":   {r.end.UTC().Format(time.RFC3339)},
	}
	if r.agg.Period > 0 {
		q.Set("aggregation.alignmentPeriod", strconv.FormatInt(int64(r.agg.Period/time.Second), 10)+"s")
		if r.agg.Aligner != "" {
			q.Set("aggregation.perSeriesAligner", r.agg.Aligner)
		}
		if r.agg.Reducer != "" {
			q.Set("aggregation.crossSeriesReducer", r.agg.Reducer)
		}
	}
	if pageToken != "" {
		q.Set("pageToken", pageToken)
	}
	u.RawQuery = q.Encode()
	return &u
}

// gcpListAnswer is the part of a timeSeries.list answer the triggers read.
type gcpListAnswer struct {
	TimeSeries []struct {
		Points []struct {
			Value gcpTypedValue `json:"value"`
		} `json:"points"`
	} `json:"timeSeries"`
	NextPageToken string `json:"nextPageToken"`
}

// gcpTypedValue is a point's value. In the REST API's JSON an int64 is a string (proto3's JSON
// form) and a double may be the strings "NaN" and "Infinity"; both are kept raw and read by
// gcpNumber.
type gcpTypedValue struct {
	Int64Value        json.RawMessage `json:"int64Value"`
	DoubleValue       json.RawMessage `json:"doubleValue"`
	BoolValue         json.RawMessage `json:"boolValue"`
	StringValue       json.RawMessage `json:"stringValue"`
	DistributionValue json.RawMessage `json:"distributionValue"`
}

// errGCPNoPoint: the answer has no series, or its first series no point.
var errGCPNoPoint = errors.New("no time series matched")

// gcpFirstPoint reads a 2xx answer of timeSeries.list: as KEDA, the first point (the newest) of
// the first series. next is the token of the next page, when the page has no series.
func gcpFirstPoint(body []byte) (v float64, next string, err error) {
	var a gcpListAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, "", errors.New("the answer is not Cloud Monitoring's timeSeries.list JSON")
	}
	if len(a.TimeSeries) == 0 {
		return 0, a.NextPageToken, errGCPNoPoint
	}
	if len(a.TimeSeries[0].Points) == 0 {
		return 0, "", errGCPNoPoint
	}
	return gcpPointValue(&a.TimeSeries[0].Points[0].Value)
}

// gcpPointValue is a point's value as a number: int64 and double values only, as KEDA reads them.
func gcpPointValue(tv *gcpTypedValue) (float64, string, error) {
	switch {
	case tv.Int64Value != nil:
		s := unquoteJSON(tv.Int64Value)
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, "", fmt.Errorf("the newest point's int64Value is %s, not a whole number", meta.Quote(s, 40))
		}
		return float64(n), "", nil
	case tv.DoubleValue != nil:
		s := unquoteJSON(tv.DoubleValue)
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, "", fmt.Errorf("the newest point's doubleValue is %s, not a finite number", meta.Quote(s, 40))
		}
		return f, "", nil
	}
	kind := "no value"
	switch {
	case tv.BoolValue != nil:
		kind = "a boolValue"
	case tv.StringValue != nil:
		kind = "a stringValue"
	case tv.DistributionValue != nil:
		kind = "a distributionValue"
	}
	return 0, "", fmt.Errorf("the newest point has %s, not an int64Value or doubleValue: pick a numeric metric, or align a distribution with metadata.alignmentAligner (e.g. percentile_99) and alignmentPeriodSeconds", kind)
}

// unquoteJSON is a JSON scalar's text: a string's contents, or a number's digits.
func unquoteJSON(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}

// gcpErrorBody is Google's error answer: {"error": {"code": 403, "message": "...", "status": "PERMISSION_DENIED"}}.
type gcpErrorBody struct {
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
	} `json:"error"`
}

// gcpStatusError words an answer outside 2xx with Google's own status and message, and the fix.
func gcpStatusError(status int, body []byte, project, badRequestFix string) error {
	err := fmt.Errorf("Cloud Monitoring answered %d %s", status, http.StatusText(status)) //nolint:staticcheck // a name
	var e gcpErrorBody
	if json.Unmarshal(body, &e) == nil && e.Error != nil && (e.Error.Message != "" || e.Error.Status != "") {
		err = fmt.Errorf("%w (%s: %s)", err, meta.Clip(e.Error.Status, 40), meta.Quote(strings.Join(strings.Fields(e.Error.Message), " "), 300))
	} else if snippet := strings.Join(strings.Fields(string(body)), " "); snippet != "" {
		err = fmt.Errorf("%w (answer: %s)", err, meta.Clip(snippet, 200))
	}
	switch status {
	case http.StatusBadRequest:
		return fmt.Errorf("%w: %s", err, badRequestFix)
	case http.StatusUnauthorized:
		return fmt.Errorf("%w: the access token was refused: check that the service account key is current", err)
	case http.StatusForbidden:
		return fmt.Errorf("%w: give the service account the role roles/monitoring.viewer on project %s", err, project)
	case http.StatusNotFound:
		return fmt.Errorf("%w: check the project ID %s", err, project)
	case http.StatusTooManyRequests:
		return fmt.Errorf("%w: the project's Cloud Monitoring read quota is spent: raise pollingInterval", err)
	}
	return err
}

// firstPoint runs timeSeries.list and returns the first point of the first series; no series
// (or a first series without points) is errGCPNoPoint.
func (c *gcpMonitoringClient) firstPoint(ctx context.Context, r *gcpListRequest) (float64, error) {
	return c.pages(ctx, r.project, "filter "+meta.Quote(r.filter, 300), func(pageToken string) (string, *url.URL, []byte) {
		return http.MethodGet, gcpListURL(c.base, r, pageToken), nil
	}, gcpFirstPoint)
}

// queryFirstPoint runs a Monitoring Query Language query (timeSeries.query, as KEDA's gcp-pubsub
// does, one series a page) and returns the first point of the first series; none is
// errGCPNoPoint.
func (c *gcpMonitoringClient) queryFirstPoint(ctx context.Context, project, mql string) (float64, error) {
	u := *c.base
	u.Path += "v3/projects/" + project + "/timeSeries:query"
	return c.pages(ctx, project, "query "+meta.Quote(mql, 300), func(pageToken string) (string, *url.URL, []byte) {
		body, _ := json.Marshal(struct {
			Query     string `json:"query"`
			PageSize  int    `json:"pageSize"`
			PageToken string `json:"pageToken,omitempty"`
		}{mql, 1, pageToken}) // strings and a number: Marshal cannot fail
		return http.MethodPost, &u, body
	}, gcpQueryFirstPoint)
}

// pages asks for pages (request builds the request of a page) until one has a point; what
// names the request in errors.
func (c *gcpMonitoringClient) pages(ctx context.Context, project, what string, request func(pageToken string) (string, *url.URL, []byte),
	read func([]byte) (float64, string, error)) (float64, error) {
	pageToken := ""
	for page := 0; page < gcpMaxPages; page++ {
		tok, err := c.tokens.token(c.cfg, c.http)
		if err != nil {
			return 0, err
		}
		method, u, reqBody := request(pageToken)
		header := http.Header{"Authorization": {"Bearer " + tok}, "Accept": {"application/json"}}
		if reqBody != nil {
			header.Set("Content-Type", "application/json")
		}
		status, body, err := c.http.send(ctx, method, u, header, reqBody)
		if err != nil {
			return 0, redact(err, []string{tok})
		}
		if status != http.StatusOK {
			return 0, redact(c.http.failOn(method, u, gcpStatusError(status, body, project, c.badRequestFix)), []string{tok})
		}
		v, next, err := read(body)
		switch {
		case errors.Is(err, errGCPNoPoint) && next != "" && next != pageToken:
			pageToken = next
			continue
		case errors.Is(err, errGCPNoPoint):
			return 0, err
		case err != nil:
			return 0, redact(c.http.redactErr(fmt.Errorf("%s: project %s, %s: %w", triggerWho(c.cfg), project, what, err)), []string{tok})
		}
		return v, nil
	}
	return 0, errGCPNoPoint
}

// gcpQueryAnswer is the part of a timeSeries.query answer the triggers read.
type gcpQueryAnswer struct {
	TimeSeriesData []struct {
		PointData []struct {
			Values []gcpTypedValue `json:"values"`
		} `json:"pointData"`
	} `json:"timeSeriesData"`
	NextPageToken string `json:"nextPageToken"`
}

// gcpQueryFirstPoint reads a 2xx answer of timeSeries.query: as KEDA, the first value of the
// first point of the first series. next is the token of the next page, when the page has no
// series.
func gcpQueryFirstPoint(body []byte) (v float64, next string, err error) {
	var a gcpQueryAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, "", errors.New("the answer is not Cloud Monitoring's timeSeries.query JSON")
	}
	if len(a.TimeSeriesData) == 0 {
		return 0, a.NextPageToken, errGCPNoPoint
	}
	points := a.TimeSeriesData[0].PointData
	if len(points) == 0 || len(points[0].Values) == 0 {
		return 0, "", errGCPNoPoint
	}
	return gcpPointValue(&points[0].Values[0])
}

package scalers

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// gcpFuzzToken is the fuzzed trigger's access token; no error may show it, even when Cloud
// Monitoring echoes it.
const gcpFuzzToken = "ya29.fuzz-token-never-shown-5e1f"

// FuzzGCPMonitoringResponse feeds arbitrary timeSeries.list answers to gcpFirstPoint and, served
// on 127.0.0.1 with a fuzzed status code, to a gcp-stackdriver trigger's poll: a 2xx answer reads
// as gcpFirstPoint reads it (no series is valueIfNull when set, an error otherwise), any other
// status fails the poll, the value is finite, and no error shows the token or the key.
func FuzzGCPMonitoringResponse(f *testing.F) {
	for _, body := range []string{
		`{"timeSeries":[{"metric":{"type":"x"},"resource":{"type":"y"},"metricKind":"GAUGE","valueType":"INT64","points":[{"interval":{"startTime":"2026-12-07T09:00:00Z","endTime":"2026-12-07T09:00:00Z"},"value":{"int64Value":"42"}}]}],"unit":""}`,
		`{"timeSeries":[{"points":[{"value":{"doubleValue":1.5}},{"value":{"doubleValue":9}}]}]}`,
		`{"timeSeries":[{"points":[{"value":{"doubleValue":"NaN"}}]}]}`,
		`{"timeSeries":[{"points":[{"value":{"doubleValue":1e308}}]}]}`,
		`{"timeSeries":[{"points":[{"value":{"int64Value":"-9223372036854775808"}}]}]}`,
		`{"timeSeries":[{"points":[{"value":{"distributionValue":{"count":"2","mean":1}}}]}]}`,
		`{"timeSeries":[{"points":[]}]}`,
		`{"timeSeries":[]}`,
		`{"unit":""}`,
		`{"nextPageToken":"next"}`,
		`{"error":{"code":403,"message":"Permission monitoring.timeSeries.list denied","status":"PERMISSION_DENIED"}}`,
		`null`,
		``,
	} {
		f.Add([]byte(body), uint8(0), false)
	}
	f.Add([]byte(`{"unit":""}`), uint8(0), true)
	f.Add([]byte(`{"error":{"code":401,"message":"token `+gcpFuzzToken+` is not valid","status":"UNAUTHENTICATED"}}`), uint8(2), false)
	f.Add([]byte(`{"timeSeries":[{"points":[{"value":{"stringValue":"`+gcpFuzzToken+`"}}]}]}`), uint8(0), false)
	srv := newFuzzServer(f)
	f.Setenv(gcpMonitoringEndpointEnv, srv.URL+"/")
	f.Fuzz(func(t *testing.T, body []byte, statusIndex uint8, withValueIfNull bool) {
		meta := map[string]string{"projectId": "acme-prod", "filter": `metric.type="custom.googleapis.com/queue"`, "activationTargetValue": "2"}
		if withValueIfNull {
			meta["valueIfNull"] = "3"
		}
		s, err := New(context.Background(), &Config{TriggerType: "gcp-stackdriver", TriggerIndex: 1, TriggerName: "queue", Timeout: fuzzPollTimeout,
			TriggerMetadata: meta, AuthParams: map[string]string{"GoogleApplicationCredentials": gcpTestKey}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		// The fuzzed server answers everything with the input: the token is given, not fetched.
		s.(*gcpStackdriverScaler).client.tokens.source = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: gcpFuzzToken})
		status := fuzzStatuses[int(statusIndex)%len(fuzzStatuses)]
		srv.serve(status, body, nil)
		if status == http.StatusNoContent {
			// A 204 carries no body, whatever the server writes.
			body = nil
		}
		want, _, wantErr := gcpFirstPoint(body)
		if wantErr == nil && (math.IsNaN(want) || math.IsInf(want, 0)) {
			t.Fatalf("read %g from the answer", want)
		}
		if errors.Is(wantErr, errGCPNoPoint) && withValueIfNull {
			want, wantErr = 3, nil
		}
		vals, active, err := poll(t, s, "s1-gcp-stackdriver-acme-prod")
		if err != nil && (strings.Contains(err.Error(), gcpFuzzToken) || strings.Contains(err.Error(), "TESTKEYNEVERSHOWN")) {
			t.Fatalf("error %q shows a credential", err)
		}
		switch {
		case status != http.StatusOK:
			// Only 200 is timeSeries.list's answer; 204 included.
			if err == nil {
				t.Fatalf("a %d answer read as %+v", status, vals)
			}
			checkErr(t, err, `trigger 1 (gcp-stackdriver "queue")`)
		case wantErr != nil:
			if err == nil {
				t.Fatalf("gcpFirstPoint failed (%v), the poll did not", wantErr)
			}
			checkErr(t, err, `trigger 1 (gcp-stackdriver "queue")`)
		case err != nil:
			t.Fatalf("gcpFirstPoint read %g, the poll failed: %v", want, err)
		default:
			checkPoll(t, vals, active, "s1-gcp-stackdriver-acme-prod", want, 2)
		}
	})
}

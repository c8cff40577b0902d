package scalers

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// FuzzDatadogResponse feeds arbitrary answers of Datadog's /api/v1/query to datadogPickValue
// and, served on 127.0.0.1 with a fuzzed status code, to a datadog trigger's poll: a 200 answer
// reads as datadogPickValue reads it (metricUnavailableValue standing in for no data when set),
// a 422 gives metricUnavailableValue when set, any other answer fails the poll; the value is
// finite and no error shows a key.
func FuzzDatadogResponse(f *testing.F) {
	for _, body := range []string{
		`{"status":"ok","res_type":"time_series","series":[{"metric":"trace.redis.command.hits","pointlist":[[1700000000000,3.0],[1700000060000,null]],"scope":"env:none"}],"from_date":1700000000000,"to_date":1700000090000}`,
		`{"status":"ok","series":[]}`,
		`{"status":"ok","series":[{"pointlist":[[1,1],[2,2]]},{"pointlist":[[1,5]]}]}`,
		`{"status":"ok","series":[{"pointlist":[[1]]}]}`,
		`{"status":"ok","series":[{"pointlist":[[1,1e308],[2,-1e308]]}]}`,
		`{"status":"error","error":"Error parsing query: unable to parse avg:: Rule 'scope_expr' didn't match"}`,
		`{"errors":["Forbidden"]}`,
		`{"errors":["Rate limit of 300 requests in 3600 seconds reached."]}`,
		`null`,
		``,
	} {
		f.Add([]byte(body), uint8(0), uint8(0), false, false)
	}
	f.Add([]byte(`{"status":"ok","series":[{"pointlist":[[1,1],[2,2],[3,3]]}]}`), uint8(0), uint8(2), true, false)
	f.Add([]byte(`{"status":"ok","series":[{"pointlist":[[1,null]]}]}`), uint8(0), uint8(0), false, true)
	f.Add([]byte(`{"errors":["Forbidden"]}`), uint8(3), uint8(0), false, false)
	f.Add([]byte(`{"errors":["metric unavailable"]}`), uint8(5), uint8(0), false, true)
	srv := newFuzzServer(f)
	const fill = 0.25
	f.Fuzz(func(t *testing.T, body []byte, statusIndex, skip uint8, average, useFill bool) {
		aggregator := "max"
		if average {
			aggregator = "average"
		}
		want, wantErr := datadogPickValue(body, int(skip), aggregator)
		if wantErr == nil && (math.IsNaN(want) || math.IsInf(want, 0)) {
			t.Fatalf("read %g from the answer", want)
		}
		if wantErr != nil {
			checkErr(t, wantErr)
		}
		meta := map[string]string{"query": "sum:jobs.queued{env:prod}", "queryValue": "10", "activationQueryValue": "2",
			"lastAvailablePointOffset": strconv.Itoa(int(skip)), "queryAggregator": aggregator}
		if useFill {
			meta["metricUnavailableValue"] = strconv.FormatFloat(fill, 'g', -1, 64)
		}
		s, err := New(context.Background(), &Config{TriggerType: "datadog", TriggerIndex: 1, TriggerName: "dd", Timeout: fuzzPollTimeout,
			TriggerMetadata: meta, AuthParams: map[string]string{"apiKey": "fuzz-api-key-secret", "appKey": "fuzz-app-key-secret", "datadogSite": srv.URL}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		status := fuzzStatuses[int(statusIndex)%len(fuzzStatuses)]
		srv.serve(status, body, nil)
		vals, active, err := poll(t, s, "s1-datadog-sum-jobs-queued")
		if err != nil && (strings.Contains(err.Error(), "fuzz-api-key-secret") || strings.Contains(err.Error(), "fuzz-app-key-secret")) {
			t.Fatalf("error shows a key: %v", err)
		}
		switch {
		case status == http.StatusUnprocessableEntity && useFill,
			status == http.StatusOK && useFill && errors.Is(wantErr, errDatadogNoData):
			if err != nil {
				t.Fatalf("want metricUnavailableValue, got %v", err)
			}
			checkPoll(t, vals, active, "s1-datadog-sum-jobs-queued", fill, 2)
		case status != http.StatusOK:
			if err == nil {
				t.Fatalf("a %d answer read as %+v", status, vals)
			}
			checkErr(t, err, `trigger 1 (datadog "dd")`)
		case wantErr != nil:
			if err == nil {
				t.Fatalf("datadogPickValue failed (%v), the poll did not", wantErr)
			}
			checkErr(t, err, `trigger 1 (datadog "dd")`, wantErr.Error())
		case err != nil:
			t.Fatalf("datadogPickValue read %g, the poll failed: %v", want, err)
		default:
			checkPoll(t, vals, active, "s1-datadog-sum-jobs-queued", want, 2)
		}
	})
}

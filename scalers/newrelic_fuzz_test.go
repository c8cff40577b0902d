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

// newRelicFuzzKey is the fuzzed trigger's user key; no error may show it, even when NerdGraph
// echoes it.
const newRelicFuzzKey = "NRAK-fuzz-key-never-shown-71c2"

// FuzzNewRelicResponse feeds arbitrary NerdGraph answers to newRelicValue and, served on
// 127.0.0.1 with a fuzzed status code, to a new-relic trigger's poll: a 2xx answer reads as
// newRelicValue reads it (no data is 0 unless noDataError), any other fails the poll, the value
// is a finite number and no error shows the key.
func FuzzNewRelicResponse(f *testing.F) {
	for _, body := range []string{
		`{"data":{"actor":{"account":{"nrql":{"results":[{"count":42}]}}}}}`,
		`{"data":{"actor":{"account":{"nrql":{"results":[{"average.duration":0.25,"count":9}]}}}}}`,
		`{"data":{"actor":{"account":{"nrql":{"results":[{"facet":"a","count":3},{"facet":"b","count":8}]}}}}}`,
		`{"data":{"actor":{"account":{"nrql":{"results":[{"beginTimeSeconds":1700000000,"endTimeSeconds":1700000060,"count":5}]}}}}}`,
		`{"data":{"actor":{"account":{"nrql":{"results":[{"latest.depth":null}]}}}}}`,
		`{"data":{"actor":{"account":{"nrql":{"results":[{"percentile.duration":{"95":1.5}}]}}}}}`,
		`{"data":{"actor":{"account":{"nrql":{"results":[]}}}}}`,
		`{"data":{"actor":{"account":{"nrql":{"results":[{"count":1e400}]}}}}}`,
		`{"data":{"actor":{"account":{"nrql":{"results":[[1,2]]}}}}}`,
		`{"data":{"actor":{"account":null}},"errors":[{"message":"Access denied","path":["actor","account"],"extensions":{"errorClass":"FORBIDDEN"}}]}`,
		`{"errors":[{"message":"NRQL Syntax Error: Unknown function SELEC","extensions":{"errorClass":"INVALID_INPUT"}}]}`,
		`{"data":null}`,
		`null`,
		``,
	} {
		f.Add([]byte(body), uint8(0), false)
	}
	f.Add([]byte(`{"data":{"actor":{"account":{"nrql":{"results":[]}}}}}`), uint8(0), true)
	f.Add([]byte(`{"errors":[{"message":"Invalid API key `+newRelicFuzzKey+`","extensions":{"errorClass":"UNAUTHORIZED"}}]}`), uint8(2), false)
	f.Add([]byte(`{"errors":[{"message":"echo `+newRelicFuzzKey+`"}]}`), uint8(0), false)
	f.Add([]byte(`<html>Too Many Requests</html>`), uint8(7), false)
	srv := newFuzzServer(f)
	f.Setenv(newRelicNerdGraphEnv, srv.URL+"/graphql")
	f.Fuzz(func(t *testing.T, body []byte, statusIndex uint8, noDataError bool) {
		want, wantErr := newRelicValue(body)
		if wantErr == nil && (math.IsNaN(want) || math.IsInf(want, 0)) {
			t.Fatalf("read %g from the answer", want)
		}
		if errors.Is(wantErr, errNewRelicNoData) && !noDataError {
			want, wantErr = 0, nil
		}

		s, err := New(context.Background(), &Config{TriggerType: "new-relic", TriggerIndex: 1, TriggerName: "apm", Timeout: fuzzPollTimeout,
			TriggerMetadata: map[string]string{"account": "1234567", "nrql": "SELECT count(*) FROM Transaction", "threshold": "10",
				"activationThreshold": "2", "noDataError": strconv.FormatBool(noDataError)},
			AuthParams: map[string]string{"queryKey": newRelicFuzzKey}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		status := fuzzStatuses[int(statusIndex)%len(fuzzStatuses)]
		srv.serve(status, body, nil)
		vals, active, err := poll(t, s, "s1-new-relic")
		if err != nil && strings.Contains(err.Error(), newRelicFuzzKey) {
			t.Fatalf("error %q shows the key", err)
		}
		if status == http.StatusNoContent {
			// A 204 carries no body, whatever the server writes.
			want, wantErr = newRelicValue(nil)
		}
		switch {
		case status/100 != 2:
			if err == nil {
				t.Fatalf("a %d answer read as %+v", status, vals)
			}
			checkErr(t, err, `trigger 1 (new-relic "apm")`)
		case wantErr != nil:
			if err == nil {
				t.Fatalf("newRelicValue failed (%v), the poll did not", wantErr)
			}
			checkErr(t, err, `trigger 1 (new-relic "apm")`)
		case err != nil:
			t.Fatalf("newRelicValue read %g, the poll failed: %v", want, err)
		default:
			checkPoll(t, vals, active, "s1-new-relic", want, 2)
		}
	})
}

package scalers

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"testing"
)

// FuzzPrometheusResponse feeds arbitrary answers of /api/v1/query to promAnswerValue and, served
// on 127.0.0.1 with a fuzzed status code, to a prometheus trigger's poll: a 2xx answer reads as
// promAnswerValue reads it, any other fails the poll, and the value is a finite number.
func FuzzPrometheusResponse(f *testing.F) {
	for _, body := range []string{
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a"},"value":[1700000000.123,"42"]}]}}`,
		`{"status":"success","data":{"resultType":"vector","result":[]}}`,
		`{"status":"success","data":{"resultType":"vector","result":null}}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]},{"metric":{"a":"b"},"value":[1,"2"]}]}}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"value":[1]}]}}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"value":[1,2]}]}}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"NaN"]}]}}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"+Inf"]}]}}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1e308"]}]}}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"-9.3e15"]}]}}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"value":[[1],["2"]]}]}}`,
		`{"status":"success","data":{"resultType":"scalar","result":[1700000000,"3.5"]}}`,
		`{"status":"success","data":{"resultType":"scalar","result":null}}`,
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"2"]]}]}}`,
		`{"status":"success","data":{"resultType":"string","result":[1,"x"]}}`,
		`{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected end of input"}`,
		`{"status":"success"}`,
		`{"status":""}`,
		`null`,
		`[]`,
		``,
		`<html>not prometheus</html>`,
	} {
		f.Add([]byte(body), uint8(0), false)
	}
	f.Add([]byte(`{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\""}`), uint8(1), true)
	f.Add([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"2"]}]}}`), uint8(7), true)
	f.Add([]byte(`upstream connect error`), uint8(7), false)
	srv := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte, statusIndex uint8, ignoreNullValues bool) {
		want, wantErr := promAnswerValue(body, ignoreNullValues)
		if wantErr == nil && (math.IsNaN(want) || math.IsInf(want, 0)) {
			t.Fatalf("read %g from the answer", want)
		}
		if wantErr != nil {
			checkErr(t, wantErr)
		}

		s, err := New(context.Background(), &Config{TriggerType: "prometheus", TriggerIndex: 1, TriggerName: "q", Timeout: fuzzPollTimeout,
			TriggerMetadata: map[string]string{"serverAddress": srv.URL, "query": "sum(up)", "threshold": "10", "activationThreshold": "2",
				"ignoreNullValues": strconv.FormatBool(ignoreNullValues)}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		status := fuzzStatuses[int(statusIndex)%len(fuzzStatuses)]
		srv.serve(status, body, nil)
		vals, active, err := poll(t, s, "s1-prometheus")
		if status == http.StatusNoContent {
			// A 204 carries no body, whatever the server writes.
			want, wantErr = promAnswerValue(nil, ignoreNullValues)
		}
		switch {
		case status/100 != 2:
			if err == nil {
				t.Fatalf("a %d answer read as %+v", status, vals)
			}
			checkErr(t, err, `trigger 1 (prometheus "q")`)
		case wantErr != nil:
			if err == nil {
				t.Fatalf("promAnswerValue failed (%v), the poll did not", wantErr)
			}
			checkErr(t, err, `trigger 1 (prometheus "q")`, wantErr.Error())
		case err != nil:
			t.Fatalf("promAnswerValue read %g, the poll failed: %v", want, err)
		default:
			checkPoll(t, vals, active, "s1-prometheus", want, 2)
		}
	})
}

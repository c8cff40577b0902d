package scalers

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"testing"
)

// FuzzLokiResponse feeds arbitrary answers of Loki's /loki/api/v1/query to lokiAnswerValue and,
// served on 127.0.0.1 with a fuzzed status code, to a loki trigger's poll: a 2xx answer reads as
// lokiAnswerValue reads it, any other fails the poll, and the value is a finite number.
func FuzzLokiResponse(f *testing.F) {
	for _, body := range []string{
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"app":"w"},"value":[1700000000.123,"42"]}],"stats":{"summary":{"bytesProcessedPerSecond":1}}}}`,
		`{"status":"success","data":{"resultType":"vector","result":[]}}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]},{"metric":{"app":"b"},"value":[1,"2"]}]}}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,null]}]}}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[]}]}}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"-Inf"]}]}}`,
		`{"status":"success","data":{"resultType":"scalar","result":[1700000000,"3.5"]}}`,
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"2"]]}]}}`,
		`{"status":"success","data":{"resultType":"streams","result":[{"stream":{"app":"w"},"values":[["1700000000000000000","GET /"]]}]}}`,
		`{"status":"error","errorType":"bad_data","error":"parse error at line 1, col 1"}`,
		`{"status":"success"}`,
		`null`,
		``,
		`no org id`,
	} {
		f.Add([]byte(body), uint8(0), false)
	}
	f.Add([]byte("parse error at line 1, col 5: syntax error: unexpected IDENTIFIER"), uint8(1), true)
	f.Add([]byte("no org id"), uint8(2), true)
	f.Add([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"2"]}]}}`), uint8(6), false)
	srv := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte, statusIndex uint8, ignoreNullValues bool) {
		want, wantErr := lokiAnswerValue(body, ignoreNullValues)
		if wantErr == nil && (math.IsNaN(want) || math.IsInf(want, 0)) {
			t.Fatalf("read %g from the answer", want)
		}
		if wantErr != nil {
			checkErr(t, wantErr)
		}

		s, err := New(context.Background(), &Config{TriggerType: "loki", TriggerIndex: 1, TriggerName: "logs", Timeout: fuzzPollTimeout,
			TriggerMetadata: map[string]string{"serverAddress": srv.URL, "query": `sum(rate({app="w"}[1m]))`, "threshold": "10",
				"activationThreshold": "2", "tenantName": "t", "ignoreNullValues": strconv.FormatBool(ignoreNullValues)}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		status := fuzzStatuses[int(statusIndex)%len(fuzzStatuses)]
		srv.serve(status, body, nil)
		vals, active, err := poll(t, s, "s1-loki")
		if status == http.StatusNoContent {
			// A 204 carries no body, whatever the server writes.
			want, wantErr = lokiAnswerValue(nil, ignoreNullValues)
		}
		switch {
		case status/100 != 2:
			if err == nil {
				t.Fatalf("a %d answer read as %+v", status, vals)
			}
			checkErr(t, err, `trigger 1 (loki "logs")`)
		case wantErr != nil:
			if err == nil {
				t.Fatalf("lokiAnswerValue failed (%v), the poll did not", wantErr)
			}
			checkErr(t, err, `trigger 1 (loki "logs")`, wantErr.Error())
		case err != nil:
			t.Fatalf("lokiAnswerValue read %g, the poll failed: %v", want, err)
		default:
			checkPoll(t, vals, active, "s1-loki", want, 2)
		}
	})
}

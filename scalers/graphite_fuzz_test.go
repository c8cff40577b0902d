package scalers

import (
	"context"
	"math"
	"net/http"
	"testing"
)

// FuzzGraphiteResponse feeds arbitrary answers of graphite-web's /render to graphiteAnswerValue
// and, served on 127.0.0.1 with a fuzzed status code, to a graphite trigger's poll: a 2xx answer
// reads as graphiteAnswerValue reads it, any other fails the poll, and the value is finite.
func FuzzGraphiteResponse(f *testing.F) {
	for _, body := range []string{
		`[{"target":"queue.jobs","tags":{"name":"queue.jobs"},"datapoints":[[null,1796632155],[5.0,1796632163],[null,1796632164]]}]`,
		`[{"target":"queue.jobs","datapoints":[[1,1],[2,2]]}]`,
		`[{"target":"a","datapoints":[[1,1]]},{"target":"b","datapoints":[[2,1]]}]`,
		`[{"target":"x","datapoints":[[null,1],[null,2]]}]`,
		`[{"target":"x","datapoints":[[],[3]]}]`,
		`[{"target":"x","datapoints":[]}]`,
		`[{"target":"x"}]`,
		`[]`,
		`null`,
		``,
		`{"error":"bad target"}`,
		`<html><title>Graphite</title></html>`,
	} {
		f.Add([]byte(body), uint8(0))
	}
	f.Add([]byte("Invalid target: 'sumSeries('"), uint8(1))
	f.Add([]byte("Traceback (most recent call last):"), uint8(3))
	srv := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte, statusIndex uint8) {
		want, wantErr := graphiteAnswerValue(body)
		if wantErr == nil && (math.IsNaN(want) || math.IsInf(want, 0)) {
			t.Fatalf("read %g from the answer", want)
		}
		if wantErr != nil {
			checkErr(t, wantErr)
		}

		s, err := New(context.Background(), &Config{TriggerType: "graphite", TriggerIndex: 1, TriggerName: "queue", Timeout: fuzzPollTimeout,
			TriggerMetadata: map[string]string{"serverAddress": srv.URL, "query": "sumSeries(queue.*.jobs)", "queryTime": "-1min",
				"threshold": "10", "activationThreshold": "2"}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		status := fuzzStatuses[int(statusIndex)%len(fuzzStatuses)]
		srv.serve(status, body, nil)
		vals, active, err := poll(t, s, "s1-graphite")
		if status == http.StatusNoContent {
			// A 204 carries no body, whatever the server writes.
			want, wantErr = graphiteAnswerValue(nil)
		}
		switch {
		case status/100 != 2:
			if err == nil {
				t.Fatalf("a %d answer read as %+v", status, vals)
			}
			checkErr(t, err, `trigger 1 (graphite "queue")`)
		case wantErr != nil:
			if err == nil {
				t.Fatalf("graphiteAnswerValue failed (%v), the poll did not", wantErr)
			}
			checkErr(t, err, `trigger 1 (graphite "queue")`, wantErr.Error())
		case err != nil:
			t.Fatalf("graphiteAnswerValue read %g, the poll failed: %v", want, err)
		default:
			checkPoll(t, vals, active, "s1-graphite", want, 2)
		}
	})
}

package scalers

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"
)

// FuzzDynatraceResponse feeds arbitrary answers of the Metrics API v2 query endpoint to
// dynatraceMetricsValue and, served on 127.0.0.1 with a fuzzed status code, to a dynatrace
// trigger's poll: a 200 answer reads as dynatraceMetricsValue reads it, any other fails the
// poll, no error shows the token, and a value is a finite number.
func FuzzDynatraceResponse(f *testing.F) {
	for _, body := range []string{
		`{"totalCount":1,"nextPageKey":null,"resolution":"Inf","result":[{"metricId":"builtin:service.requestCount.total:fold","dataPointCountRatio":1.0E-6,"dimensionCountRatio":1.0E-5,"data":[{"dimensions":[],"dimensionMap":{},"timestamps":[1700000000000],"values":[42]}]}]}`,
		`{"result":[{"metricId":"m","data":[{"values":[null,3.5]}]}]}`,
		`{"result":[{"metricId":"m","data":[]}]}`,
		`{"result":[]}`,
		`{"result":[{"data":[{"values":[1e308,1e308]}]}]}`,
		`{"result":[{"data":[{"values":[-5]}]}]}`,
		`{"error":{"code":400,"message":"The metric selector is invalid","constraintViolations":[{"path":"metricSelector","message":"unknown metric","parameterLocation":"QUERY","location":null}]}}`,
		`{"error":{"code":401,"message":"Missing authorization parameter."}}`,
		`null`,
		``,
	} {
		f.Add([]byte(body), uint8(0))
	}
	f.Add([]byte(`{"error":{"code":401,"message":"Token Authentication failed"}}`), uint8(2))
	f.Add([]byte(`{"error":{"code":403,"message":"Token is missing required scope. Use one of: metrics.read"}}`), uint8(3))
	f.Add([]byte(`{"error":{"code":404,"message":"dt0c01.SECRETSECRET.TOKENTOKEN not found"}}`), uint8(4))
	srv := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte, statusIndex uint8) {
		want, wantErr := dynatraceMetricsValue(body)
		if wantErr != nil {
			checkErr(t, wantErr)
		}
		s, err := New(context.Background(), &Config{TriggerType: "dynatrace", TriggerIndex: 1, TriggerName: "dt", Timeout: fuzzPollTimeout,
			AuthParams:      map[string]string{"token": dynatraceTestToken},
			TriggerMetadata: map[string]string{"host": srv.URL, "metricSelector": "builtin:service.requestCount.total:fold", "threshold": "10", "activationThreshold": "2"}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		status := fuzzStatuses[int(statusIndex)%len(fuzzStatuses)]
		srv.serve(status, body, nil)
		vals, active, err := poll(t, s, "s1-dynatrace")
		if err != nil && (len(err.Error()) > maxFuzzErrLen || strings.Contains(err.Error(), dynatraceTestToken)) {
			t.Fatalf("error shows the token or is too long: %.300s", err)
		}
		switch {
		case status != http.StatusOK:
			if err == nil {
				t.Fatalf("a %d answer read as %+v", status, vals)
			}
			checkErr(t, err, `trigger 1 (dynatrace "dt")`)
		case wantErr != nil:
			if err == nil {
				t.Fatalf("dynatraceMetricsValue failed (%v), the poll did not", wantErr)
			}
			checkErr(t, err, `trigger 1 (dynatrace "dt")`, wantErr.Error())
		case math.IsNaN(want) || math.IsInf(want, 0):
			t.Fatalf("read %g from the answer", want)
		case err != nil:
			t.Fatalf("dynatraceMetricsValue read %g, the poll failed: %v", want, err)
		default:
			checkPoll(t, vals, active, "s1-dynatrace", want, 2)
		}
	})
}

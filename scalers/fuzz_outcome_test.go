package scalers

import (
	"net/http"
	"strings"
	"testing"

	"k8s.io/metrics/pkg/apis/external_metrics"
)

// fuzzOutcome is what a fuzzed poll of a trigger that counts only a 200 answer must show: the
// status served, the parser's own reading of the body (want or wantErr), and the poll.
type fuzzOutcome struct {
	status  int
	want    float64
	wantErr error
	// who names the trigger in errors; metric is the value's name; activation its threshold.
	who, metric string
	activation  float64
	// secret must never show in an error.
	secret string
}

// check fails t unless the poll agrees with the parser: an answer other than 200 fails it, a
// body the parser refuses fails it with the parser's words, and otherwise the value is the
// parser's.
func (o fuzzOutcome) check(t *testing.T, vals []external_metrics.ExternalMetricValue, active bool, err error) {
	t.Helper()
	if o.wantErr != nil {
		checkErr(t, o.wantErr)
	}
	if err != nil && strings.Contains(err.Error(), o.secret) {
		t.Fatalf("error shows the secret: %v", err)
	}
	switch {
	case o.status != http.StatusOK:
		if err == nil {
			t.Fatalf("a %d answer read as %+v", o.status, vals)
		}
		checkErr(t, err, o.who)
	case o.wantErr != nil:
		if err == nil {
			t.Fatalf("the parser failed (%v), the poll did not", o.wantErr)
		}
		checkErr(t, err, o.who, o.wantErr.Error())
	case err != nil:
		t.Fatalf("the parser read %g, the poll failed: %v", o.want, err)
	default:
		checkPoll(t, vals, active, o.metric, o.want, o.activation)
	}
}

package scalers

import (
	"context"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/metrics/pkg/apis/external_metrics"
)

// What the response fuzz targets share: a server that answers with the current input, and the
// checks every poll's result must pass.

// maxFuzzErrLen bounds an error's text. Errors end up in a ScaledObject's conditions and events,
// whose messages the API server limits; a source's answer must not be able to blow one up.
const maxFuzzErrLen = 4096

// fuzzServer answers every request with the current fuzz input, so that a scaler's real request
// path (its client, status handling and redaction) reads it. Each fuzz worker process has its
// own, and runs one input at a time.
type fuzzServer struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	body   []byte
	// bodies, when set, answer by path instead (the NATS scaler asks /jsz and /varz).
	bodies map[string][]byte
}

func newFuzzServer(f *testing.F) *fuzzServer {
	s := &fuzzServer{status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		status, body := s.status, s.body
		if b, ok := s.bodies[r.URL.Path]; ok {
			body = b
		}
		s.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	f.Cleanup(s.Close)
	return s
}

// serve sets the answer of the next requests.
func (s *fuzzServer) serve(status int, body []byte, bodies map[string][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body, s.bodies = status, body, bodies
}

// fuzzStatuses are the status codes a fuzzed server answers with, picked by a fuzz byte.
var fuzzStatuses = []int{http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden,
	http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusNoContent}

// fuzzTCPServer is a server on 127.0.0.1 for the fuzz targets of the scalers that speak a
// protocol of their own over TCP (Redis, MongoDB): handle serves each connection, answering the
// measuring request with the current fuzz input (reply), and the connection is closed after.
type fuzzTCPServer struct {
	lis     net.Listener
	mu      sync.Mutex
	current []byte
}

func newFuzzTCPServer(f *testing.F, handle func(s *fuzzTCPServer, c net.Conn)) *fuzzTCPServer {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	s := &fuzzTCPServer{lis: lis}
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(s, c)
			}()
		}
	}()
	f.Cleanup(func() { lis.Close() })
	return s
}

// set makes reply the answer of the next measuring requests.
func (s *fuzzTCPServer) set(reply []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.current = reply
}

func (s *fuzzTCPServer) reply() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// fuzzPollTimeout bounds one fuzzed poll; the server answers at once, so only a hang reaches it.
const fuzzPollTimeout = 10 * time.Second

// poll polls s once, failing on a hang.
func poll(t *testing.T, s Scaler, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fuzzPollTimeout)
	defer cancel()
	start := time.Now()
	vals, active, err := s.GetMetricsAndActivity(ctx, metricName)
	if took := time.Since(start); took > fuzzPollTimeout/2 {
		t.Errorf("a poll took %s", took)
	}
	return vals, active, err
}

// checkPoll checks a successful poll: one value, named metricName, that is want (as a milli
// quantity, which saturates), and activity as want > activation.
func checkPoll(t *testing.T, vals []external_metrics.ExternalMetricValue, active bool, metricName string, want, activation float64) {
	t.Helper()
	if len(vals) != 1 || vals[0].MetricName != metricName {
		t.Fatalf("poll gave %+v, want one value named %s", vals, metricName)
	}
	checkQuantity(t, vals[0].Value.AsApproximateFloat64(), want)
	if active != (want > activation) {
		t.Errorf("value %g, activation %g: active %t", want, activation, active)
	}
}

// checkQuantity checks that a metric's quantity q stands for the value v: within a milli, or
// saturated at the largest milli quantity, with v's sign.
func checkQuantity(t *testing.T, q, v float64) {
	t.Helper()
	const maxMilli = float64(math.MaxInt64) / 1000
	want := math.Max(-maxMilli, math.Min(maxMilli, v))
	if math.Abs(q-want) > 0.001+math.Abs(want)*1e-9 {
		t.Errorf("value %g is reported as the quantity %g", v, q)
	}
}

// checkErr checks an error's text: short enough for a condition, and naming what failed.
func checkErr(t *testing.T, err error, mentions ...string) {
	t.Helper()
	if len(err.Error()) > maxFuzzErrLen {
		t.Errorf("error of %d bytes: %.300s...", len(err.Error()), err)
	}
	for _, m := range mentions {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
}

// errText is an error's text, or <nil>, for comparing outcomes.
func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

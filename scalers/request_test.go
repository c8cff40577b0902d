package scalers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// requestLog records what a poll's Request was told.
type requestLog struct {
	mu     sync.Mutex
	codes  []int
	errs   int
	empty  []bool
	labels []Request
}

func (l *requestLog) request() Request {
	return Request{Scaler: "prometheus", TriggerName: "queue", MetricName: "s0-prometheus", Namespace: "ns", ScaledResource: "worker", ResourceType: "ScaledObject",
		Done: func(r Request, _ time.Duration, code int, err error) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.codes = append(l.codes, code)
			if err != nil {
				l.errs++
			}
			l.labels = append(l.labels, r)
		},
		EmptyResponse: func(_ Request, ignoreNull bool) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.empty = append(l.empty, ignoreNull)
		}}
}

// TestPollRequestsAreObserved: the HTTP requests a poll makes are told to the Request in its
// context with their status codes, an empty Prometheus answer is reported with ignoreNullValues,
// and requests outside a poll (no Request) are not observed.
func TestPollRequestsAreObserved(t *testing.T) {
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if body == "" {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	s, err := New(t.Context(), &Config{TriggerType: "prometheus", Timeout: time.Second,
		TriggerMetadata: map[string]string{"serverAddress": srv.URL, "query": "sum(jobs)", "threshold": "5", "ignoreNullValues": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(t.Context())
	log := &requestLog{}
	poll := func(ctx context.Context) { _, _, _ = s.GetMetricsAndActivity(ctx, "s0-prometheus") }

	body = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"3"]}]}}`
	poll(WithRequest(t.Context(), log.request()))
	body = `{"status":"success","data":{"resultType":"vector","result":[]}}`
	poll(WithRequest(t.Context(), log.request()))
	body = ""
	poll(WithRequest(t.Context(), log.request()))
	poll(t.Context()) // not a poll the engine labelled: not observed

	if want := []int{200, 200, 503}; !slices.Equal(log.codes, want) {
		t.Errorf("status codes observed = %v, want %v", log.codes, want)
	}
	if want := []bool{true}; !slices.Equal(log.empty, want) {
		t.Errorf("empty answers observed (ignoreNullValues) = %v, want %v", log.empty, want)
	}
	if log.labels[0].ScaledResource != "worker" || log.labels[0].TriggerName != "queue" {
		t.Errorf("observed request labels = %+v", log.labels[0])
	}

	srv.Close()
	poll(WithRequest(t.Context(), log.request()))
	if log.errs != 1 || log.codes[len(log.codes)-1] != 0 {
		t.Errorf("a request that got no answer: errors %d, last code %d; want 1 error with code 0", log.errs, log.codes[len(log.codes)-1])
	}
}

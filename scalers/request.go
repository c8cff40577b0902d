package scalers

import (
	"context"
	"net/http"
	"time"
)

// Request names the trigger a poll reads for, so that the HTTP requests the poll makes can be
// counted under it (KEDA's keda_scaler_http_* series). The engine puts it in the poll's context;
// requests made outside a poll (token fetches, a constructor's checks) carry none and are not
// counted, as in KEDA.
type Request struct {
	Scaler, TriggerName, MetricName, Namespace, ScaledResource string
	// ResourceType is the object's kind: ScaledObject or ScaledJob.
	ResourceType string
	// Done is told of each HTTP request made under this context: how long it took and its
	// status code (0 when err is set).
	Done func(r Request, took time.Duration, code int, err error)
	// EmptyResponse is told when the source answered with no value (a Prometheus query with no
	// sample), and whether the trigger reads that as 0.
	EmptyResponse func(r Request, ignoreNullValues bool)
}

type requestKey struct{}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// requestFrom returns the Request ctx carries.
func requestFrom(ctx context.Context) (Request, bool) {
	r, ok := ctx.Value(requestKey{}).(Request)
	return r, ok
}

// observedTransport tells the Request in each request's context how the request went.
type observedTransport struct {
	next http.RoundTripper
}

func (t observedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r, ok := requestFrom(req.Context())
	if !ok || r.Done == nil {
		return t.next.RoundTrip(req)
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	code := 0
	if err == nil {
		code = resp.StatusCode
	}
	r.Done(r, time.Since(start), code, err)
	return resp, err
}

// CloseIdleConnections passes on to the transport underneath, so that http.Client's does.
func (t observedTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

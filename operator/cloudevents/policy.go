package cloudevents

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Retry is how a source retries an event its destination did not take.
type Retry struct {
	// Retries is how many times an event is sent again after its first attempt fails; KEDA
	// retries five times.
	Retries int
	// Initial is the wait before the first retry; each next wait doubles, up to Max.
	Initial, Max time.Duration
}

// DefaultRetry retries as KEDA does (five times), waiting 1s, 2s, 4s, 8s and 16s in between:
// about half a minute for a receiver to come back before the event is dropped.
var DefaultRetry = Retry{Retries: 5, Initial: time.Second, Max: 30 * time.Second}

// Wait is how long to wait before retry number n (1 for the first retry).
func (r Retry) Wait(n int) time.Duration {
	if n < 1 {
		return 0
	}
	d := r.Initial
	for i := 1; i < n; i++ {
		d *= 2
		if d >= r.Max {
			return r.Max
		}
	}
	return min(d, r.Max)
}

// StatusError is a destination's answer that refused an event.
type StatusError struct {
	Code int
	// Detail is the first line of the answer's body, at most 200 bytes.
	Detail string
}

func (e *StatusError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("the destination answered %d %s", e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("the destination answered %d %s: %s", e.Code, http.StatusText(e.Code), e.Detail)
}

// Retryable says whether sending again may succeed: after a network error, a timeout, or an
// answer saying try later (408, 429, 5xx). Any other refusal (400, 401, 403, 404, ...) is the
// same on every attempt, so the event is dropped at once and the source reported failed.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code == http.StatusRequestTimeout || se.Code == http.StatusTooManyRequests || se.Code >= 500
	}
	// No answer at all: refused or reset connections, timeouts. The receiver may come back.
	return true
}

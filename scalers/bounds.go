package scalers

import (
	"math"

	"github.com/kedactl/kedactl/scalers/meta"
)

// What a source answers is not trusted: counts may be negative or huge, and texts long. These
// keep numbers in range and errors short.

// rewordedError is an error whose text was rewritten (secrets removed, or cut short); errors.Is
// and errors.As still see the original (context.DeadlineExceeded, driver error types).
type rewordedError struct {
	msg string
	err error
}

func (e *rewordedError) Error() string { return e.msg }
func (e *rewordedError) Unwrap() error { return e.err }

// clipErr cuts err's text to at most n bytes: a client library's error may quote a whole reply
// of the source (go-redis quotes a number it could not parse), too long for a condition or event.
func clipErr(err error, n int) error {
	if err == nil || len(err.Error()) <= n {
		return err
	}
	return &rewordedError{msg: meta.Clip(err.Error(), n), err: err}
}

// addSat and mulSat add and multiply counts of 0 or more, held at math.MaxInt64: a sum of a
// source's counts (Kafka offsets, RabbitMQ queues) that wrapped around would read as a negative
// backlog.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func mulSat(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

// saturatedMillis is v in thousandths, made whole by round and held to the int64 range. Converting a float beyond that
// range to int64 gives an arbitrary value (on amd64 the smallest int64, so a huge backlog would
// read as a huge negative one); a value that large asks for the most replicas anyway. NaN, which
// the scalers refuse before it gets here, is 0.
func saturatedMillis(v float64, round func(float64) float64) int64 {
	m := round(v * 1000)
	switch {
	case math.IsNaN(m):
		return 0
	case m >= math.MaxInt64: // float64(math.MaxInt64) is 2^63, itself out of range
		return math.MaxInt64
	case m <= math.MinInt64:
		return math.MinInt64
	}
	return int64(m)
}

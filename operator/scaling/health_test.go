package scaling

import (
	"testing"
	"time"
)

func TestFailuresToWrite(t *testing.T) {
	cases := []struct {
		name                        string
		written, current, threshold int32
		outage, since               time.Duration
		want                        int32
	}{
		{"first failure", 0, 1, 3, 30 * time.Second, 0, 1},
		{"each count of a young outage", 5, 6, 0, 6 * time.Second, time.Second, 6},
		{"the count that turns the fallback on", 3, 4, 3, 2 * time.Minute, 0, 4},
		{"past the fallback, within the refresh", 4, 9, 3, 4 * time.Minute, time.Minute, 4},
		{"past the fallback, after the refresh", 4, 19, 3, 9 * time.Minute, 5 * time.Minute, 19},
		{"no fallback, long outage, within the refresh", 2, 5, 0, 150 * time.Second, 30 * time.Second, 2},
		{"recovery resets at once", 12, 0, 3, 0, 0, 0},
		{"a new outage after a recovery", 12, 1, 3, 30 * time.Second, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := failuresToWrite(c.written, c.current, c.threshold, c.outage, c.since); got != c.want {
				t.Errorf("failuresToWrite(%d, %d, %d, %s, %s) = %d, want %d", c.written, c.current, c.threshold, c.outage, c.since, got, c.want)
			}
		})
	}
}

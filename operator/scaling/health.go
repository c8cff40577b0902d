package scaling

import "time"

const (
	// healthFresh is how long into an outage every new failure count is written to status.health.
	healthFresh = time.Minute
	// healthRefresh is how often the count is brought up to date after that.
	healthRefresh = 5 * time.Minute
)

// failuresToWrite is the numberOfFailures to write for a trigger that failed `current` polls in a
// row, `outage` long, when status shows `written`, last changed `sinceWrite` ago. Every count is
// written while it can change what the fallback does (up to one past its threshold) and while the
// outage is young, so a user watching it start sees each failure. Past both the count is only
// informational and is written at most once per healthRefresh: a long outage of the source then
// costs one status write per object every few minutes instead of one per poll.
func failuresToWrite(written, current, threshold int32, outage, sinceWrite time.Duration) int32 {
	switch {
	case current < written, current <= threshold+1, outage <= healthFresh, sinceWrite >= healthRefresh:
		return current
	default:
		return written
	}
}

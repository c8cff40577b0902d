package scalers

import (
	"context"
	"time"
)

// cronRecheck bounds one wait for a window boundary. Timers run on the monotonic clock while the
// window is written in wall-clock time: a node that sleeps or has its clock stepped would otherwise
// wake at the wrong instant, so a long wait is cut short and the boundary computed again.
const cronRecheck = time.Hour

// nextBoundary returns the first start or end of the window after now, in the trigger's time
// zone, and false when neither schedule fires again (a date that never comes, such as 30 February).
func (s *cronScaler) nextBoundary(now time.Time) (time.Time, bool) {
	now = now.In(s.meta.Location)
	start, end := s.meta.StartSchedule.Next(now), s.meta.EndSchedule.Next(now)
	switch {
	case start.IsZero() && end.IsZero():
		return time.Time{}, false
	case start.IsZero():
		return end, true
	case end.IsZero() || start.Before(end):
		return start, true
	default:
		return end, true
	}
}

// Run makes the cron trigger a push source: it sleeps until the window's next start or end and
// pushes then, so the target scales at the boundary instead of up to a pollingInterval later.
func (s *cronScaler) Run(ctx context.Context, push func(active bool)) {
	for {
		next, ok := s.nextBoundary(s.now())
		if !ok {
			<-ctx.Done()
			return
		}
		wait, reached := next.Sub(s.now()), true
		if wait > cronRecheck {
			wait, reached = cronRecheck, false
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		if reached {
			push(s.inWindow())
		}
	}
}

package scaledjob

import (
	"fmt"
	"strings"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// Decision is how many Jobs to create in one poll, with the numbers it came from, so that the
// reconciler can act on it and `kubectl keda describe` can print it.
type Decision struct {
	// Strategy is the scaling strategy applied; StrategyNote says why it is not the one asked for.
	Strategy     string
	StrategyNote string
	// Active, Queue and MaxScale come from CombineTriggers.
	Active   bool
	Queue    int64
	MaxScale int64
	// Running and Pending come from CountJobs.
	Running int64
	Pending int64
	Bounds  Bounds
	// Create is the number of Jobs to create now.
	Create int64
	// Why explains a Create of 0, or a Create driven by minReplicaCount rather than the queue.
	Why string
}

// Decide returns how many Jobs to create, as KEDA's executor does:
//   - with fewer unfinished Jobs than Bounds.Min, exactly the missing ones (no strategy is consulted);
//   - otherwise the strategy's answer, given the running Jobs above the minimum;
//   - nothing when the ScaledJob is not active or the strategy leaves no room.
func Decide(spec *kedav1alpha1.ScaledJobSpec, queue Queue, jobs JobCounts) Decision {
	bounds := BoundsFor(spec)
	strategy := strategyFor(spec)
	d := Decision{
		Strategy: strategy.name, StrategyNote: strategy.note,
		Active: queue.Active, Queue: queue.Length, MaxScale: queue.MaxScale,
		Running: jobs.Running, Pending: jobs.Pending, Bounds: bounds,
	}

	var res strategyResult
	belowMin := jobs.Running < bounds.Min
	if belowMin {
		missing := bounds.Min - jobs.Running
		res = strategyResult{limit: missing, want: missing}
	} else {
		res = strategy.apply(strategyInput{
			maxScale: queue.MaxScale, running: jobs.Running - bounds.Min, pending: jobs.Pending,
			maxAboveMin: bounds.MaxAboveMin, queue: queue.Length,
		})
	}

	switch {
	case !queue.Active:
		d.Why = "no trigger is active"
	case res.limit <= 0:
		d.Why = res.why
	case res.want <= 0:
		// KEDA would be asked for a negative count here only by a negative metric; it creates none.
		d.Why = "the queue is empty"
	default:
		d.Create = min(res.want, res.limit)
		if belowMin {
			d.Why = fmt.Sprintf("to keep minReplicaCount %d", bounds.Min)
		}
	}
	return d
}

// String is the one-line explanation, e.g.
// "queue 12, running 3, pending 1 -> 8 new Jobs (accurate, max 20)".
func (d Decision) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "queue %d, running %d, pending %d -> %d new %s (%s, max %d)",
		d.Queue, d.Running, d.Pending, d.Create, plural(d.Create, "Job", "Jobs"), d.Strategy, d.Bounds.Total())
	if d.Why != "" {
		b.WriteString(": " + d.Why)
	}
	if d.StrategyNote != "" {
		b.WriteString("; " + d.StrategyNote)
	}
	return b.String()
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

package steps

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Phase is where the 0 -> N -> 0 scenario is.
type Phase string

// The scenario's phases, in order.
const (
	Idle    Phase = "idle"
	OneItem Phase = "one item"
	Backlog Phase = "backlog"
	Drained Phase = "drained"
	Done    Phase = "done"
)

// Action is what the scenario does to the Redis list on entering a phase.
type Action int

// The scenario's actions.
const (
	NoAction Action = iota
	PushOne
	PushBacklog
	Drain
)

// Scenario's timings: long enough for the operator and the HPA controller to be seen acting, short
// enough for a demo.
const (
	idleFor        = 5 * time.Second
	oneItemAtLeast = 3 * time.Second
	backlogAtMost  = 60 * time.Second
)

// Next decides the scenario's next phase from the current one, how long it has lasted, and the
// target's replicas: a quiet start, one item (0 -> 1, the operator's activation), a backlog
// (1 -> max, the HPA's scaling on the external metric), then an empty list (max -> 0).
func Next(p Phase, inPhase time.Duration, replicas, maxReplicas int32) (Phase, Action) {
	switch {
	case p == Idle && inPhase >= idleFor:
		return OneItem, PushOne
	case p == OneItem && replicas >= 1 && inPhase >= oneItemAtLeast:
		return Backlog, PushBacklog
	case p == Backlog && (replicas >= maxReplicas || inPhase >= backlogAtMost):
		return Drained, Drain
	case p == Drained && replicas == 0:
		return Done, NoAction
	}
	return p, NoAction
}

// Queue is the work list the ScaledObject's trigger reads.
type Queue interface {
	Push(ctx context.Context, n int) error
	Drain(ctx context.Context) error
	Len(ctx context.Context) (int64, error)
}

// Sample is what the demo shows of the autoscaler each second; "-" where not known yet.
type Sample struct {
	Metric     string
	HPADesired string
	Replicas   int32
}

// ScenarioOptions is what RunScenario drives and watches.
type ScenarioOptions struct {
	Queue   Queue
	Observe func(ctx context.Context) Sample
	// Backlog is how many items the backlog phase pushes; MaxReplicas is the ScaledObject's.
	Backlog     int
	MaxReplicas int32
	// Timeout bounds the scenario so that it always ends.
	Timeout time.Duration
	Out     io.Writer
}

// RunScenario runs the phases once a second, printing a row whenever what it sees changes, and
// returns the most replicas seen once the target is back at zero.
func RunScenario(ctx context.Context, o ScenarioOptions) (int32, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	phase, phaseStart, start := Idle, time.Now(), time.Now()
	maxSeen := int32(0)
	last := ""
	fmt.Fprintf(o.Out, "    %-6s %-9s %5s %7s %11s %9s\n", "time", "phase", "list", "metric", "hpaDesired", "replicas")
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		length, _ := o.Queue.Len(ctx)
		s := o.Observe(ctx)
		maxSeen = max(maxSeen, s.Replicas)
		row := fmt.Sprintf("%-9s %5d %7s %11s %9d", phase, length, s.Metric, s.HPADesired, s.Replicas)
		if row != last {
			fmt.Fprintf(o.Out, "    %-6s %s\n", time.Since(start).Round(time.Second), row)
			last = row
		}
		next, action := Next(phase, time.Since(phaseStart), s.Replicas, o.MaxReplicas)
		if next != phase {
			phase, phaseStart = next, time.Now()
		}
		var err error
		switch action {
		case PushOne:
			err = o.Queue.Push(ctx, 1)
		case PushBacklog:
			err = o.Queue.Push(ctx, o.Backlog)
		case Drain:
			err = o.Queue.Drain(ctx)
		}
		if err != nil {
			return maxSeen, fmt.Errorf("failed to feed the list in phase %s: %w", phase, err)
		}
		if phase == Done {
			return maxSeen, nil
		}
		select {
		case <-ctx.Done():
			return maxSeen, fmt.Errorf("the scenario did not finish within %s (phase %s)", o.Timeout, phase)
		case <-tick.C:
		}
	}
}

package main

import (
	"fmt"
	"slices"
	"strings"
)

// A run is a sequence of stages; the parts of a stage run at once, each on its own local cluster
// with its own operator process, and a stage starts when the previous one has ended. The plan puts
// side by side only what waits rather than times: take-overs at the client rate, settling, the idle
// windows (RSS, CPU seconds and request counts, which another cluster's work does not change) and
// figure 4 (queries counted at the source). What is timed in milliseconds (external metrics,
// figure 5; push activation; the webhook, figure 6) runs in a stage of its own; at the take-over
// level each operator's measurements run with the other operators' clusters beside them, held
// frozen at that level. KEDA's take-over of 1,000 objects alone takes about eight
// minutes at qps 20: a run that waited for it with nothing else to do could not stay within its
// half hour.

// stepKind is what a step of a part does.
type stepKind int

const (
	// stepLevel takes the operator to N objects in a fresh namespace (a take-over, or a take-over
	// at fast client rates and a restart) and measures every figure measured at N.
	stepLevel stepKind = iota
	// stepReach only takes the operator to N objects and waits for a steady state; a later
	// stepMeasure on the same cluster measures them.
	stepReach
	// stepMeasure measures N objects reached by an earlier stepReach.
	stepMeasure
	// stepQueries is figure 4, stepWebhook figure 6.
	stepQueries
	stepWebhook
	// stepHold keeps the cluster and its objects while another part measures, frozen: its
	// controller-manager (the HPA controller's reads) and its operator are stopped (SIGSTOP) until
	// the stage ends, so that it costs the measuring part nothing; the level settles again before
	// it is measured.
	stepHold
)

func (k stepKind) String() string {
	return [...]string{"level", "take-over", "measure", "figure 4", "figure 6", "held frozen at"}[k]
}

// step is one thing a part does.
type step struct {
	Kind stepKind
	N    int
}

func (s step) String() string {
	switch s.Kind {
	case stepQueries, stepWebhook:
		return s.Kind.String()
	case stepLevel:
		return fmt.Sprintf("%d objects", s.N)
	case stepHold:
		if s.N == 0 {
			// A cluster of the small levels, between them and its figure 6.
			return "held frozen"
		}
		return fmt.Sprintf("%s %d", s.Kind, s.N)
	default:
		return fmt.Sprintf("%s %d", s.Kind, s.N)
	}
}

// part is one operator on one cluster for one stage. Cluster names a cluster of the run: a part
// whose cluster an earlier part used goes on with that cluster and that operator process.
type part struct {
	Operator string
	Cluster  string
	Steps    []step
}

func (p part) String() string {
	var steps []string
	for _, s := range p.Steps {
		steps = append(steps, s.String())
	}
	return fmt.Sprintf("%s on %s: %s", p.Operator, p.Cluster, strings.Join(steps, ", "))
}

type stage struct {
	Parts []part
}

// opPlan is what the run measures for one operator.
type opPlan struct {
	name string
	// small are the levels below the take-over level that measure only what waits or counts,
	// timed those below it where activation is timed (push activation in milliseconds), big the
	// take-over level (0: none), above the levels over it.
	small, timed, above []int
	big                 int
}

func planFor(cfg Config, name string, maxLevel int) opPlan {
	p := opPlan{name: name}
	for _, n := range cfg.levels(maxLevel) {
		switch {
		case n == cfg.TakeoverLevel:
			p.big = n
		case n < cfg.TakeoverLevel && cfg.measures(3) && slices.Contains(cfg.ActLoads, n) && n > 0:
			p.timed = append(p.timed, n)
		case n < cfg.TakeoverLevel:
			p.small = append(p.small, n)
		default:
			p.above = append(p.above, n)
		}
	}
	return p
}

// levelSteps is a stepLevel for each count.
func levelSteps(ns []int) []step {
	var out []step
	for _, n := range ns {
		out = append(out, step{Kind: stepLevel, N: n})
	}
	return out
}

// schedule plans a run of the operators (in cfg.Operators' order, each with its largest level) into
// stages. The first stage runs at once every operator's small levels and figure 4 (one cluster
// each) and every operator's take-over of the take-over level (a cluster each). Then, one operator
// at a time, its measurements at that level, the other operators' clusters held frozen beside it;
// then each operator's figure 6 and its levels below the take-over level that time activation,
// alone; last, each operator's levels above the take-over level, each on a fresh cluster, alone.
// A cluster waiting for a later stage is held frozen in every stage between. (The fast take-over
// of a level reached by a restart was tried in the first stage, beside what only waits: with four
// other clusters on two cores it took over 15 minutes instead of 6 and held the whole run back.)
func schedule(cfg Config, ops []string, maxLevels map[string]int) []stage {
	var plans []opPlan
	for _, name := range ops {
		plans = append(plans, planFor(cfg, name, maxLevels[name]))
	}
	bigCluster := func(p opPlan) string { return fmt.Sprintf("%s-%d", p.name, p.big) }
	var first stage
	for _, p := range plans {
		steps := levelSteps(p.small)
		if cfg.measures(4) && cfg.Fig4N > 0 {
			steps = append(steps, step{Kind: stepQueries})
		}
		if len(steps) > 0 {
			first.Parts = append(first.Parts, part{Operator: p.name, Cluster: p.name, Steps: steps})
		}
	}
	for _, p := range plans {
		if p.big > 0 {
			first.Parts = append(first.Parts, part{Operator: p.name, Cluster: bigCluster(p), Steps: []step{{Kind: stepReach, N: p.big}}})
		}
	}
	var stages []stage
	if len(first.Parts) > 0 {
		stages = append(stages, first)
	}
	for i, p := range plans {
		if p.big == 0 {
			continue
		}
		st := stage{Parts: []part{{Operator: p.name, Cluster: bigCluster(p), Steps: []step{{Kind: stepMeasure, N: p.big}}}}}
		for j, q := range plans {
			if j != i && q.big > 0 {
				st.Parts = append(st.Parts, part{Operator: q.name, Cluster: bigCluster(q), Steps: []step{{Kind: stepHold, N: q.big}}})
			}
		}
		stages = append(stages, st)
	}
	for _, p := range plans {
		var steps []step
		if cfg.measures(6) && cfg.Fig6N > 0 {
			steps = append(steps, step{Kind: stepWebhook})
		}
		steps = append(steps, levelSteps(p.timed)...)
		if len(steps) > 0 {
			stages = append(stages, stage{Parts: []part{{Operator: p.name, Cluster: p.name, Steps: steps}}})
		}
	}
	for _, p := range plans {
		for _, n := range p.above {
			stages = append(stages, stage{Parts: []part{{Operator: p.name, Cluster: fmt.Sprintf("%s-%d", p.name, n), Steps: []step{{Kind: stepLevel, N: n}}}}})
		}
	}
	return holdWaiting(stages)
}

// holdWaiting adds to every stage a part holding frozen each cluster that an earlier stage used
// and a later one uses again but this one does not.
func holdWaiting(stages []stage) []stage {
	first := map[string]int{}
	last := lastUse(stages)
	for i := len(stages) - 1; i >= 0; i-- {
		for _, p := range stages[i].Parts {
			first[p.Cluster] = i
		}
	}
	for i := range stages {
		uses := map[string]bool{}
		for _, p := range stages[i].Parts {
			uses[p.Cluster] = true
		}
		var waiting []part
		for _, s := range stages[:i] {
			for _, p := range s.Parts {
				if !uses[p.Cluster] && first[p.Cluster] < i && last[p.Cluster] > i {
					uses[p.Cluster] = true
					waiting = append(waiting, part{Operator: p.Operator, Cluster: p.Cluster, Steps: []step{{Kind: stepHold, N: holdLevel(stages, p.Cluster)}}})
				}
			}
		}
		stages[i].Parts = append(stages[i].Parts, waiting...)
	}
	return stages
}

// holdLevel is the level a cluster is held at: the count its first stage reaches.
func holdLevel(stages []stage, cluster string) int {
	for _, s := range stages {
		for _, p := range s.Parts {
			if p.Cluster == cluster {
				for _, st := range p.Steps {
					if st.Kind == stepReach {
						return st.N
					}
				}
			}
		}
	}
	return 0
}

// lastUse maps each cluster of a plan to the index of the last stage that uses it: the run stops
// a cluster (and its operator) when that stage ends.
func lastUse(stages []stage) map[string]int {
	out := map[string]int{}
	for i, s := range stages {
		for _, p := range s.Parts {
			out[p.Cluster] = i
		}
	}
	return out
}

// describeSchedule is the plan as the report's lines, a stage each.
func describeSchedule(stages []stage) []string {
	var out []string
	for i, s := range stages {
		var parts []string
		for _, p := range s.Parts {
			parts = append(parts, p.String())
		}
		slices.Sort(parts)
		out = append(out, fmt.Sprintf("stage %d: %s", i+1, strings.Join(parts, " | ")))
	}
	return out
}

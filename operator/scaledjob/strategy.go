package scaledjob

import (
	"fmt"
	"math"
	"strconv"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// strategyInput is what KEDA hands a scaling strategy: the Jobs the queue asks for, the running Jobs
// above the minimum, the pending Jobs (not reduced by the minimum) and the room above the minimum.
type strategyInput struct {
	maxScale, running, pending, maxAboveMin, queue int64
}

// strategyResult is a strategy's answer: limit caps the new Jobs, want is how many it would like.
// KEDA creates min(want, limit) Jobs when limit > 0.
type strategyResult struct {
	limit, want int64
	// why explains a limit <= 0 in words for the Decision.
	why string
}

// scalingStrategy is one of KEDA's four formulas.
type scalingStrategy struct {
	name  string
	apply func(in strategyInput) strategyResult
	// note says why the requested strategy was not used, when it was not.
	note string
}

// strategyFor picks the formula spec asks for. A custom strategy whose
// customScalingRunningJobPercentage is not a number falls back to default, as in KEDA (an empty value
// too, so custom with no parameters is default). KEDA also accepts "NaN" and "Inf", whose products
// have no defined integer value; they fall back to default here.
func strategyFor(spec *kedav1alpha1.ScaledJobSpec) scalingStrategy {
	switch spec.EffectiveScalingStrategy() {
	case kedav1alpha1.ScalingStrategyCustom:
		raw := spec.ScalingStrategy.CustomScalingRunningJobPercentage
		pct, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(pct) || math.IsInf(pct, 0) {
			return scalingStrategy{name: kedav1alpha1.ScalingStrategyDefault, apply: defaultStrategy,
				note: fmt.Sprintf("custom ignored: customScalingRunningJobPercentage %q is not a number", raw)}
		}
		var deduction int64
		if d := spec.ScalingStrategy.CustomScalingQueueLengthDeduction; d != nil {
			deduction = int64(*d)
		}
		return scalingStrategy{name: kedav1alpha1.ScalingStrategyCustom, apply: customStrategy(deduction, pct)}
	case kedav1alpha1.ScalingStrategyAccurate:
		return scalingStrategy{name: kedav1alpha1.ScalingStrategyAccurate, apply: accurateStrategy}
	case kedav1alpha1.ScalingStrategyEager:
		return scalingStrategy{name: kedav1alpha1.ScalingStrategyEager, apply: eagerStrategy}
	}
	return scalingStrategy{name: kedav1alpha1.ScalingStrategyDefault, apply: defaultStrategy}
}

// defaultStrategy assumes the queue still counts the items running Jobs hold, so running Jobs are
// subtracted from what the queue asks for.
func defaultStrategy(in strategyInput) strategyResult {
	r := strategyResult{limit: in.maxScale - in.running, want: in.queue}
	if r.limit <= 0 {
		r.why = coveredOrFull(in, fmt.Sprintf("the %d running Jobs already cover the %d the queue asks for", in.running, in.maxScale))
	}
	return r
}

// customStrategy subtracts a fixed deduction and a share of the running Jobs (the product truncated
// toward zero), then caps at the room above the minimum without subtracting running Jobs again.
func customStrategy(deduction int64, pct float64) func(strategyInput) strategyResult {
	return func(in strategyInput) strategyResult {
		share := int64(float64(in.running) * pct)
		r := strategyResult{limit: min(in.maxScale-deduction-share, in.maxAboveMin), want: in.queue}
		if r.limit <= 0 {
			r.why = fmt.Sprintf("the queue asks for %d, less customScalingQueueLengthDeduction %d and %d for %d running Jobs at %v, leaves none",
				in.maxScale, deduction, share, in.running, pct)
		}
		return r
	}
}

// accurateStrategy assumes the queue no longer counts items that running Jobs took, so only pending
// Jobs (which have not taken theirs yet) are subtracted; running Jobs only matter near the maximum.
func accurateStrategy(in strategyInput) strategyResult {
	if in.maxScale+in.running-in.pending > in.maxAboveMin {
		r := strategyResult{limit: in.maxAboveMin - in.running, want: in.queue}
		if r.limit <= 0 {
			r.why = "maxReplicaCount reached"
		}
		return r
	}
	r := strategyResult{limit: in.maxScale - in.pending, want: in.queue}
	if r.limit <= 0 {
		r.why = coveredOrFull(in, fmt.Sprintf("the %d pending Jobs already cover the %d the queue asks for", in.pending, in.maxScale))
	}
	return r
}

// eagerStrategy fills every free slot up to the maximum as long as the queue asks for that many. KEDA
// subtracts pending Jobs although they are already among the running ones, so a pending Job takes two
// slots here; that is kept.
func eagerStrategy(in strategyInput) strategyResult {
	free := in.maxAboveMin - in.running - in.pending
	r := strategyResult{limit: min(free, in.maxScale), want: in.maxAboveMin}
	if r.limit <= 0 {
		if free <= 0 {
			r.why = fmt.Sprintf("%d running and %d pending Jobs fill maxReplicaCount (eager counts pending Jobs twice)", in.running, in.pending)
		} else {
			r.why = "the queue asks for no Jobs"
		}
	}
	return r
}

// coveredOrFull names the most useful reason a strategy found no room: an empty queue, the maximum,
// or the strategy's own reason.
func coveredOrFull(in strategyInput, covered string) string {
	switch {
	case in.maxScale <= 0:
		return "the queue asks for no Jobs"
	case in.running >= in.maxAboveMin:
		return "maxReplicaCount reached"
	}
	return covered
}

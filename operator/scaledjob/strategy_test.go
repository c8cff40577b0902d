package scaledjob

import (
	"testing"

	"k8s.io/utils/ptr"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// The expected limits are the numbers of KEDA's own tests of its four strategies
// (pkg/scaling/executor/scale_jobs_test.go), called there as
// GetEffectiveMaxScale(maxScale, running, pending, maxReplicaCount, scaleTo).
func TestStrategiesWithKEDAsNumbers(t *testing.T) {
	custom := func(deduction *int32, pct string) kedav1alpha1.ScalingStrategy {
		return kedav1alpha1.ScalingStrategy{Strategy: "custom", CustomScalingQueueLengthDeduction: deduction, CustomScalingRunningJobPercentage: pct}
	}
	tests := []struct {
		name         string
		strategy     kedav1alpha1.ScalingStrategy
		in           strategyInput
		wantStrategy string
		wantLimit    int64
		wantWant     int64
	}{
		{"default 3-2", kedav1alpha1.ScalingStrategy{}, strategyInput{3, 2, 0, 5, 1}, "default", 1, 1},
		{"default nothing running", kedav1alpha1.ScalingStrategy{Strategy: "default"}, strategyInput{2, 0, 0, 5, 1}, "default", 2, 1},

		{"custom 1, 0.5: 3-1-int(2*0.5)", custom(ptr.To[int32](1), "0.5"), strategyInput{3, 2, 0, 5, 1}, "custom", 1, 1},
		{"custom 1, 0.5: 10-1", custom(ptr.To[int32](1), "0.5"), strategyInput{10, 0, 0, 10, 1}, "custom", 9, 1},
		{"custom without parameters is default", custom(nil, ""), strategyInput{3, 2, 0, 5, 1}, "default", 1, 1},
		{"custom without parameters is default, nothing running", custom(nil, ""), strategyInput{2, 0, 0, 5, 1}, "default", 2, 1},
		{"custom with an empty percentage is default", custom(ptr.To[int32](1), ""), strategyInput{3, 2, 0, 5, 1}, "default", 1, 1},
		{"custom 2, 0", custom(ptr.To[int32](2), "0"), strategyInput{3, 2, 0, 5, 1}, "custom", 1, 1},
		{"custom -2, 0 is capped at maxReplicaCount", custom(ptr.To[int32](-2), "0"), strategyInput{3, 2, 0, 4, 1}, "custom", 4, 1},
		{"custom nil deduction, 0.5 (KEDA #7798)", custom(nil, "0.5"), strategyInput{10, 2, 0, 100, 1}, "custom", 9, 1},
		{"custom nil deduction, 0.5, nothing running", custom(nil, "0.5"), strategyInput{10, 0, 0, 100, 1}, "custom", 10, 1},
		{"custom with a percentage that is not a number is default", custom(ptr.To[int32](1), "half"), strategyInput{3, 2, 0, 5, 1}, "default", 1, 1},
		{"custom NaN is default (KEDA: undefined)", custom(ptr.To[int32](1), "NaN"), strategyInput{3, 2, 0, 5, 1}, "default", 1, 1},

		{"accurate 3,2,0,5", kedav1alpha1.ScalingStrategy{Strategy: "accurate"}, strategyInput{3, 2, 0, 5, 1}, "accurate", 3, 1},
		{"accurate 5,2,0,5 over max", kedav1alpha1.ScalingStrategy{Strategy: "accurate"}, strategyInput{5, 2, 0, 5, 1}, "accurate", 3, 1},
		{"accurate 2 pending", kedav1alpha1.ScalingStrategy{Strategy: "accurate"}, strategyInput{3, 4, 2, 10, 1}, "accurate", 1, 1},
		{"accurate 2 pending over max", kedav1alpha1.ScalingStrategy{Strategy: "accurate"}, strategyInput{5, 4, 2, 5, 1}, "accurate", 1, 1},
		{"accurate all 3 running pending", kedav1alpha1.ScalingStrategy{Strategy: "accurate"}, strategyInput{3, 3, 3, 5, 1}, "accurate", 0, 1},
		{"accurate 15 running all pending", kedav1alpha1.ScalingStrategy{Strategy: "accurate"}, strategyInput{15, 15, 15, 20, 1}, "accurate", 0, 1},
		{"accurate 10 running all pending", kedav1alpha1.ScalingStrategy{Strategy: "accurate"}, strategyInput{10, 10, 10, 15, 1}, "accurate", 0, 1},
		{"accurate partly pending", kedav1alpha1.ScalingStrategy{Strategy: "accurate"}, strategyInput{20, 15, 10, 20, 1}, "accurate", 5, 1},

		{"eager 4,3,0,10", kedav1alpha1.ScalingStrategy{Strategy: "eager"}, strategyInput{4, 3, 0, 10, 1}, "eager", 4, 10},
		{"eager 4,0,3,10", kedav1alpha1.ScalingStrategy{Strategy: "eager"}, strategyInput{4, 0, 3, 10, 1}, "eager", 4, 10},
		{"eager 4,7,0,10", kedav1alpha1.ScalingStrategy{Strategy: "eager"}, strategyInput{4, 7, 0, 10, 1}, "eager", 3, 10},
		{"eager 4,1,6,10", kedav1alpha1.ScalingStrategy{Strategy: "eager"}, strategyInput{4, 1, 6, 10, 1}, "eager", 3, 10},
		{"eager 15,0,0,10", kedav1alpha1.ScalingStrategy{Strategy: "eager"}, strategyInput{15, 0, 0, 10, 1}, "eager", 10, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := strategyFor(&kedav1alpha1.ScaledJobSpec{ScalingStrategy: tt.strategy})
			if s.name != tt.wantStrategy {
				t.Errorf("strategy = %q, want %q", s.name, tt.wantStrategy)
			}
			got := s.apply(tt.in)
			if got.limit != tt.wantLimit || got.want != tt.wantWant {
				t.Errorf("limit, want = %d, %d; want %d, %d", got.limit, got.want, tt.wantLimit, tt.wantWant)
			}
			if got.limit <= 0 && got.why == "" {
				t.Error("a limit of 0 has no explanation")
			}
		})
	}
}

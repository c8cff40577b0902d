package v1alpha1_test

import (
	"testing"

	"github.com/kedactl/kedactl/api/v1alpha1"
)

// KEDA's controller reads the deprecated field first and deletes old Jobs for every value but
// "gradual"; its CRD enum is gradual;immediate while its docs still say "default".
func TestEffectiveRolloutStrategy(t *testing.T) {
	tests := []struct {
		name       string
		deprecated string
		strategy   string
		want       string
	}{
		{name: "both unset is immediate", want: "immediate"},
		{name: "rollout.strategy gradual", strategy: "gradual", want: "gradual"},
		{name: "rollout.strategy immediate", strategy: "immediate", want: "immediate"},
		{name: "the docs' default means immediate", strategy: "default", want: "immediate"},
		{name: "an unknown value deletes like immediate", strategy: "Gradual", want: "immediate"},
		{name: "deprecated rolloutStrategy alone", deprecated: "gradual", want: "gradual"},
		{name: "deprecated rolloutStrategy wins over rollout.strategy", deprecated: "gradual", strategy: "immediate", want: "gradual"},
		{name: "deprecated immediate wins over rollout.strategy gradual", deprecated: "immediate", strategy: "gradual", want: "immediate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := v1alpha1.ScaledJobSpec{RolloutStrategy: tt.deprecated, Rollout: v1alpha1.Rollout{Strategy: tt.strategy}}
			if got := s.EffectiveRolloutStrategy(); got != tt.want {
				t.Errorf("EffectiveRolloutStrategy() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEffectiveEnumsFallBackAsKEDADoes(t *testing.T) {
	tests := []struct {
		name                            string
		propagation, strategy, multiple string
		wantPropagation                 string
		wantStrategy                    string
		wantMultiple                    string
	}{
		{name: "unset", wantPropagation: "background", wantStrategy: "default", wantMultiple: "max"},
		{name: "valid values pass through", propagation: "foreground", strategy: "eager", multiple: "avg",
			wantPropagation: "foreground", wantStrategy: "eager", wantMultiple: "avg"},
		{name: "unknown values take KEDA's fallback", propagation: "Foreground", strategy: "greedy", multiple: "median",
			wantPropagation: "background", wantStrategy: "default", wantMultiple: "max"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := v1alpha1.ScaledJobSpec{
				Rollout:         v1alpha1.Rollout{PropagationPolicy: tt.propagation},
				ScalingStrategy: v1alpha1.ScalingStrategy{Strategy: tt.strategy, MultipleScalersCalculation: tt.multiple},
			}
			if got := s.EffectivePropagationPolicy(); got != tt.wantPropagation {
				t.Errorf("EffectivePropagationPolicy() = %q, want %q", got, tt.wantPropagation)
			}
			if got := s.EffectiveScalingStrategy(); got != tt.wantStrategy {
				t.Errorf("EffectiveScalingStrategy() = %q, want %q", got, tt.wantStrategy)
			}
			if got := s.EffectiveMultipleScalersCalculation(); got != tt.wantMultiple {
				t.Errorf("EffectiveMultipleScalersCalculation() = %q, want %q", got, tt.wantMultiple)
			}
		})
	}
}

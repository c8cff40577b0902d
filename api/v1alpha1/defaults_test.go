package v1alpha1_test

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kedactl/kedactl/api/v1alpha1"
)

func TestScaledObjectDefaults(t *testing.T) {
	tests := []struct {
		name                               string
		spec                               v1alpha1.ScaledObjectSpec
		polling, cooldown, initial, mn, mx int32
	}{
		{
			name:    "all omitted: KEDA's defaults",
			polling: 30, cooldown: 300, initial: 0, mn: 0, mx: 100,
		},
		{
			name: "all set",
			spec: v1alpha1.ScaledObjectSpec{
				PollingInterval: ptr.To[int32](5), CooldownPeriod: ptr.To[int32](60), InitialCooldownPeriod: ptr.To[int32](120),
				MinReplicaCount: ptr.To[int32](2), MaxReplicaCount: ptr.To[int32](7),
			},
			polling: 5, cooldown: 60, initial: 120, mn: 2, mx: 7,
		},
		{
			name: "explicit zeros are kept, not replaced by defaults",
			spec: v1alpha1.ScaledObjectSpec{
				PollingInterval: ptr.To[int32](0), CooldownPeriod: ptr.To[int32](0), InitialCooldownPeriod: ptr.To[int32](0),
				MinReplicaCount: ptr.To[int32](0), MaxReplicaCount: ptr.To[int32](0),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.spec
			got := []int32{s.PollingIntervalSeconds(), s.CooldownPeriodSeconds(), s.InitialCooldownPeriodSeconds(), s.MinReplicas(), s.MaxReplicas()}
			want := []int32{tt.polling, tt.cooldown, tt.initial, tt.mn, tt.mx}
			if !slices.Equal(got, want) {
				t.Errorf("polling, cooldown, initialCooldown, min, max = %v, want %v", got, want)
			}
		})
	}
}

func TestHPAName(t *testing.T) {
	tests := []struct {
		name     string
		advanced *v1alpha1.AdvancedConfig
		want     string
	}{
		{"no advanced", nil, "keda-hpa-web"},
		{"advanced without HPA config", &v1alpha1.AdvancedConfig{RestoreToOriginalReplicaCount: true}, "keda-hpa-web"},
		{"HPA config without name", &v1alpha1.AdvancedConfig{HorizontalPodAutoscalerConfig: &v1alpha1.HorizontalPodAutoscalerConfig{}}, "keda-hpa-web"},
		{"custom name", &v1alpha1.AdvancedConfig{HorizontalPodAutoscalerConfig: &v1alpha1.HorizontalPodAutoscalerConfig{Name: "my-hpa"}}, "my-hpa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			so := &v1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: v1alpha1.ScaledObjectSpec{Advanced: tt.advanced}}
			if got := so.HPAName(); got != tt.want {
				t.Errorf("HPAName() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTriggerAuthKind(t *testing.T) {
	tests := []struct{ kind, want string }{
		{"", "TriggerAuthentication"},
		{"TriggerAuthentication", "TriggerAuthentication"},
		{"ClusterTriggerAuthentication", "ClusterTriggerAuthentication"},
	}
	for _, tt := range tests {
		r := &v1alpha1.AuthenticationRef{Name: "auth", Kind: tt.kind}
		if got := r.TriggerAuthKind(); got != tt.want {
			t.Errorf("kind %q: TriggerAuthKind() = %q, want %q", tt.kind, got, tt.want)
		}
	}
}

func TestScaledJobDefaults(t *testing.T) {
	tests := []struct {
		name                                    string
		spec                                    v1alpha1.ScaledJobSpec
		polling, mn, mx, succeeded, failed      int32
		rollout, propagation, scaling, multiple string
	}{
		{
			name:    "all omitted: KEDA's defaults",
			polling: 30, mn: 0, mx: 100, succeeded: 100, failed: 100,
			rollout: "immediate", propagation: "background", scaling: "default", multiple: "max",
		},
		{
			name: "all set",
			spec: v1alpha1.ScaledJobSpec{
				PollingInterval: ptr.To[int32](10), MinReplicaCount: ptr.To[int32](1), MaxReplicaCount: ptr.To[int32](20),
				SuccessfulJobsHistoryLimit: ptr.To[int32](3), FailedJobsHistoryLimit: ptr.To[int32](4),
				Rollout:         v1alpha1.Rollout{Strategy: "gradual", PropagationPolicy: "foreground"},
				ScalingStrategy: v1alpha1.ScalingStrategy{Strategy: "accurate", MultipleScalersCalculation: "sum"},
			},
			polling: 10, mn: 1, mx: 20, succeeded: 3, failed: 4,
			rollout: "gradual", propagation: "foreground", scaling: "accurate", multiple: "sum",
		},
		{
			name:    "explicit zero history limits are kept",
			spec:    v1alpha1.ScaledJobSpec{SuccessfulJobsHistoryLimit: ptr.To[int32](0), FailedJobsHistoryLimit: ptr.To[int32](0)},
			polling: 30, mn: 0, mx: 100, succeeded: 0, failed: 0,
			rollout: "immediate", propagation: "background", scaling: "default", multiple: "max",
		},
		{
			name:    "deprecated rolloutStrategy applies when rollout.strategy is unset",
			spec:    v1alpha1.ScaledJobSpec{RolloutStrategy: "gradual"},
			polling: 30, mn: 0, mx: 100, succeeded: 100, failed: 100,
			rollout: "gradual", propagation: "background", scaling: "default", multiple: "max",
		},
		{
			name:    "the deprecated rolloutStrategy wins over rollout.strategy, as in KEDA",
			spec:    v1alpha1.ScaledJobSpec{RolloutStrategy: "gradual", Rollout: v1alpha1.Rollout{Strategy: "immediate"}},
			polling: 30, mn: 0, mx: 100, succeeded: 100, failed: 100,
			rollout: "gradual", propagation: "background", scaling: "default", multiple: "max",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.spec
			got := []int32{s.PollingIntervalSeconds(), s.MinReplicas(), s.MaxReplicas(), s.SuccessfulJobsHistory(), s.FailedJobsHistory()}
			want := []int32{tt.polling, tt.mn, tt.mx, tt.succeeded, tt.failed}
			if !slices.Equal(got, want) {
				t.Errorf("polling, min, max, successfulHistory, failedHistory = %v, want %v", got, want)
			}
			gotS := []string{s.EffectiveRolloutStrategy(), s.EffectivePropagationPolicy(), s.EffectiveScalingStrategy(), s.EffectiveMultipleScalersCalculation()}
			wantS := []string{tt.rollout, tt.propagation, tt.scaling, tt.multiple}
			if !slices.Equal(gotS, wantS) {
				t.Errorf("rollout, propagation, scaling, multipleScalers = %q, want %q", gotS, wantS)
			}
		})
	}
}

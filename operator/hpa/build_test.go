package hpa

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func externalMetric(name string, avg int64) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: name},
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: resource.NewQuantity(avg, resource.DecimalSI)},
	}}
}

func TestBuild(t *testing.T) {
	base := func() *kedav1alpha1.ScaledObject {
		return &kedav1alpha1.ScaledObject{
			ObjectMeta: metav1.ObjectMeta{Name: "worker", Namespace: "ns", UID: "uid-1", Labels: map[string]string{"team": "a", "secret-label": "x"}},
			Spec: kedav1alpha1.ScaledObjectSpec{
				ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: "worker"},
				Triggers:       []kedav1alpha1.ScaleTriggers{{Type: "redis"}},
			},
		}
	}
	tests := []struct {
		name   string
		so     func() *kedav1alpha1.ScaledObject
		target Target
		// metrics are the triggers' specs; one External metric when nil.
		metrics []autoscalingv2.MetricSpec
	}{
		{name: "defaults", so: base, target: Target{APIVersion: "apps/v1", Kind: "Deployment", Name: "worker"}},
		{name: "custom-name-behavior-min-excluded-labels", so: func() *kedav1alpha1.ScaledObject {
			so := base()
			so.Annotations = map[string]string{kedav1alpha1.AnnotationHPAExcludedLabels: "secret-label"}
			so.Spec.MinReplicaCount = ptr.To[int32](2)
			so.Spec.MaxReplicaCount = ptr.To[int32](7)
			so.Spec.Advanced = &kedav1alpha1.AdvancedConfig{HorizontalPodAutoscalerConfig: &kedav1alpha1.HorizontalPodAutoscalerConfig{
				Name: "my-hpa",
				Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{
					StabilizationWindowSeconds: ptr.To[int32](10),
					Policies:                   []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}},
				}},
			}}
			return so
		}, target: Target{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "worker"}},
		// cpu and memory triggers pass through as Resource and ContainerResource metrics, with no
		// selector: the HPA reads them from metrics.k8s.io.
		{name: "resource-metrics", so: base, target: Target{APIVersion: "apps/v1", Kind: "Deployment", Name: "worker"}, metrics: []autoscalingv2.MetricSpec{
			externalMetric("s0-redis-jobs", 5),
			{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu",
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](50)}}},
			{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: "memory", Container: "app",
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("256Mi"))}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			metrics := tt.metrics
			if metrics == nil {
				metrics = []autoscalingv2.MetricSpec{externalMetric("s0-redis-jobs", 5)}
			}
			got := Build(tt.so(), tt.target, metrics)
			out, err := yaml.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.name+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if string(want) != string(out) {
				t.Errorf("HPA differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", golden, out, want)
			}
		})
	}
}

func TestMinReplicas(t *testing.T) {
	for _, tc := range []struct {
		min  *int32
		want int32
	}{{nil, 1}, {ptr.To[int32](0), 1}, {ptr.To[int32](3), 3}} {
		if got := MinReplicas(&kedav1alpha1.ScaledObjectSpec{MinReplicaCount: tc.min}); got != tc.want {
			t.Errorf("MinReplicas(%v) = %d, want %d", tc.min, got, tc.want)
		}
	}
}

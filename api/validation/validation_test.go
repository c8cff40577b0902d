package validation

import (
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/scalers/meta"
)

func cpuTrigger(metricType autoscalingv2.MetricTargetType, meta map[string]string) kedav1alpha1.ScaleTriggers {
	if meta == nil {
		meta = map[string]string{"value": "50"}
	}
	return kedav1alpha1.ScaleTriggers{Type: "cpu", MetricType: metricType, Metadata: meta}
}

var cronTrigger = kedav1alpha1.ScaleTriggers{Type: "cron", Metadata: map[string]string{"timezone": "Etc/UTC", "start": "0 9 * * *", "end": "0 17 * * *", "desiredReplicas": "2"}}

func scaledObject(min *int32, triggers ...kedav1alpha1.ScaleTriggers) *kedav1alpha1.ScaledObject {
	return &kedav1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "so"},
		Spec:       kedav1alpha1.ScaledObjectSpec{ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: "web"}, MinReplicaCount: min, Triggers: triggers},
	}
}

// TestScaledObjectResourceTriggers covers the rules about cpu and memory triggers that need no
// cluster.
func TestScaledObjectResourceTriggers(t *testing.T) {
	tests := []struct {
		name string
		so   *kedav1alpha1.ScaledObject
		want []string // substrings of the one expected error; nil for none
	}{
		{name: "cpu with minReplicaCount 1", so: scaledObject(ptr.To[int32](1), cpuTrigger("Utilization", nil))},
		{name: "cpu and cron may go to zero", so: scaledObject(ptr.To[int32](0), cpuTrigger("Utilization", nil), cronTrigger)},
		{name: "memory AverageValue", so: scaledObject(ptr.To[int32](2), kedav1alpha1.ScaleTriggers{Type: "memory", MetricType: "AverageValue", Metadata: map[string]string{"value": "256Mi"}})},
		{name: "only cpu, minReplicaCount left at its default 0", so: scaledObject(nil, cpuTrigger("Utilization", nil)),
			want: []string{"spec.minReplicaCount", "cannot scale to zero", "set minReplicaCount to 1 or more, or add another trigger"}},
		{name: "only cpu and memory, minReplicaCount 0", so: scaledObject(ptr.To[int32](0), cpuTrigger("Utilization", nil), kedav1alpha1.ScaleTriggers{Type: "memory", MetricType: "Utilization", Metadata: map[string]string{"value": "70"}}),
			want: []string{"spec.minReplicaCount", "cannot scale to zero"}},
		{name: "cpu refuses Value", so: scaledObject(ptr.To[int32](1), cpuTrigger("Value", nil)),
			want: []string{"spec.triggers[0].metricType \"Value\" is not valid for a cpu trigger", "use Utilization or AverageValue"}},
		{name: "Utilization only for cpu and memory", so: scaledObject(ptr.To[int32](1), func() kedav1alpha1.ScaleTriggers { c := cronTrigger; c.MetricType = "Utilization"; return c }()),
			want: []string{"spec.triggers[0].metricType", "Utilization applies to cpu and memory triggers only", "use AverageValue or Value"}},
		{name: "cpu without a metric type", so: scaledObject(ptr.To[int32](1), cpuTrigger("", nil)),
			want: []string{"spec.triggers[0].metricType is required for a cpu trigger", "Utilization or AverageValue"}},
		{name: "cpu with a bad value", so: scaledObject(ptr.To[int32](1), cpuTrigger("Utilization", map[string]string{"value": "half"})),
			want: []string{"spec.triggers[0].metadata.value", "whole percentage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := ScaledObject(meta.CheckTrigger, tt.so)
			if tt.want == nil {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("got %d errors %v, want one", len(errs), errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(errs[0].Error(), w) {
					t.Errorf("error %q does not contain %q", errs[0], w)
				}
			}
		})
	}
}

func TestScaledJobRefusesResourceTriggers(t *testing.T) {
	sj := &kedav1alpha1.ScaledJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sj"},
		Spec: kedav1alpha1.ScaledJobSpec{
			JobTargetRef: &batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "job"}}}}},
			Triggers:     []kedav1alpha1.ScaleTriggers{cpuTrigger("Utilization", nil)},
		},
	}
	errs := ScaledJob(meta.CheckTrigger, sj)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "spec.triggers[0].type") || !strings.Contains(errs[0].Error(), "ScaledObjects only") {
		t.Fatalf("errors = %v, want one refusing the cpu trigger of a ScaledJob", errs)
	}
}

func TestResourceRequests(t *testing.T) {
	cpu := func(q string) corev1.ResourceList {
		return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(q)}
	}
	containers := func(cs ...corev1.Container) *corev1.PodSpec { return &corev1.PodSpec{Containers: cs} }
	withRequests := corev1.Container{Name: "app", Resources: corev1.ResourceRequirements{Requests: cpu("100m")}}
	withLimits := corev1.Container{Name: "app", Resources: corev1.ResourceRequirements{Limits: cpu("1")}}
	bare := corev1.Container{Name: "sidecar"}
	limitRange := func(typ corev1.LimitType, defaults corev1.ResourceList) []corev1.LimitRange {
		return []corev1.LimitRange{{Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{Type: typ, DefaultRequest: defaults}}}}}
	}
	tests := []struct {
		name        string
		triggers    []kedav1alpha1.ScaleTriggers
		podSpec     *corev1.PodSpec
		limitRanges []corev1.LimitRange
		want        [][]string // substrings, one list per expected error
	}{
		{name: "requests set", triggers: []kedav1alpha1.ScaleTriggers{cpuTrigger("Utilization", nil)}, podSpec: containers(withRequests)},
		{name: "a limit defaults the request", triggers: []kedav1alpha1.ScaleTriggers{cpuTrigger("Utilization", nil)}, podSpec: containers(withLimits)},
		{name: "no pod template is not checked", triggers: []kedav1alpha1.ScaleTriggers{cpuTrigger("Utilization", nil)}},
		{name: "other triggers need nothing", triggers: []kedav1alpha1.ScaleTriggers{cronTrigger}, podSpec: containers(bare)},
		{name: "missing cpu request", triggers: []kedav1alpha1.ScaleTriggers{cpuTrigger("Utilization", nil)}, podSpec: containers(withRequests, bare),
			want: [][]string{{"trigger 0 (cpu)", `container "sidecar" of Deployment ns/web has no cpu request`, "set spec.template.spec.containers[1].resources.requests.cpu on the Deployment", "LimitRange"}}},
		{name: "AverageValue needs it too, as in KEDA", triggers: []kedav1alpha1.ScaleTriggers{cpuTrigger("AverageValue", map[string]string{"value": "100m"})}, podSpec: containers(bare),
			want: [][]string{{"has no cpu request"}}},
		{name: "memory is checked for memory", triggers: []kedav1alpha1.ScaleTriggers{{Type: "memory", MetricType: "Utilization", Metadata: map[string]string{"value": "60"}}}, podSpec: containers(withRequests),
			want: [][]string{{"trigger 0 (memory)", "has no memory request", "resources.requests.memory"}}},
		{name: "containerName checks only that container", triggers: []kedav1alpha1.ScaleTriggers{cpuTrigger("Utilization", map[string]string{"value": "50", "containerName": "app"})}, podSpec: containers(withRequests, bare)},
		{name: "containerName without a request", triggers: []kedav1alpha1.ScaleTriggers{cpuTrigger("Utilization", map[string]string{"value": "50", "containerName": "sidecar"})}, podSpec: containers(withRequests, bare),
			want: [][]string{{`container "sidecar"`, "containers[1].resources.requests.cpu"}}},
		{name: "containerName not in the pod", triggers: []kedav1alpha1.ScaleTriggers{cpuTrigger("Utilization", map[string]string{"value": "50", "containerName": "web"})}, podSpec: containers(withRequests, bare),
			want: [][]string{{`spec.triggers[0].metadata.containerName "web" is not a container of Deployment ns/web`, "use one of app, sidecar"}}},
		{name: "a LimitRange default request", triggers: []kedav1alpha1.ScaleTriggers{cpuTrigger("Utilization", nil)}, podSpec: containers(bare), limitRanges: limitRange(corev1.LimitTypeContainer, cpu("200m"))},
		{name: "a Pod LimitRange gives containers no default", triggers: []kedav1alpha1.ScaleTriggers{cpuTrigger("Utilization", nil)}, podSpec: containers(bare), limitRanges: limitRange(corev1.LimitTypePod, cpu("200m")),
			want: [][]string{{"has no cpu request"}}},
		{name: "each trigger reports", triggers: []kedav1alpha1.ScaleTriggers{cronTrigger, cpuTrigger("Utilization", nil), {Type: "memory", MetricType: "AverageValue", Metadata: map[string]string{"value": "1Gi"}}}, podSpec: containers(bare),
			want: [][]string{{"trigger 1 (cpu)", "spec.triggers[1]"}, {"trigger 2 (memory)", "spec.triggers[2]"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := ResourceRequests(scaledObject(ptr.To[int32](1), tt.triggers...), "Deployment", tt.podSpec, tt.limitRanges)
			if len(errs) != len(tt.want) {
				t.Fatalf("got errors %v, want %d", errs, len(tt.want))
			}
			for i, want := range tt.want {
				for _, w := range want {
					if !strings.Contains(errs[i].Error(), w) {
						t.Errorf("error %q does not contain %q", errs[i], w)
					}
				}
			}
		})
	}
}

func TestScaledObjectWarnings(t *testing.T) {
	cached := cronTrigger
	cached.Type, cached.Metadata, cached.UseCachedMetrics = "metrics-api", map[string]string{"url": "http://src/", "valueLocation": "v", "targetValue": "1"}, true
	for _, tt := range []struct {
		name                      string
		min, idle, polling, cool  *int32
		triggers                  []kedav1alpha1.ScaleTriggers
		wantPolling, wantCooldown bool
	}{
		{name: "scale to zero: both act", min: ptr.To[int32](0), polling: ptr.To[int32](10), cool: ptr.To[int32](60)},
		{name: "min unset is zero", polling: ptr.To[int32](10), cool: ptr.To[int32](60)},
		{name: "min 1: neither acts", min: ptr.To[int32](1), polling: ptr.To[int32](10), cool: ptr.To[int32](60), wantPolling: true, wantCooldown: true},
		{name: "min 1, nothing set", min: ptr.To[int32](1)},
		{name: "idle replicas: both act", min: ptr.To[int32](2), idle: ptr.To[int32](0), polling: ptr.To[int32](10), cool: ptr.To[int32](60)},
		{name: "useCachedMetrics keeps polling", min: ptr.To[int32](1), polling: ptr.To[int32](10), cool: ptr.To[int32](60), triggers: []kedav1alpha1.ScaleTriggers{cached}, wantCooldown: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			triggers := tt.triggers
			if triggers == nil {
				triggers = []kedav1alpha1.ScaleTriggers{cronTrigger}
			}
			so := scaledObject(tt.min, triggers...)
			so.Spec.IdleReplicaCount, so.Spec.PollingInterval, so.Spec.CooldownPeriod = tt.idle, tt.polling, tt.cool
			got := strings.Join(ScaledObjectWarnings(so), "\n")
			if has := strings.Contains(got, "spec.pollingInterval has no effect"); has != tt.wantPolling {
				t.Errorf("pollingInterval warned %t, want %t: %q", has, tt.wantPolling, got)
			}
			if has := strings.Contains(got, "spec.cooldownPeriod has no effect"); has != tt.wantCooldown {
				t.Errorf("cooldownPeriod warned %t, want %t: %q", has, tt.wantCooldown, got)
			}
		})
	}
}

func TestScaledJobMinAboveMaxIsAWarning(t *testing.T) {
	sj := &kedav1alpha1.ScaledJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sj"},
		Spec: kedav1alpha1.ScaledJobSpec{
			MinReplicaCount: ptr.To[int32](5), MaxReplicaCount: ptr.To[int32](2),
			JobTargetRef: &batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "job", Image: "job"}}}}},
			Triggers:     []kedav1alpha1.ScaleTriggers{cronTrigger},
		},
	}
	if errs := ScaledJob(meta.CheckTrigger, sj); len(errs) > 0 {
		t.Errorf("refused what KEDA admits: %v", errs)
	}
	w := ScaledJobWarnings(sj)
	if len(w) != 1 || !strings.Contains(w[0], "spec.minReplicaCount 5 is greater than maxReplicaCount 2: both are taken as 2") {
		t.Errorf("warnings %q", w)
	}
	sj.Spec.MinReplicaCount = ptr.To[int32](2)
	if w := ScaledJobWarnings(sj); len(w) > 0 {
		t.Errorf("min equal to max warned: %q", w)
	}
}

func TestUseCachedMetricsOnlyWhereThereIsASourceRead(t *testing.T) {
	withCache := func(tr kedav1alpha1.ScaleTriggers) kedav1alpha1.ScaleTriggers {
		tr.UseCachedMetrics = true
		return tr
	}
	redis := kedav1alpha1.ScaleTriggers{Type: "redis", Metadata: map[string]string{"address": "redis:6379", "listName": "jobs"}}
	for _, tt := range []struct {
		name    string
		trigger kedav1alpha1.ScaleTriggers
		refused bool
	}{
		{"cpu", withCache(cpuTrigger(autoscalingv2.UtilizationMetricType, nil)), true},
		{"memory", withCache(kedav1alpha1.ScaleTriggers{Type: "memory", MetricType: autoscalingv2.UtilizationMetricType, Metadata: map[string]string{"value": "50"}}), true},
		{"cron", withCache(cronTrigger), true},
		{"redis", withCache(redis), false},
		{"cron without the cache", cronTrigger, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			so := scaledObject(ptr.To[int32](1), tt.trigger, cronTrigger)
			var found []string
			for _, err := range ScaledObject(meta.CheckTrigger, so) {
				if strings.Contains(err.Error(), "useCachedMetrics") {
					found = append(found, err.Error())
				}
			}
			if tt.refused != (len(found) == 1) {
				t.Fatalf("refusals about useCachedMetrics: %q, want refused %t", found, tt.refused)
			}
			if tt.refused && !strings.Contains(found[0], "spec.triggers[0].useCachedMetrics") || tt.refused && !strings.Contains(found[0], "remove useCachedMetrics") {
				t.Errorf("refusal %q names no field or fix", found[0])
			}
		})
	}
}

func TestNamesThatCannotNameOrLabelTheHPA(t *testing.T) {
	long := strings.Repeat("a", 60) // keda-hpa-<60> is 69 characters
	for _, tt := range []struct {
		name, soName, hpaName string
		want                  string // a part of the refusal, or "" to admit
	}{
		{name: "short", soName: "orders"},
		{name: "63 characters with a custom HPA name", soName: strings.Repeat("b", 63), hpaName: "orders-hpa"},
		{name: "64 characters", soName: strings.Repeat("b", 64), hpaName: "orders-hpa", want: "metadata.name: Invalid value: \"" + strings.Repeat("b", 64) + "\": is 64 characters, and it becomes the value of the scaledobject.keda.sh/name label"},
		{name: "derived HPA name too long", soName: long, want: "set spec.advanced.horizontalPodAutoscalerConfig.name to a shorter name, or shorten the ScaledObject's name"},
		{name: "custom HPA name saves a long name", soName: long, hpaName: "short"},
		{name: "custom HPA name too long", soName: "orders", hpaName: strings.Repeat("h", 64), want: "spec.advanced.horizontalPodAutoscalerConfig.name"},
		{name: "custom HPA name not an object name", soName: "orders", hpaName: "Orders_HPA", want: "is not a valid object name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			so := scaledObject(nil, cronTrigger)
			so.Name = tt.soName
			if tt.hpaName != "" {
				so.Spec.Advanced = &kedav1alpha1.AdvancedConfig{HorizontalPodAutoscalerConfig: &kedav1alpha1.HorizontalPodAutoscalerConfig{Name: tt.hpaName}}
			}
			errs := ScaledObject(meta.CheckTrigger, so)
			switch {
			case tt.want == "" && len(errs) > 0:
				t.Errorf("refused: %v", errs)
			case tt.want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.want)):
				t.Errorf("refusals %v, want one saying %q", errs, tt.want)
			}
		})
	}
}

// TestFallbackAsKEDAValidatesIt: KEDA 2.21 admits failureThreshold and replicas of 0, Value
// triggers (their fallback is divided by the ready pods) and every behavior it knows; it refuses
// negative numbers, the scalingModifiers behavior without a formula, and a fallback with nothing
// but cpu and memory triggers to stand in for (unless scalingModifiers are set).
func TestFallbackAsKEDAValidatesIt(t *testing.T) {
	redis := func(metricType autoscalingv2.MetricTargetType) kedav1alpha1.ScaleTriggers {
		return kedav1alpha1.ScaleTriggers{Type: "redis", Name: "q", MetricType: metricType, Metadata: map[string]string{"address": "localhost:6379", "listName": "l"}}
	}
	withFallback := func(f kedav1alpha1.Fallback, min int32, triggers ...kedav1alpha1.ScaleTriggers) *kedav1alpha1.ScaledObject {
		so := scaledObject(ptr.To(min), triggers...)
		so.Spec.Fallback = &f
		return so
	}
	formula := func(so *kedav1alpha1.ScaledObject) *kedav1alpha1.ScaledObject {
		so.Spec.Advanced = &kedav1alpha1.AdvancedConfig{ScalingModifiers: kedav1alpha1.ScalingModifiers{Formula: "q ?? 4", Target: "2"}}
		return so
	}
	memory := kedav1alpha1.ScaleTriggers{Type: "memory", MetricType: "AverageValue", Metadata: map[string]string{"value": "256Mi"}}
	tests := []struct {
		name string
		so   *kedav1alpha1.ScaledObject
		want []string // substrings of the one expected error; nil for none
	}{
		{name: "AverageValue trigger", so: withFallback(kedav1alpha1.Fallback{FailureThreshold: 3, Replicas: 2}, 0, redis("AverageValue"))},
		{name: "metricType left out", so: withFallback(kedav1alpha1.Fallback{FailureThreshold: 3, Replicas: 2}, 0, redis(""))},
		{name: "Value trigger", so: withFallback(kedav1alpha1.Fallback{FailureThreshold: 3, Replicas: 2}, 0, redis("Value"))},
		{name: "failureThreshold 0", so: withFallback(kedav1alpha1.Fallback{FailureThreshold: 0, Replicas: 2}, 0, redis(""))},
		{name: "replicas 0", so: withFallback(kedav1alpha1.Fallback{FailureThreshold: 1, Replicas: 0}, 0, redis(""))},
		{name: "cpu beside an event source", so: withFallback(kedav1alpha1.Fallback{FailureThreshold: 1, Replicas: 2}, 1, cpuTrigger("Utilization", nil), redis(""))},
		{name: "every behavior", so: withFallback(kedav1alpha1.Fallback{FailureThreshold: 1, Replicas: 2, Behavior: "currentReplicasIfLower"}, 0, redis(""))},
		{name: "scalingModifiers behavior with a formula", so: formula(withFallback(kedav1alpha1.Fallback{FailureThreshold: 1, Replicas: 2, Behavior: "scalingModifiers"}, 0, redis("")))},
		{name: "cpu and memory only, with scalingModifiers", so: formula(withFallback(kedav1alpha1.Fallback{FailureThreshold: 1, Replicas: 2}, 1, cpuTrigger("Utilization", nil), memory, redis("")))},
		{name: "negative failureThreshold", so: withFallback(kedav1alpha1.Fallback{FailureThreshold: -1, Replicas: 2}, 0, redis("")),
			want: []string{"spec.fallback.failureThreshold", "must be 0 or more"}},
		{name: "negative replicas", so: withFallback(kedav1alpha1.Fallback{FailureThreshold: 3, Replicas: -2}, 0, redis("")),
			want: []string{"spec.fallback.replicas", "must be 0 or more"}},
		{name: "cpu and memory only", so: withFallback(kedav1alpha1.Fallback{FailureThreshold: 3, Replicas: 2}, 1, cpuTrigger("Utilization", nil), memory),
			want: []string{"spec.fallback", "needs a trigger other than cpu or memory", "add an event source trigger, or remove spec.fallback"}},
		{name: "scalingModifiers behavior without a formula", so: withFallback(kedav1alpha1.Fallback{FailureThreshold: 3, Replicas: 2, Behavior: "scalingModifiers"}, 0, redis("")),
			want: []string{"spec.fallback.behavior", "needs spec.advanced.scalingModifiers.formula", "add a formula, or choose static"}},
		{name: "unknown behavior", so: withFallback(kedav1alpha1.Fallback{FailureThreshold: 3, Replicas: 2, Behavior: "latest"}, 0, redis("")),
			want: []string{"spec.fallback.behavior", "Unsupported value: \"latest\"", "scalingModifiers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := ScaledObject(meta.CheckTrigger, tt.so)
			if tt.want == nil {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("got %d errors %v, want one", len(errs), errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(errs[0].Error(), w) {
					t.Errorf("error %q does not contain %q", errs[0], w)
				}
			}
		})
	}
}

// Package hpa decides what the HPA owned by a ScaledObject should look like. It is pure: no client.
package hpa

import (
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// Labels KEDA puts on the HPAs it owns.
const (
	labelName      = "app.kubernetes.io/name"
	labelPartOf    = "app.kubernetes.io/part-of"
	labelManagedBy = "app.kubernetes.io/managed-by"
	managedBy      = "keda-operator"
)

// Target is the resolved scale target.
type Target struct {
	APIVersion string
	Kind       string
	Name       string
}

// Build returns the HPA for so, scaling target on metrics. The External metrics get the label
// selector scaledobject.keda.sh/name=<so> that the metrics server answers to.
func Build(so *kedav1alpha1.ScaledObject, target Target, metrics []autoscalingv2.MetricSpec) *autoscalingv2.HorizontalPodAutoscaler {
	name := so.HPAName()
	labels := map[string]string{}
	excluded := excludedLabels(so.Annotations[kedav1alpha1.AnnotationHPAExcludedLabels])
	for k, v := range so.Labels {
		if !excluded[k] {
			labels[k] = v
		}
	}
	labels[labelName] = name
	labels[labelPartOf] = so.Name
	labels[labelManagedBy] = managedBy
	labels[kedav1alpha1.LabelScaledObjectName] = so.Name

	specs := make([]autoscalingv2.MetricSpec, len(metrics))
	for i := range metrics {
		spec := *metrics[i].DeepCopy()
		if spec.External != nil {
			spec.External.Metric.Selector = &metav1.LabelSelector{
				MatchLabels: map[string]string{kedav1alpha1.LabelScaledObjectName: so.Name},
			}
		}
		specs[i] = spec
	}

	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   so.Namespace,
			Labels:      labels,
			Annotations: annotationsOf(so),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion:         kedav1alpha1.GroupVersion.String(),
				Kind:               "ScaledObject",
				Name:               so.Name,
				UID:                so.UID,
				Controller:         ptr.To(true),
				BlockOwnerDeletion: ptr.To(true),
			}},
		},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{
				APIVersion: target.APIVersion,
				Kind:       target.Kind,
				Name:       target.Name,
			},
			MinReplicas: ptr.To(MinReplicas(&so.Spec)),
			MaxReplicas: so.Spec.MaxReplicas(),
			Metrics:     specs,
		},
	}
	if a := so.Spec.Advanced; a != nil && a.HorizontalPodAutoscalerConfig != nil && a.HorizontalPodAutoscalerConfig.Behavior != nil {
		hpa.Spec.Behavior = a.HorizontalPodAutoscalerConfig.Behavior.DeepCopy()
	}
	// paused-scale-in and paused-scale-out disable one direction of the HPA.
	if p, err := so.Pause(); err == nil && (p.ScaleIn || p.ScaleOut) {
		if hpa.Spec.Behavior == nil {
			hpa.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{}
		}
		disabled := autoscalingv2.DisabledPolicySelect
		if p.ScaleIn {
			if hpa.Spec.Behavior.ScaleDown == nil {
				hpa.Spec.Behavior.ScaleDown = &autoscalingv2.HPAScalingRules{}
			}
			hpa.Spec.Behavior.ScaleDown.SelectPolicy = &disabled
		}
		if p.ScaleOut {
			if hpa.Spec.Behavior.ScaleUp == nil {
				hpa.Spec.Behavior.ScaleUp = &autoscalingv2.HPAScalingRules{}
			}
			hpa.Spec.Behavior.ScaleUp.SelectPolicy = &disabled
		}
	}
	return hpa
}

// MinReplicas is the HPA's minReplicas: the HPA cannot go below 1, so 0 <-> 1 is the operator's job.
func MinReplicas(spec *kedav1alpha1.ScaledObjectSpec) int32 {
	if m := spec.MinReplicas(); m > 0 {
		return m
	}
	return 1
}

// annotationsOf are the ScaledObject's annotations, which the HPA carries as KEDA's does (tools
// that read the HPA find the pause and ownership annotations there too); kubectl's
// last-applied-configuration, a copy of the ScaledObject, is left out.
func annotationsOf(so *kedav1alpha1.ScaledObject) map[string]string {
	if len(so.Annotations) == 0 {
		return nil
	}
	out := make(map[string]string, len(so.Annotations))
	for k, v := range so.Annotations {
		if k != corev1.LastAppliedConfigAnnotation {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func excludedLabels(annotation string) map[string]bool {
	out := map[string]bool{}
	for _, l := range strings.Split(annotation, ",") {
		if l = strings.TrimSpace(l); l != "" {
			out[l] = true
		}
	}
	return out
}

package app

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

func TestWithoutBookkeeping(t *testing.T) {
	so := &kedav1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{
		Name:          "orders",
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
		Annotations: map[string]string{
			corev1.LastAppliedConfigAnnotation: `{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject"}`,
			"autoscaling.keda.sh/paused":       "true",
		},
	}}
	got, err := withoutBookkeeping(so)
	if err != nil {
		t.Fatal(err)
	}
	kept := got.(*kedav1alpha1.ScaledObject)
	if kept.ManagedFields != nil {
		t.Errorf("managedFields kept: %v", kept.ManagedFields)
	}
	if want := map[string]string{"autoscaling.keda.sh/paused": "true"}; len(kept.Annotations) != 1 || kept.Annotations["autoscaling.keda.sh/paused"] != "true" {
		t.Errorf("annotations %v, want %v", kept.Annotations, want)
	}

	plain := &kedav1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{Name: "plain"}}
	if got, err := withoutBookkeeping(plain); err != nil || got.(*kedav1alpha1.ScaledObject).Annotations != nil {
		t.Errorf("an object without annotations came back as %+v, %v", got, err)
	}
	if got, err := withoutBookkeeping("not an object"); err != nil || got != "not an object" {
		t.Errorf("a value that is not an object came back as %v, %v", got, err)
	}
}

func TestHPAWithoutStatusDetail(t *testing.T) {
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "keda-hpa-worker", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "keda"}},
			Labels:      map[string]string{"team": "payments", kedav1alpha1.LabelScaledObjectName: "worker"},
			Annotations: map[string]string{kedav1alpha1.AnnotationValidationHPAOwnership: "false", kedav1alpha1.AnnotationHPAAppliedDigest: "d1", corev1.LastAppliedConfigAnnotation: "{}", "note": "x"}},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 5},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{
			CurrentReplicas: 2, DesiredReplicas: 3,
			Conditions:     []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.ScalingActive, Message: "the HPA was able to successfully calculate a replica count"}},
			CurrentMetrics: []autoscalingv2.MetricStatus{{Type: autoscalingv2.ExternalMetricSourceType}},
		},
	}
	got, err := hpaWithoutStatusDetail(hpa)
	if err != nil {
		t.Fatal(err)
	}
	h := got.(*autoscalingv2.HorizontalPodAutoscaler)
	if h.Status.Conditions != nil || h.Status.CurrentMetrics != nil || h.ManagedFields != nil {
		t.Errorf("status detail or managedFields kept: %+v", h)
	}
	if h.Status.CurrentReplicas != 2 || h.Status.DesiredReplicas != 3 || h.Spec.MaxReplicas != 5 {
		t.Errorf("replica counts or spec lost: %+v", h)
	}
	if h.Labels != nil || len(h.Annotations) != 2 || h.Annotations[kedav1alpha1.AnnotationValidationHPAOwnership] != "false" || h.Annotations[kedav1alpha1.AnnotationHPAAppliedDigest] != "d1" {
		t.Errorf("labels %v, annotations %v: want none but the hpa-ownership annotation and the applied digest", h.Labels, h.Annotations)
	}
}

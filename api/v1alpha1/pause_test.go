package v1alpha1

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestScaledJobPaused(t *testing.T) {
	for _, tc := range []struct {
		annotations map[string]string
		want        bool
	}{
		{nil, false},
		{map[string]string{AnnotationPaused: "true"}, true},
		{map[string]string{AnnotationPaused: "True"}, true},
		{map[string]string{AnnotationPaused: "1"}, true},
		{map[string]string{AnnotationPaused: "false"}, false},
		// Not a boolean: KEDA reads it as an intent to pause.
		{map[string]string{AnnotationPaused: "yes please"}, true},
		// paused-replicas means nothing to a ScaledJob.
		{map[string]string{AnnotationPausedReplicas: "0"}, false},
	} {
		sj := &ScaledJob{ObjectMeta: metav1.ObjectMeta{Annotations: tc.annotations}}
		if got := sj.Paused(); got != tc.want {
			t.Errorf("Paused() with %v = %v, want %v", tc.annotations, got, tc.want)
		}
	}
}

func TestScaledObjectBooleanAnnotations(t *testing.T) {
	for _, tc := range []struct {
		value     string
		set, want bool
	}{
		{set: false, want: false},
		{value: "true", set: true, want: true},
		{value: "True", set: true, want: true},
		{value: "1", set: true, want: true},
		{value: "false", set: true, want: false},
		{value: "0", set: true, want: false},
		// Not a boolean, even empty: KEDA reads setting the annotation as the intent.
		{value: "yes", set: true, want: true},
		{value: "", set: true, want: true},
	} {
		for _, key := range []string{AnnotationPaused, AnnotationPausedScaleIn, AnnotationPausedScaleOut, AnnotationForceActivation} {
			so := &ScaledObject{}
			if tc.set {
				so.Annotations = map[string]string{key: tc.value}
			}
			p, err := so.Pause()
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{AnnotationPaused: p.Paused, AnnotationPausedScaleIn: p.ScaleIn, AnnotationPausedScaleOut: p.ScaleOut, AnnotationForceActivation: so.ForceActivation()}[key]
			if got != tc.want {
				t.Errorf("%s set %t to %q reads as %t, want %t", key, tc.set, tc.value, got, tc.want)
			}
		}
	}
}

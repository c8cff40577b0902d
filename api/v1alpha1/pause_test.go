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

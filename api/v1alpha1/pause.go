package v1alpha1

import (
	"fmt"
	"strconv"
)

// PauseState is what the pause annotations of an object ask for.
type PauseState struct {
	// Paused stops autoscaling altogether (paused or paused-replicas).
	Paused bool
	// Replicas is the count paused-replicas holds the target at; nil keeps the current count.
	Replicas *int32
	// ScaleIn and ScaleOut block one direction only.
	ScaleIn  bool
	ScaleOut bool
}

// Pause reads the pause annotations as KEDA defines them (boolAnnotation). A paused-replicas value that is not a
// whole number is an error naming the annotation.
func (so *ScaledObject) Pause() (PauseState, error) {
	var p PauseState
	a := so.Annotations
	if v, ok := a[AnnotationPausedReplicas]; ok {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			return p, fmt.Errorf("metadata.annotations[%s] is %q: set it to a whole number of replicas, or remove it", AnnotationPausedReplicas, v)
		}
		r := int32(n)
		p.Paused, p.Replicas = true, &r
	}
	if boolAnnotation(a, AnnotationPaused) {
		p.Paused = true
	}
	p.ScaleIn = boolAnnotation(a, AnnotationPausedScaleIn)
	p.ScaleOut = boolAnnotation(a, AnnotationPausedScaleOut)
	return p, nil
}

// ForceActivation reports whether the force-activation annotation keeps the target active
// whatever its triggers say.
func (so *ScaledObject) ForceActivation() bool {
	return boolAnnotation(so.Annotations, AnnotationForceActivation)
}

// Paused reports whether the ScaledJob's autoscaling.keda.sh/paused annotation stops it creating
// Jobs.
func (sj *ScaledJob) Paused() bool {
	return boolAnnotation(sj.Annotations, AnnotationPaused)
}

// boolAnnotation reads a yes/no annotation as KEDA reads it: absent is no; a value
// strconv.ParseBool knows (true, True, 1, false, 0, ...) is that; any other value, even empty, is
// yes, since setting the annotation at all reads as the intent.
func boolAnnotation(annotations map[string]string, key string) bool {
	v, ok := annotations[key]
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err != nil || b
}

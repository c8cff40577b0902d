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

// Pause reads the pause annotations as KEDA defines them. A paused-replicas value that is not a
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
	if a[AnnotationPaused] == "true" {
		p.Paused = true
	}
	p.ScaleIn = a[AnnotationPausedScaleIn] == "true"
	p.ScaleOut = a[AnnotationPausedScaleOut] == "true"
	return p, nil
}

// Paused reports whether the ScaledJob's autoscaling.keda.sh/paused annotation stops it creating
// Jobs. As in KEDA, a value that is not a boolean pauses (it reads as an intent to pause).
func (sj *ScaledJob) Paused() bool {
	v, ok := sj.Annotations[AnnotationPaused]
	if !ok {
		return false
	}
	paused, err := strconv.ParseBool(v)
	return err != nil || paused
}

package scaledjob

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// RemovalCleanup returns the Jobs the operator itself deletes when sj is being deleted: none. KEDA's
// finalizer only stops the ScaledJob's polling and removes finalizer.keda.sh; the Jobs go through
// Kubernetes' garbage collector, because BuildJob makes the ScaledJob their controller owner, with the
// propagation the user's delete asked for. Jobs without that owner reference (labelled by hand, or
// created by something else) are left in place, as KEDA leaves them. This function exists so the
// reconciler states that decision in one tested place rather than by omission; Why says how many
// Jobs each way.
func RemovalCleanup(sj *kedav1alpha1.ScaledJob, jobs []batchv1.Job) Deletion {
	controlled := 0
	for i := range jobs {
		if ref := metav1.GetControllerOf(&jobs[i]); ref != nil && ref.Kind == "ScaledJob" && ref.UID == sj.UID {
			controlled++
		}
	}
	return Deletion{
		Propagation: metav1.DeletePropagationBackground,
		Why: fmt.Sprintf("the garbage collector deletes the %d Jobs the ScaledJob controls; %d others are kept",
			controlled, len(jobs)-controlled),
	}
}

package scaledjob

import (
	"fmt"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// RolloutCleanup returns the Jobs a reconcile of sj deletes because they were built from another
// generation of it: with the immediate rollout strategy (KEDA's default, see
// ScaledJobSpec.EffectiveRolloutStrategy), every Job whose scaledjob.keda.sh/generation annotation is
// missing or differs from sj's generation, finished or not; with gradual, none.
//
// jobs should be what KEDA lists: the Jobs in sj's namespace labelled scaledjob.keda.sh/name=<sj>.
// The propagation is foreground when spec.rollout.propagationPolicy is foreground, else background.
// KEDA runs this on every reconcile that gets past the pause check and trigger validation, not only
// on updates; that is harmless because Jobs of the current generation are kept.
func RolloutCleanup(sj *kedav1alpha1.ScaledJob, jobs []batchv1.Job) Deletion {
	d := Deletion{Propagation: metav1.DeletePropagationBackground}
	if sj.Spec.EffectivePropagationPolicy() == kedav1alpha1.PropagationPolicyForeground {
		d.Propagation = metav1.DeletePropagationForeground
	}
	if sj.Spec.EffectiveRolloutStrategy() == kedav1alpha1.RolloutStrategyGradual {
		d.Why = "rollout strategy gradual: Jobs of earlier generations run to completion"
		return d
	}
	current := strconv.FormatInt(sj.Generation, 10)
	for i := range jobs {
		if gen, ok := jobs[i].Annotations[kedav1alpha1.AnnotationJobGeneration]; !ok || gen != current {
			d.Jobs = append(d.Jobs, refOf(&jobs[i]))
		}
	}
	if len(d.Jobs) > 0 {
		d.Why = fmt.Sprintf("rollout strategy immediate: %d Jobs not built from generation %s", len(d.Jobs), current)
	}
	return d
}

package scaledjob

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// Labels KEDA puts on every Job it creates, besides kedav1alpha1.LabelScaledJobName.
const (
	LabelAppName      = "app.kubernetes.io/name"
	LabelAppVersion   = "app.kubernetes.io/version"
	LabelAppPartOf    = "app.kubernetes.io/part-of"
	LabelAppManagedBy = "app.kubernetes.io/managed-by"
	// ManagedBy is KEDA's value of app.kubernetes.io/managed-by; tools select KEDA's Jobs by it.
	ManagedBy = "keda-operator"
)

// BuildJob returns one new Job for sj, built as KEDA builds it. operatorVersion becomes the
// app.kubernetes.io/version label (KEDA's release builds write the version without a leading "v").
//
// The Job:
//   - is named by the API server from generateName "<ScaledJob>-" in the ScaledJob's namespace;
//   - has KEDA's labels (app.kubernetes.io/name and part-of = the ScaledJob, version, managed-by
//     keda-operator, scaledjob.keda.sh/name), then the ScaledJob's own labels except those listed in
//     scaledjob.keda.sh/job-excluded-labels; the ScaledJob's labels win a clash, as in KEDA;
//   - has the annotation scaledjob.keda.sh/generation = the ScaledJob's generation, then all the
//     ScaledJob's annotations (not filtered, and they win a clash, as in KEDA);
//   - has a deep copy of spec.jobTargetRef as its spec, whose pod template gets generateName
//     "<ScaledJob>-" and the label scaledjob.keda.sh/name (the app.kubernetes.io labels are not put
//     on the Pods), and restartPolicy OnFailure when none is set, because a Job may not use the
//     Pod default Always;
//   - is controlled by the ScaledJob (controller and blockOwnerDeletion true), so the garbage
//     collector deletes it with the ScaledJob.
//
// sj is not modified.
func BuildJob(sj *kedav1alpha1.ScaledJob, operatorVersion string) (*batchv1.Job, error) {
	if sj.Spec.JobTargetRef == nil {
		return nil, fmt.Errorf("failed to build a Job for ScaledJob %s/%s: spec.jobTargetRef is not set", sj.Namespace, sj.Name)
	}
	spec := *sj.Spec.JobTargetRef.DeepCopy()

	spec.Template.GenerateName = sj.Name + "-"
	if spec.Template.Labels == nil {
		spec.Template.Labels = map[string]string{}
	}
	spec.Template.Labels[kedav1alpha1.LabelScaledJobName] = sj.Name
	if spec.Template.Spec.RestartPolicy == "" {
		spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	}

	labels := map[string]string{
		LabelAppName:                    sj.Name,
		LabelAppVersion:                 operatorVersion,
		LabelAppPartOf:                  sj.Name,
		LabelAppManagedBy:               ManagedBy,
		kedav1alpha1.LabelScaledJobName: sj.Name,
	}
	excluded := excludedLabels(sj.Annotations)
	for k, v := range sj.Labels {
		if !excluded[k] {
			labels[k] = v
		}
	}

	annotations := map[string]string{
		kedav1alpha1.AnnotationJobGeneration: strconv.FormatInt(sj.Generation, 10),
	}
	maps.Copy(annotations, sj.Annotations)

	return &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: sj.Name + "-",
			Namespace:    sj.Namespace,
			Labels:       labels,
			Annotations:  annotations,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion:         kedav1alpha1.GroupVersion.String(),
				Kind:               "ScaledJob",
				Name:               sj.Name,
				UID:                sj.UID,
				Controller:         ptr.To(true),
				BlockOwnerDeletion: ptr.To(true),
			}},
		},
		Spec: spec,
	}, nil
}

// excludedLabels reads scaledjob.keda.sh/job-excluded-labels. KEDA splits on commas and does not
// trim, so "a, b" excludes "a" and " b"; the same here, so a ScaledJob copies the same labels.
func excludedLabels(annotations map[string]string) map[string]bool {
	raw, ok := annotations[kedav1alpha1.AnnotationJobExcludedLabels]
	if !ok {
		return nil
	}
	out := map[string]bool{}
	for _, k := range strings.Split(raw, ",") {
		out[k] = true
	}
	return out
}

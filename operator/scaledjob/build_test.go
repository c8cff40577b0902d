package scaledjob_test

import (
	"flag"
	"maps"
	"os"
	"path/filepath"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/scaledjob"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// KEDA's TestGenerateJobs (pkg/scaling/executor/scale_jobs_test.go): a ScaledJob "test" with one
// label and one annotation, at generation 0, built by a KEDA whose version is "main".
func TestBuildJobKEDAExpectations(t *testing.T) {
	sj := &kedav1alpha1.ScaledJob{
		ObjectMeta: metav1.ObjectMeta{Name: "test", Namespace: "test", Labels: map[string]string{"test": "test"}, Annotations: map[string]string{"test": "test"}},
		Spec:       kedav1alpha1.ScaledJobSpec{JobTargetRef: &batchv1.JobSpec{}},
	}
	job, err := scaledjob.BuildJob(sj, "main")
	if err != nil {
		t.Fatal(err)
	}
	wantAnnotations := map[string]string{"test": "test", "scaledjob.keda.sh/generation": "0"}
	wantLabels := map[string]string{
		"app.kubernetes.io/managed-by": "keda-operator",
		"app.kubernetes.io/name":       "test",
		"app.kubernetes.io/part-of":    "test",
		"app.kubernetes.io/version":    "main",
		"scaledjob.keda.sh/name":       "test",
		"test":                         "test",
	}
	if !maps.Equal(job.Annotations, wantAnnotations) {
		t.Errorf("annotations %v, want %v", job.Annotations, wantAnnotations)
	}
	if !maps.Equal(job.Labels, wantLabels) {
		t.Errorf("labels %v, want %v", job.Labels, wantLabels)
	}
	if job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("restartPolicy %q, want OnFailure", job.Spec.Template.Spec.RestartPolicy)
	}
	if job.GenerateName != "test-" || job.Namespace != "test" {
		t.Errorf("generateName %q namespace %q, want test- in test", job.GenerateName, job.Namespace)
	}
}

func TestBuildJobGolden(t *testing.T) {
	base := func() *kedav1alpha1.ScaledJob {
		return &kedav1alpha1.ScaledJob{
			ObjectMeta: metav1.ObjectMeta{Name: "worker", Namespace: "jobs", UID: "sj-uid", Generation: 4,
				Labels: map[string]string{"team": "a", "secret": "x", "app.kubernetes.io/name": "mine"},
				Annotations: map[string]string{
					kedav1alpha1.AnnotationJobExcludedLabels: "secret, team",
					"note":                                   "copied",
				}},
			Spec: kedav1alpha1.ScaledJobSpec{
				JobTargetRef: &batchv1.JobSpec{
					Parallelism: ptr.To[int32](2), Completions: ptr.To[int32](4), ActiveDeadlineSeconds: ptr.To[int64](600), BackoffLimit: ptr.To[int32](6),
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"tier": "batch"}},
						Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "work", Image: "busybox"}}},
					},
				},
				Triggers: []kedav1alpha1.ScaleTriggers{{Type: "redis"}},
			},
		}
	}
	tests := []struct {
		name string
		sj   func() *kedav1alpha1.ScaledJob
	}{
		// "secret" is excluded; " team" (with its space) is not, so team is copied, as in KEDA.
		// The ScaledJob's app.kubernetes.io/name wins over KEDA's.
		{name: "excluded-labels-and-job-spec", sj: base},
		{name: "restart-policy-kept", sj: func() *kedav1alpha1.ScaledJob {
			sj := base()
			sj.Annotations = nil
			sj.Labels = nil
			sj.Spec.JobTargetRef.Template.Labels = nil
			sj.Spec.JobTargetRef.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
			return sj
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sj := tt.sj()
			before := sj.DeepCopy()
			job, err := scaledjob.BuildJob(sj, "2.21.0")
			if err != nil {
				t.Fatal(err)
			}
			if !apiequality.Semantic.DeepEqual(sj, before) {
				t.Error("BuildJob modified the ScaledJob")
			}
			job.Spec.Template.Labels["after"] = "build"
			job.Labels["after"] = "build"
			if !apiequality.Semantic.DeepEqual(sj, before) {
				t.Error("the Job shares maps with the ScaledJob")
			}
			delete(job.Spec.Template.Labels, "after")
			delete(job.Labels, "after")

			out, err := yaml.Marshal(job)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.name+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if string(out) != string(want) {
				t.Errorf("Job differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", golden, out, want)
			}
		})
	}
}

func TestBuildJobWithoutJobTargetRef(t *testing.T) {
	_, err := scaledjob.BuildJob(&kedav1alpha1.ScaledJob{ObjectMeta: metav1.ObjectMeta{Name: "w", Namespace: "ns"}}, "2.21.0")
	if err == nil || err.Error() != "failed to build a Job for ScaledJob ns/w: spec.jobTargetRef is not set" {
		t.Errorf("err = %v", err)
	}
}

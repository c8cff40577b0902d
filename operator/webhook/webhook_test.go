package webhook

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/ownership"
)

// builderIndexer registers ownership's field indexes on a fake client, as the manager's cache has
// them.
type builderIndexer struct{ b *fake.ClientBuilder }

func (i builderIndexer) IndexField(_ context.Context, obj client.Object, field string, fn client.IndexerFunc) error {
	i.b.WithIndex(obj, field, fn)
	return nil
}

var cronTrigger = kedav1alpha1.ScaleTriggers{Type: "cron", Metadata: map[string]string{"timezone": "Etc/UTC", "start": "0 9 * * *", "end": "0 17 * * *", "desiredReplicas": "2"}}

func scaledObject(name, target string, mutate func(*kedav1alpha1.ScaledObjectSpec)) *kedav1alpha1.ScaledObject {
	so := &kedav1alpha1.ScaledObject{
		TypeMeta:   metav1.TypeMeta{APIVersion: "keda.sh/v1alpha1", Kind: "ScaledObject"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Spec:       kedav1alpha1.ScaledObjectSpec{ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: target}, Triggers: []kedav1alpha1.ScaleTriggers{cronTrigger}},
	}
	if mutate != nil {
		mutate(&so.Spec)
	}
	return so
}

func TestAdmission(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := kedav1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	builder := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}},
		scaledObject("first", "web", nil),
	)
	if err := ownership.IndexFields(context.Background(), builderIndexer{builder}); err != nil {
		t.Fatal(err)
	}
	c := builder.Build()
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(appsv1.SchemeGroupVersion.WithKind("Deployment"), meta.RESTScopeNamespace)
	recorder := events.NewFakeRecorder(10)
	hs := handlers(scheme, &Validator{Client: c, Reader: c, Mapper: mapper, Recorder: recorder})

	cpu := func(s *kedav1alpha1.ScaledObjectSpec) {
		s.MinReplicaCount = ptr.To[int32](1)
		s.Triggers = []kedav1alpha1.ScaleTriggers{{Type: "cpu", MetricType: "Utilization", Metadata: map[string]string{"value": "50"}}}
	}
	irrelevant := func(s *kedav1alpha1.ScaledObjectSpec) {
		s.MinReplicaCount, s.PollingInterval, s.CooldownPeriod = ptr.To[int32](1), ptr.To[int32](10), ptr.To[int32](60)
	}
	widget := func(s *kedav1alpha1.ScaledObjectSpec) {
		s.ScaleTargetRef.APIVersion, s.ScaleTargetRef.Kind = "example.com/v1", "Widget"
	}
	clamped := &kedav1alpha1.ScaledJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "keda.sh/v1alpha1", Kind: "ScaledJob"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sj"},
		Spec: kedav1alpha1.ScaledJobSpec{
			MinReplicaCount: ptr.To[int32](5), MaxReplicaCount: ptr.To[int32](2), Triggers: []kedav1alpha1.ScaleTriggers{cronTrigger},
			JobTargetRef: &batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "job", Image: "job"}}}}},
		},
	}

	for _, tt := range []struct {
		name     string
		path     string
		obj      client.Object
		dryRun   bool
		refusal  string // a part of the refusal, or "" to admit
		warnings []string
		events   int
	}{
		{name: "target that does not exist yet", path: PathScaledObject, obj: scaledObject("later", "later", nil)},
		{name: "cpu trigger on a missing target", path: PathScaledObject, obj: scaledObject("cpu", "nowhere", cpu), refusal: "Target resource Deployment ns/nowhere doesn't exist"},
		{name: "kind the cluster lacks", path: PathScaledObject, obj: scaledObject("widget", "w", widget), refusal: "the cluster has no kind Widget in example.com/v1"},
		{name: "second ScaledObject on a target", path: PathScaledObject, obj: scaledObject("second", "web", nil), refusal: "already scaled by ScaledObject first"},
		{name: "settings that do nothing", path: PathScaledObject, obj: scaledObject("warned", "later", irrelevant),
			warnings: []string{"spec.pollingInterval has no effect here", "spec.cooldownPeriod has no effect here"}, events: 2},
		{name: "dry run records no event", path: PathScaledObject, obj: scaledObject("warned", "later", irrelevant), dryRun: true,
			warnings: []string{"spec.pollingInterval has no effect here", "spec.cooldownPeriod has no effect here"}},
		{name: "refused with warnings", path: PathScaledObject, obj: scaledObject("both", "web", irrelevant), refusal: "already scaled by ScaledObject first",
			warnings: []string{"spec.pollingInterval has no effect here", "spec.cooldownPeriod has no effect here"}, events: 2},
		{name: "ScaledJob min above max", path: PathScaledJob, obj: clamped, warnings: []string{"spec.minReplicaCount 5 is greater than maxReplicaCount 2"}, events: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := json.Marshal(tt.obj)
			if err != nil {
				t.Fatal(err)
			}
			req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
				Operation: admissionv1.Create, Namespace: "ns", Name: tt.obj.GetName(), DryRun: ptr.To(tt.dryRun),
				Kind:   metav1.GroupVersionKind{Group: "keda.sh", Version: "v1alpha1", Kind: tt.obj.GetObjectKind().GroupVersionKind().Kind},
				Object: runtime.RawExtension{Raw: raw},
			}}
			resp := hs[tt.path].Handle(context.Background(), req)
			switch {
			case tt.refusal == "" && !resp.Allowed:
				t.Errorf("refused: %v", resp.Result)
			case tt.refusal != "" && (resp.Allowed || !strings.Contains(resp.Result.Message, tt.refusal)):
				t.Errorf("allowed %t (%v), want a refusal saying %q", resp.Allowed, resp.Result, tt.refusal)
			}
			if len(resp.Warnings) != len(tt.warnings) {
				t.Errorf("warnings %q, want %d", resp.Warnings, len(tt.warnings))
			}
			for i, w := range tt.warnings {
				if i < len(resp.Warnings) && !strings.Contains(resp.Warnings[i], w) {
					t.Errorf("warning %d is %q, want it to say %q", i, resp.Warnings[i], w)
				}
			}
			for i := 0; i < tt.events; i++ {
				if ev := <-recorder.Events; !strings.HasPrefix(ev, "Normal KEDAScalersInfo") {
					t.Errorf("event %q, want a Normal KEDAScalersInfo", ev)
				}
			}
			if n := len(recorder.Events); n > 0 {
				t.Errorf("%d events more than %d", n, tt.events)
				for len(recorder.Events) > 0 {
					<-recorder.Events
				}
			}
		})
	}
}

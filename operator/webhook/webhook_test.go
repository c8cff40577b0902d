package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	eventingv1alpha1 "github.com/kedactl/kedactl/api/eventing/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/ownership"
)

// countedValidations records what the webhook counts.
type countedValidations []string

func (c *countedValidations) Validated(namespace, action, refusal string) {
	*c = append(*c, namespace+" "+action+" "+refusal)
}

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
	hpaOn := func(name, target string, annotations map[string]string) *autoscalingv2.HorizontalPodAutoscaler {
		return &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Annotations: annotations},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 3, ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: target}}}
	}
	builder := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}},
		scaledObject("first", "web", nil),
		hpaOn("theirs", "fought", nil),
		hpaOn("lifted", "shared", map[string]string{kedav1alpha1.AnnotationValidationHPAOwnership: "false"}),
	)
	if err := ownership.IndexFields(context.Background(), builderIndexer{builder}); err != nil {
		t.Fatal(err)
	}
	c := builder.Build()
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(appsv1.SchemeGroupVersion.WithKind("Deployment"), meta.RESTScopeNamespace)
	recorder := events.NewFakeRecorder(10)
	counted := &countedValidations{}
	hs := handlers(&Validator{Client: c, Reader: c, Mapper: mapper, Recorder: recorder, Metrics: counted})

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
		counted  string // what keda_webhook_* count for a ScaledObject: "namespace action reason"
	}{
		{name: "target that does not exist yet", path: PathScaledObject, obj: scaledObject("later", "later", nil), counted: "ns create "},
		{name: "cpu trigger on a missing target", path: PathScaledObject, obj: scaledObject("cpu", "nowhere", cpu), refusal: "Target resource doesn't exist (Deployment ns/nowhere)", counted: "ns create scale-target-not-found"},
		{name: "kind the cluster lacks", path: PathScaledObject, obj: scaledObject("widget", "w", widget), refusal: "the cluster has no kind Widget in example.com/v1", counted: "ns create scale-target-not-found"},
		{name: "second ScaledObject on a target", path: PathScaledObject, obj: scaledObject("second", "web", nil), refusal: "already scaled by ScaledObject first", counted: "ns create other-scaled-object"},
		{name: "a foreign HPA scales the target", path: PathScaledObject, obj: scaledObject("fought", "fought", nil), refusal: "already scaled by HPA theirs", counted: "ns create other-hpa"},
		{name: "a foreign HPA that lifts the check itself", path: PathScaledObject, obj: scaledObject("shared", "shared", nil), counted: "ns create "},
		{name: "min above max", path: PathScaledObject, obj: scaledObject("minmax", "later", func(s *kedav1alpha1.ScaledObjectSpec) {
			s.MinReplicaCount, s.MaxReplicaCount = ptr.To[int32](5), ptr.To[int32](2)
		}),
			refusal: "spec.minReplicaCount", counted: "ns create incorrect-replicas"},
		{name: "name too long for the label", path: PathScaledObject, obj: scaledObject(strings.Repeat("n", 64), "later", nil), refusal: "scaledobject.keda.sh/name label", counted: "ns create name-too-long"},
		{name: "settings that do nothing", path: PathScaledObject, obj: scaledObject("warned", "later", irrelevant),
			warnings: []string{"spec.pollingInterval has no effect here", "spec.cooldownPeriod has no effect here"}, events: 1, counted: "ns create "},
		{name: "dry run records no event", path: PathScaledObject, obj: scaledObject("warned", "later", irrelevant), dryRun: true,
			warnings: []string{"spec.pollingInterval has no effect here", "spec.cooldownPeriod has no effect here"}, counted: "ns create "},
		{name: "refused with warnings", path: PathScaledObject, obj: scaledObject("both", "web", irrelevant), refusal: "already scaled by ScaledObject first",
			warnings: []string{"spec.pollingInterval has no effect here", "spec.cooldownPeriod has no effect here"}, events: 1, counted: "ns create other-scaled-object"},
		{name: "trigger metadata its scaler refuses", path: PathScaledObject, obj: scaledObject("unparsed", "later", func(s *kedav1alpha1.ScaledObjectSpec) {
			s.Triggers = []kedav1alpha1.ScaleTriggers{{Type: "redis", Metadata: map[string]string{"address": "redis:6379", "listName": "l", "listLength": "five"}}}
		}),
			warnings: []string{`spec.triggers[0].metadata.listLength "five" is not a valid integer`}, events: 1, counted: "ns create "},
		{name: "trigger type this operator lacks", path: PathScaledObject, obj: scaledObject("unknown", "later", func(s *kedav1alpha1.ScaledObjectSpec) {
			s.Triggers = []kedav1alpha1.ScaleTriggers{{Type: "predictkube", Metadata: map[string]string{"query": "q"}}}
		}),
			warnings: []string{`type "predictkube" is not a known scaler type`}, events: 1, counted: "ns create "},
		{name: "Utilization on a trigger the HPA reads as External", path: PathScaledObject, obj: scaledObject("utilization", "later", func(s *kedav1alpha1.ScaledObjectSpec) {
			s.Triggers = []kedav1alpha1.ScaleTriggers{{Type: "cron", MetricType: "Utilization", Metadata: cronTrigger.Metadata}}
		}),
			warnings: []string{"spec.triggers[0].metricType: Invalid value: \"Utilization\": Utilization applies to cpu and memory triggers only"}, events: 1, counted: "ns create "},
		{name: "ScaledJob min above max", path: PathScaledJob, obj: clamped, warnings: []string{"spec.minReplicaCount 5 is greater than maxReplicaCount 2"}, events: 1},
		{name: "CloudEventSource", path: PathCloudEventSource, obj: cloudEventSource(nil)},
		{name: "CloudEventSource with included and excluded types, as KEDA refuses", path: PathCloudEventSource, obj: cloudEventSource(func(s *eventingv1alpha1.CloudEventSourceSpec) {
			s.EventSubscription.IncludedEventTypes = []eventingv1alpha1.CloudEventType{eventingv1alpha1.ScaledObjectFailed}
			s.EventSubscription.ExcludedEventTypes = []eventingv1alpha1.CloudEventType{eventingv1alpha1.ScaledObjectFailed}
		}), refusal: "spec.eventSubscription.excludedEventTypes: Forbidden: setting included types and excluded types at the same time is not supported"},
		{name: "CloudEventSource with an unknown type", path: PathCloudEventSource, obj: cloudEventSource(func(s *eventingv1alpha1.CloudEventSourceSpec) {
			s.EventSubscription.IncludedEventTypes = []eventingv1alpha1.CloudEventType{"keda.scaledobject.failed.v2"}
		}), refusal: "spec.eventSubscription.includedEventTypes[0]: Unsupported value"},
		{name: "CloudEventSource without a destination", path: PathCloudEventSource, obj: cloudEventSource(func(s *eventingv1alpha1.CloudEventSourceSpec) {
			s.Destination = eventingv1alpha1.Destination{}
		}), warnings: []string{"spec.destination: Required value"}, events: 1},
		{name: "ClusterCloudEventSource with a namespaced authentication", path: PathClusterCloudEventSource, obj: &eventingv1alpha1.ClusterCloudEventSource{
			TypeMeta: metav1.TypeMeta{APIVersion: "eventing.keda.sh/v1alpha1", Kind: "ClusterCloudEventSource"}, ObjectMeta: metav1.ObjectMeta{Name: "all"},
			Spec: cloudEventSource(func(s *eventingv1alpha1.CloudEventSourceSpec) {
				s.AuthenticationRef = &kedav1alpha1.AuthenticationRef{Name: "receiver"}
			}).Spec,
		}, warnings: []string{"spec.authenticationRef.kind"}, events: 1},
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
			*counted = nil
			resp := hs[tt.path].Handle(context.Background(), req)
			if got := strings.Join(*counted, ","); tt.path == PathScaledObject && got != tt.counted {
				t.Errorf("counted %q, want %q", got, tt.counted)
			}
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
				if ev := <-recorder.Events; !strings.HasPrefix(ev, "Normal KEDAScalerInfo") {
					t.Errorf("event %q, want a Normal KEDAScalerInfo", ev)
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

func cloudEventSource(mutate func(*eventingv1alpha1.CloudEventSourceSpec)) *eventingv1alpha1.CloudEventSource {
	ces := &eventingv1alpha1.CloudEventSource{
		TypeMeta:   metav1.TypeMeta{APIVersion: "eventing.keda.sh/v1alpha1", Kind: "CloudEventSource"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "events"},
		Spec:       eventingv1alpha1.CloudEventSourceSpec{Destination: eventingv1alpha1.Destination{HTTP: &eventingv1alpha1.CloudEventHTTP{URI: "http://receiver.ns:8080/"}}},
	}
	if mutate != nil {
		mutate(&ces.Spec)
	}
	return ces
}

func TestRefusalReasons(t *testing.T) {
	spec := field.NewPath("spec")
	for _, tt := range []struct {
		err  error
		want string
	}{
		{field.Invalid(spec.Child("minReplicaCount"), 0, "a ScaledObject whose triggers are all cpu or memory cannot scale to zero: ..."), "scale-to-zero-requirements-not-met"},
		{field.Invalid(spec.Child("idleReplicaCount"), 1, "must be less than minReplicaCount (1)"), "incorrect-replicas"},
		{field.Invalid(spec.Child("fallback", "replicas"), -1, "must not be negative"), "incorrect-fallback"},
		{field.Invalid(spec.Child("triggers").Index(0).Child("metricType"), "Value", "fallback works only with ..."), "incorrect-fallback"},
		{field.Invalid(spec.Child("advanced", "scalingModifiers", "formula"), "q1", "names q1, which no trigger is called"), "scaling-modifiers"},
		{field.Invalid(spec.Child("advanced", "horizontalPodAutoscalerConfig", "name"), "X_Y", "is not a valid object name"), "hpa-name-too-long"},
		{field.Invalid(field.NewPath("metadata", "name"), "n", "the HPA's name keda-hpa-n would be 70 characters"), "hpa-name-too-long"},
		{field.Duplicate(spec.Child("triggers").Index(1).Child("name"), "q"), "incorrect-triggers"},
		{errors.New("trigger 0 (redis): spec.triggers[0].metadata.listLength \"five\" is not a valid integer"), "incorrect-triggers"},
	} {
		if got := specReason(tt.err); got != tt.want {
			t.Errorf("%v: reason %q, want %q", tt.err, got, tt.want)
		}
	}
	for _, tt := range []struct {
		err  *field.Error
		want string
	}{
		{field.Forbidden(spec.Child("scaleTargetRef"), "the workload apps/v1.Deployment web is already scaled by ScaledObject first: ..."), "other-scaled-object"},
		{field.Forbidden(spec.Child("scaleTargetRef"), "the workload apps/v1.Deployment web is already scaled by HPA theirs: ..."), "other-hpa"},
		{field.Forbidden(spec.Child("advanced", "horizontalPodAutoscalerConfig", "name"), "HPA ns/h already exists and is not owned by this ScaledObject"), "other-scaled-object-hpa"},
	} {
		if got := ownershipReason(tt.err); got != tt.want {
			t.Errorf("%v: reason %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestDecodeAsTheServerDoes: field names match case-sensitively and integers stay integers, as
// in the apiserver's serializer; no object is an error.
func TestDecodeAsTheServerDoes(t *testing.T) {
	so := &kedav1alpha1.ScaledObject{}
	raw := `{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"w"},"spec":{"MaxReplicaCount":9,"minReplicaCount":2,"scaleTargetRef":{"name":"w"}}}`
	if err := decode([]byte(raw), so); err != nil {
		t.Fatal(err)
	}
	if so.Name != "w" || so.Spec.MinReplicaCount == nil || *so.Spec.MinReplicaCount != 2 || so.Spec.MaxReplicaCount != nil || so.Kind != "ScaledObject" {
		t.Errorf("decoded %+v", so)
	}
	if err := decode(nil, &kedav1alpha1.ScaledObject{}); err == nil {
		t.Error("no error for a request without an object")
	}
	if err := decode([]byte(`{"spec":{"minReplicaCount":"two"}}`), &kedav1alpha1.ScaledObject{}); err == nil {
		t.Error("no error for a string where a number belongs")
	}
}

// Package webhook is the operator's validating admission webhook for the four keda.sh kinds and
// the two eventing.keda.sh kinds. It
// refuses what KEDA's webhook refuses, with the same validation the controller and `kubectl keda
// check` use (api/validation), plus the checks that need the cluster: the target's kind exists,
// nothing else scales the target (operator/ownership), and for cpu and memory triggers the target's
// containers request what the HPA measures. What KEDA admits but does nothing as written comes back
// as warnings. A target that does not exist yet is admitted, as KEDA admits it (GitOps tools apply
// in any order): the controller reports it until it appears.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/scale"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	sigsjson "sigs.k8s.io/json"

	eventingv1alpha1 "github.com/kedactl/kedactl/api/eventing/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/api/validation"
	"github.com/kedactl/kedactl/operator/ownership"
	scaletarget "github.com/kedactl/kedactl/operator/target"
	"github.com/kedactl/kedactl/scalers"
)

// Paths are KEDA's webhook paths, so that a ValidatingWebhookConfiguration written for KEDA works.
const (
	PathScaledObject                 = "/validate-keda-sh-v1alpha1-scaledobject"
	PathScaledJob                    = "/validate-keda-sh-v1alpha1-scaledjob"
	PathTriggerAuthentication        = "/validate-keda-sh-v1alpha1-triggerauthentication"
	PathClusterTriggerAuthentication = "/validate-keda-sh-v1alpha1-clustertriggerauthentication"
	PathCloudEventSource             = "/validate-eventing-keda-sh-v1alpha1-cloudeventsource"
	PathClusterCloudEventSource      = "/validate-eventing-keda-sh-v1alpha1-clustercloudeventsource"
)

// Validator holds what the cluster checks read.
type Validator struct {
	// Client lists ScaledObjects and HPAs (the manager's cache).
	Client client.Reader
	// Reader reads the scale target uncached, for its pod template (cpu and memory triggers only).
	Reader client.Reader
	Mapper meta.RESTMapper
	Scales scale.ScalesGetter
	// Recorder, when set, also records the warnings as a KEDAScalerInfo event on the object, as
	// KEDA does; never for a dry run.
	Recorder events.EventRecorder
	// Metrics, when set, counts ScaledObject validations and refusals by KEDA's reasons.
	Metrics ValidationMetrics
}

// ValidationMetrics counts ScaledObject validations (operator/observability.Metrics).
type ValidationMetrics interface {
	Validated(namespace, action, refusal string)
}

// Verdict is what admission says about an object: the reasons to refuse it, and warnings for an
// object admitted (or refused) as written.
type Verdict struct {
	Refusals []error
	Warnings []string
	// Reason classifies the refusals as KEDA's webhook metrics do (e.g. incorrect-replicas).
	Reason string
}

// ScaledObject returns the verdict on so; an error that is not the user's (the apiserver failing)
// comes back as the second value.
func (v *Validator) ScaledObject(ctx context.Context, so *kedav1alpha1.ScaledObject) (Verdict, error) {
	verdict := Verdict{Warnings: validation.ScaledObjectWarnings(so)}
	for _, err := range validation.ScaledObjectTriggers(scalers.CheckTrigger, so) {
		verdict.Warnings = append(verdict.Warnings, validation.AdmittedAnyway(err, "ScaledObject"))
	}
	if errs := validation.ScaledObjectSpec(so); len(errs) > 0 {
		verdict.Refusals, verdict.Reason = errs, specReason(errs[0])
		return verdict, nil
	}
	if _, err := scaletarget.Mapping(v.Mapper, so); err != nil {
		verdict.Reason = reasonScaleTarget
		return verdict, userError(&verdict, err)
	}
	conflict, err := ownership.Check(ctx, v.Client, so, ownership.Admission)
	if err != nil {
		return verdict, err
	}
	if conflict != nil {
		verdict.Refusals, verdict.Reason = []error{conflict}, ownershipReason(conflict)
	}
	if !validation.NeedsResourceRequests(so) {
		return verdict, nil
	}
	// What the HPA measures must be requested by the target's containers, so the target is read
	// (KEDA refuses a cpu or memory trigger on a target it cannot find, too). Its refusals join
	// an ownership conflict's: every reason comes back at once.
	target, err := scaletarget.Resolve(ctx, v.Reader, v.Mapper, v.Scales, so)
	if err != nil {
		if verdict.Reason == "" {
			verdict.Reason = reasonScaleTarget
		}
		return verdict, userError(&verdict, err)
	}
	errs, err := target.CheckResourceRequests(ctx, v.Reader, so)
	if len(errs) > 0 && verdict.Reason == "" {
		verdict.Reason = "missing-requests"
	}
	verdict.Refusals = append(verdict.Refusals, errs...)
	return verdict, err
}

// countedScaledObject is ScaledObject, counted in Metrics as KEDA's webhook counts it.
func (v *Validator) countedScaledObject(ctx context.Context, so *kedav1alpha1.ScaledObject) (Verdict, error) {
	verdict, err := v.ScaledObject(ctx, so)
	if v.Metrics != nil && err == nil {
		action := "create"
		if req, rerr := admission.RequestFromContext(ctx); rerr == nil && req.Operation == admissionv1.Update {
			action = "update"
		}
		reason := ""
		if len(verdict.Refusals) > 0 {
			reason = verdict.Reason
		}
		v.Metrics.Validated(so.Namespace, action, reason)
	}
	return verdict, err
}

// reasonScaleTarget is the refusal reason of a target kind the cluster lacks, or of a cpu or
// memory trigger's missing target (KEDA counts neither; the name is ours).
const reasonScaleTarget = "scale-target-not-found"

// specReason names an offline refusal by KEDA's reasons, from the field it is about.
func specReason(err error) string {
	var fe *field.Error
	if !errors.As(err, &fe) {
		return "incorrect-triggers" // a scaler's own metadata error, or an annotation's
	}
	switch f := fe.Field; {
	case f == "metadata.name" && strings.Contains(fe.Detail, "label"):
		return "name-too-long"
	case f == "metadata.name" || strings.HasPrefix(f, "spec.advanced.horizontalPodAutoscalerConfig.name"):
		return "hpa-name-too-long"
	case strings.Contains(fe.Detail, "cannot scale to zero"):
		return "scale-to-zero-requirements-not-met"
	case f == "spec.minReplicaCount" || f == "spec.maxReplicaCount" || f == "spec.idleReplicaCount":
		return "incorrect-replicas"
	case strings.HasPrefix(f, "spec.fallback") || strings.Contains(fe.Detail, "fallback"):
		return "incorrect-fallback"
	case strings.HasPrefix(f, "spec.advanced.scalingModifiers"):
		return "scaling-modifiers"
	}
	return "incorrect-triggers"
}

// ownershipReason names an ownership refusal by KEDA's reasons.
func ownershipReason(err *field.Error) string {
	switch {
	case strings.HasPrefix(err.Field, "spec.advanced.horizontalPodAutoscalerConfig"):
		return "other-scaled-object-hpa"
	case strings.Contains(err.Detail, "already scaled by ScaledObject"):
		return "other-scaled-object"
	}
	return "other-hpa"
}

// userError moves a target problem the user must fix into the verdict's refusals, and returns
// any other error.
func userError(verdict *Verdict, err error) error {
	var te *scaletarget.Error
	if errors.As(err, &te) {
		verdict.Refusals = append(verdict.Refusals, te)
		return nil
	}
	return err
}

// Register adds the handlers to the webhook server.
func Register(srv webhook.Server, v *Validator) {
	for path, h := range handlers(v) {
		srv.Register(path, &webhook.Admission{Handler: h})
	}
}

// handlers are the six kinds' admission handlers, by path.
func handlers(v *Validator) map[string]admission.Handler {
	return map[string]admission.Handler{
		PathScaledObject: handler(v.Recorder, func() *kedav1alpha1.ScaledObject { return &kedav1alpha1.ScaledObject{} },
			func(old, cur *kedav1alpha1.ScaledObject) bool {
				return apiequality.Semantic.DeepEqual(old.Spec, cur.Spec) && apiequality.Semantic.DeepEqual(old.Annotations, cur.Annotations)
			}, v.countedScaledObject),
		PathScaledJob: handler(v.Recorder, func() *kedav1alpha1.ScaledJob { return &kedav1alpha1.ScaledJob{} },
			func(old, cur *kedav1alpha1.ScaledJob) bool { return apiequality.Semantic.DeepEqual(old.Spec, cur.Spec) },
			func(_ context.Context, sj *kedav1alpha1.ScaledJob) (Verdict, error) {
				refusals, stricter := validation.ScaledJobAdmission(sj)
				verdict := Verdict{Refusals: refusals, Warnings: append(validation.ScaledJobWarnings(sj), stricter...)}
				for _, err := range validation.ScaledJobTriggers(scalers.CheckTrigger, sj) {
					verdict.Warnings = append(verdict.Warnings, validation.AdmittedAnyway(err, "ScaledJob"))
				}
				return verdict, nil
			}),
		PathTriggerAuthentication: handler(v.Recorder, func() *kedav1alpha1.TriggerAuthentication { return &kedav1alpha1.TriggerAuthentication{} },
			func(old, cur *kedav1alpha1.TriggerAuthentication) bool {
				return apiequality.Semantic.DeepEqual(old.Spec, cur.Spec)
			},
			func(_ context.Context, ta *kedav1alpha1.TriggerAuthentication) (Verdict, error) {
				refusals, warnings := validation.TriggerAuthenticationAdmission(&ta.Spec, false)
				return Verdict{Refusals: refusals, Warnings: warnings}, nil
			}),
		PathClusterTriggerAuthentication: handler(v.Recorder, func() *kedav1alpha1.ClusterTriggerAuthentication { return &kedav1alpha1.ClusterTriggerAuthentication{} },
			func(old, cur *kedav1alpha1.ClusterTriggerAuthentication) bool {
				return apiequality.Semantic.DeepEqual(old.Spec, cur.Spec)
			},
			func(_ context.Context, cta *kedav1alpha1.ClusterTriggerAuthentication) (Verdict, error) {
				refusals, warnings := validation.TriggerAuthenticationAdmission(&cta.Spec, true)
				return Verdict{Refusals: refusals, Warnings: warnings}, nil
			}),
		PathCloudEventSource: handler(v.Recorder, func() *eventingv1alpha1.CloudEventSource { return &eventingv1alpha1.CloudEventSource{} },
			func(old, cur *eventingv1alpha1.CloudEventSource) bool {
				return apiequality.Semantic.DeepEqual(old.Spec, cur.Spec)
			},
			func(_ context.Context, ces *eventingv1alpha1.CloudEventSource) (Verdict, error) {
				refusals, warnings := validation.CloudEventSourceAdmission(&ces.Spec, false)
				return Verdict{Refusals: refusals, Warnings: warnings}, nil
			}),
		PathClusterCloudEventSource: handler(v.Recorder, func() *eventingv1alpha1.ClusterCloudEventSource { return &eventingv1alpha1.ClusterCloudEventSource{} },
			func(old, cur *eventingv1alpha1.ClusterCloudEventSource) bool {
				return apiequality.Semantic.DeepEqual(old.Spec, cur.Spec)
			},
			func(_ context.Context, cces *eventingv1alpha1.ClusterCloudEventSource) (Verdict, error) {
				refusals, warnings := validation.CloudEventSourceAdmission(&cces.Spec, true)
				return Verdict{Refusals: refusals, Warnings: warnings}, nil
			}),
	}
}

// decode reads an admitted object as the apiserver's serializer would (case-sensitive field names,
// integers kept as integers), straight into its type: the kind is the one the handler was
// registered for, so the scheme's lookup of apiVersion and kind (a second decode of the whole
// document) has nothing to add. An empty object is an error, not a zero value.
func decode(raw []byte, into client.Object) error {
	if len(raw) == 0 {
		return errors.New("the request carries no object")
	}
	return sigsjson.UnmarshalCaseSensitivePreserveInts(raw, into)
}

// handler decodes the object of a CREATE or UPDATE and refuses it with every reason validate gives;
// warnings go with the answer either way. An UPDATE that leaves what is validated unchanged (the
// operator adding or removing its finalizer, labels, a deletion in progress) is always allowed: a
// target deleted after admission must never keep the object from being finalized.
func handler[T client.Object](recorder events.EventRecorder, newObj func() T, unchanged func(old, cur T) bool,
	validate func(context.Context, T) (Verdict, error)) admission.HandlerFunc {
	return func(ctx context.Context, req admission.Request) admission.Response {
		if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
			return admission.Allowed("")
		}
		obj := newObj()
		if err := decode(req.Object.Raw, obj); err != nil {
			return admission.Errored(http.StatusBadRequest, fmt.Errorf("failed to decode the %s: %w", req.Kind.Kind, err))
		}
		if req.Operation == admissionv1.Update {
			if !obj.GetDeletionTimestamp().IsZero() {
				return admission.Allowed("")
			}
			old := newObj()
			if err := decode(req.OldObject.Raw, old); err != nil {
				return admission.Errored(http.StatusBadRequest, fmt.Errorf("failed to decode the old %s: %w", req.Kind.Kind, err))
			}
			if unchanged(old, obj) {
				return admission.Allowed("")
			}
		}
		if obj.GetNamespace() == "" {
			obj.SetNamespace(req.Namespace)
		}
		verdict, err := validate(admission.NewContextWithRequest(ctx, req), obj)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, fmt.Errorf("failed to validate %s %s: %w", req.Kind.Kind, req.Name, err))
		}
		if recorder != nil && len(verdict.Warnings) > 0 && (req.DryRun == nil || !*req.DryRun) {
			// One event for all: events of one object, reason and action form one series, whose
			// note would keep only the last warning.
			recorder.Eventf(obj, nil, corev1.EventTypeNormal, kedav1alpha1.EventKEDAScalerInfo, "Admission", "%s", strings.Join(verdict.Warnings, "; "))
		}
		if len(verdict.Refusals) == 0 {
			return admission.Allowed("").WithWarnings(verdict.Warnings...)
		}
		msgs := make([]string, 0, len(verdict.Refusals))
		for _, e := range verdict.Refusals {
			msgs = append(msgs, e.Error())
		}
		return admission.Denied(strings.Join(msgs, "; ")).WithWarnings(verdict.Warnings...)
	}
}

// Package webhook is the operator's validating admission webhook for the four keda.sh kinds. It
// refuses what KEDA's webhook refuses, with the same validation the controller and `kubectl keda
// check` use (api/validation), plus the checks that need the cluster: the scale target exists and is
// scalable, and nothing else scales it (operator/ownership).
package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/scale"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/api/validation"
	"github.com/kedactl/kedactl/operator/ownership"
	scaletarget "github.com/kedactl/kedactl/operator/target"
)

// Paths are KEDA's webhook paths, so that a ValidatingWebhookConfiguration written for KEDA works.
const (
	PathScaledObject                 = "/validate-keda-sh-v1alpha1-scaledobject"
	PathScaledJob                    = "/validate-keda-sh-v1alpha1-scaledjob"
	PathTriggerAuthentication        = "/validate-keda-sh-v1alpha1-triggerauthentication"
	PathClusterTriggerAuthentication = "/validate-keda-sh-v1alpha1-clustertriggerauthentication"
)

// Validator holds what the cluster checks read.
type Validator struct {
	// Client lists ScaledObjects and HPAs (the manager's cache).
	Client client.Reader
	// Reader reads the scale target uncached.
	Reader client.Reader
	Mapper meta.RESTMapper
	Scales scale.ScalesGetter
}

// ScaledObject returns every reason to refuse so; an error that is not the user's (the apiserver
// failing) comes back as the second value.
func (v *Validator) ScaledObject(ctx context.Context, so *kedav1alpha1.ScaledObject) ([]error, error) {
	if errs := validation.ScaledObject(so); len(errs) > 0 {
		return errs, nil
	}
	target, err := scaletarget.Resolve(ctx, v.Reader, v.Mapper, v.Scales, so)
	if err != nil {
		var te *scaletarget.Error
		if errors.As(err, &te) {
			return []error{te}, nil
		}
		return nil, err
	}
	if errs, err := target.CheckResourceRequests(ctx, v.Reader, so); err != nil || len(errs) > 0 {
		return errs, err
	}
	conflict, err := ownership.Check(ctx, v.Client, so, ownership.Admission)
	if err != nil || conflict == nil {
		return nil, err
	}
	return []error{conflict}, nil
}

// Register adds the four handlers to the webhook server.
func Register(srv webhook.Server, scheme *runtime.Scheme, v *Validator) {
	dec := admission.NewDecoder(scheme)
	srv.Register(PathScaledObject, &webhook.Admission{Handler: handler(dec, func() *kedav1alpha1.ScaledObject { return &kedav1alpha1.ScaledObject{} },
		func(old, cur *kedav1alpha1.ScaledObject) bool {
			return apiequality.Semantic.DeepEqual(old.Spec, cur.Spec) && apiequality.Semantic.DeepEqual(old.Annotations, cur.Annotations)
		}, v.ScaledObject)})
	srv.Register(PathScaledJob, &webhook.Admission{Handler: handler(dec, func() *kedav1alpha1.ScaledJob { return &kedav1alpha1.ScaledJob{} },
		func(old, cur *kedav1alpha1.ScaledJob) bool { return apiequality.Semantic.DeepEqual(old.Spec, cur.Spec) },
		func(_ context.Context, sj *kedav1alpha1.ScaledJob) ([]error, error) {
			return validation.ScaledJob(sj), nil
		})})
	srv.Register(PathTriggerAuthentication, &webhook.Admission{Handler: handler(dec, func() *kedav1alpha1.TriggerAuthentication { return &kedav1alpha1.TriggerAuthentication{} },
		func(old, cur *kedav1alpha1.TriggerAuthentication) bool {
			return apiequality.Semantic.DeepEqual(old.Spec, cur.Spec)
		},
		func(_ context.Context, ta *kedav1alpha1.TriggerAuthentication) ([]error, error) {
			return validation.TriggerAuthentication(&ta.Spec, false), nil
		})})
	srv.Register(PathClusterTriggerAuthentication, &webhook.Admission{Handler: handler(dec, func() *kedav1alpha1.ClusterTriggerAuthentication { return &kedav1alpha1.ClusterTriggerAuthentication{} },
		func(old, cur *kedav1alpha1.ClusterTriggerAuthentication) bool {
			return apiequality.Semantic.DeepEqual(old.Spec, cur.Spec)
		},
		func(_ context.Context, cta *kedav1alpha1.ClusterTriggerAuthentication) ([]error, error) {
			return validation.TriggerAuthentication(&cta.Spec, true), nil
		})})
}

// handler decodes the object of a CREATE or UPDATE and refuses it with every reason validate gives.
// An UPDATE that leaves what is validated unchanged (the operator adding or removing its finalizer,
// labels, a deletion in progress) is always allowed: a target deleted after admission must never
// keep the object from being finalized.
func handler[T client.Object](dec admission.Decoder, newObj func() T, unchanged func(old, cur T) bool,
	validate func(context.Context, T) ([]error, error)) admission.HandlerFunc {
	return func(ctx context.Context, req admission.Request) admission.Response {
		if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
			return admission.Allowed("")
		}
		obj := newObj()
		if err := dec.Decode(req, obj); err != nil {
			return admission.Errored(http.StatusBadRequest, fmt.Errorf("failed to decode the %s: %w", req.Kind.Kind, err))
		}
		if req.Operation == admissionv1.Update {
			if !obj.GetDeletionTimestamp().IsZero() {
				return admission.Allowed("")
			}
			old := newObj()
			if err := dec.DecodeRaw(req.OldObject, old); err != nil {
				return admission.Errored(http.StatusBadRequest, fmt.Errorf("failed to decode the old %s: %w", req.Kind.Kind, err))
			}
			if unchanged(old, obj) {
				return admission.Allowed("")
			}
		}
		if obj.GetNamespace() == "" {
			obj.SetNamespace(req.Namespace)
		}
		errs, err := validate(ctx, obj)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, fmt.Errorf("failed to validate %s %s: %w", req.Kind.Kind, req.Name, err))
		}
		if len(errs) == 0 {
			return admission.Allowed("")
		}
		msgs := make([]string, 0, len(errs))
		for _, e := range errs {
			msgs = append(msgs, e.Error())
		}
		return admission.Denied(strings.Join(msgs, "; "))
	}
}

// Package ownership decides whether a ScaledObject may scale its target: one ScaledObject per target,
// and no HPA it does not own on the same target or under its HPA's name, unless the user transfers
// that HPA to it or lifts the check as KEDA documents. The admission webhook and the controller's
// Ready condition share it, so both refuse with the same field and the same fix.
package ownership

import (
	"context"
	"fmt"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// Target identifies a scale target independently of its API version.
type Target struct {
	Group, Kind, Name string
}

func (t Target) String() string {
	return schema.GroupKind{Group: t.Group, Kind: t.Kind}.String() + " " + t.Name
}

// TargetOf is the target spec.scaleTargetRef names, with KEDA's defaults (apps/v1 Deployment).
func TargetOf(so *kedav1alpha1.ScaledObject) Target {
	ref := so.Spec.ScaleTargetRef
	if ref == nil {
		return Target{}
	}
	return targetOf(ref.APIVersion, ref.Kind, ref.Name)
}

func targetOf(apiVersion, kind, name string) Target {
	if apiVersion == "" {
		apiVersion = "apps/v1"
	}
	if kind == "" {
		kind = "Deployment"
	}
	gv, _ := schema.ParseGroupVersion(apiVersion)
	return Target{Group: gv.Group, Kind: kind, Name: name}
}

// TargetIndex is the field index that keeps the checks from listing a whole namespace:
// ScaledObjects and HPAs by the target they scale.
const TargetIndex = "keda.sh/scale-target"

func (t Target) indexKey() string { return t.Group + "/" + t.Kind + "/" + t.Name }

// IndexFields registers TargetIndex with the manager's cache; Check needs them.
func IndexFields(ctx context.Context, indexer client.FieldIndexer) error {
	if err := indexer.IndexField(ctx, &kedav1alpha1.ScaledObject{}, TargetIndex, func(o client.Object) []string {
		so := o.(*kedav1alpha1.ScaledObject)
		if so.Spec.ScaleTargetRef == nil {
			return nil
		}
		return []string{TargetOf(so).indexKey()}
	}); err != nil {
		return fmt.Errorf("failed to index ScaledObjects by target: %w", err)
	}
	if err := indexer.IndexField(ctx, &autoscalingv2.HorizontalPodAutoscaler{}, TargetIndex, func(o client.Object) []string {
		ref := o.(*autoscalingv2.HorizontalPodAutoscaler).Spec.ScaleTargetRef
		return []string{targetOf(ref.APIVersion, ref.Kind, ref.Name).indexKey()}
	}); err != nil {
		return fmt.Errorf("failed to index HPAs by target: %w", err)
	}
	return nil
}

// Mode says which other ScaledObjects on the same target block this one.
type Mode int

const (
	// Admission refuses a ScaledObject when any other one scales the same target.
	Admission Mode = iota
	// Reconcile refuses it only when an older one does, so that of two objects admitted without the
	// webhook the first keeps scaling and the second is reported not Ready.
	Reconcile
)

// Check returns the first ownership conflict of so as a field error naming the fix, or nil. reader
// must be a cache with IndexFields' indexes. It only reads what it gets, so the cache hands over
// its own objects instead of copies (admission runs this on every apply).
func Check(ctx context.Context, reader client.Reader, so *kedav1alpha1.ScaledObject, mode Mode) (*field.Error, error) {
	if so.Spec.ScaleTargetRef == nil {
		return nil, nil
	}
	if ferr, err := otherScaledObject(ctx, reader, so, mode); ferr != nil || err != nil {
		return ferr, err
	}
	if ferr, err := namedHPA(ctx, reader, so); ferr != nil || err != nil {
		return ferr, err
	}
	return foreignHPA(ctx, reader, so)
}

func otherScaledObject(ctx context.Context, reader client.Reader, so *kedav1alpha1.ScaledObject, mode Mode) (*field.Error, error) {
	want := TargetOf(so)
	list := &kedav1alpha1.ScaledObjectList{}
	if err := reader.List(ctx, list, client.InNamespace(so.Namespace), client.MatchingFields{TargetIndex: want.indexKey()}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("failed to list the ScaledObjects of namespace %s scaling %s: %w", so.Namespace, want, err)
	}
	for i := range list.Items {
		other := &list.Items[i]
		if other.Name == so.Name || !other.DeletionTimestamp.IsZero() || TargetOf(other) != want {
			continue
		}
		if mode == Reconcile && !older(other, so) {
			continue
		}
		return field.Forbidden(field.NewPath("spec", "scaleTargetRef"), fmt.Sprintf(
			"the workload %s is already scaled by ScaledObject %s: one ScaledObject per target; delete one of them or point spec.scaleTargetRef elsewhere",
			want, other.Name)), nil
	}
	return nil, nil
}

// older reports whether a was created before b (by name when created in the same second).
func older(a, b *kedav1alpha1.ScaledObject) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// namedHPA refuses an existing HPA under the name the ScaledObject's HPA would take that it does not
// own and has not been told to adopt: applying ours would overwrite it.
func namedHPA(ctx context.Context, reader client.Reader, so *kedav1alpha1.ScaledObject) (*field.Error, error) {
	name := so.HPAName()
	existing := &autoscalingv2.HorizontalPodAutoscaler{}
	err := reader.Get(ctx, client.ObjectKey{Namespace: so.Namespace, Name: name}, existing, client.UnsafeDisableDeepCopy)
	if client.IgnoreNotFound(err) != nil {
		return nil, fmt.Errorf("failed to get HPA %s/%s: %w", so.Namespace, name, err)
	}
	if err != nil || ownedBy(existing, so) || so.Annotations[kedav1alpha1.AnnotationTransferHPAOwnership] == "true" {
		return nil, nil
	}
	return field.Forbidden(field.NewPath("spec", "advanced", "horizontalPodAutoscalerConfig", "name"), fmt.Sprintf(
		"HPA %s/%s already exists and is not owned by this ScaledObject: to adopt it, set annotation %s: \"true\" (kubectl keda transfer-hpa %s --hpa %s), or choose another advanced.horizontalPodAutoscalerConfig.name",
		so.Namespace, name, kedav1alpha1.AnnotationTransferHPAOwnership, so.Name, name)), nil
}

// foreignHPA refuses a target that an HPA the ScaledObject does not own already scales: two
// autoscalers would fight over its replicas. validations.keda.sh/hpa-ownership: "false" lifts the
// check, on the ScaledObject (as KEDA's docs put it) or on the HPA (where KEDA's webhook reads it).
func foreignHPA(ctx context.Context, reader client.Reader, so *kedav1alpha1.ScaledObject) (*field.Error, error) {
	if strings.EqualFold(so.Annotations[kedav1alpha1.AnnotationValidationHPAOwnership], "false") {
		return nil, nil
	}
	want := TargetOf(so)
	list := &autoscalingv2.HorizontalPodAutoscalerList{}
	if err := reader.List(ctx, list, client.InNamespace(so.Namespace), client.MatchingFields{TargetIndex: want.indexKey()}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("failed to list the HPAs of namespace %s scaling %s: %w", so.Namespace, want, err)
	}
	for i := range list.Items {
		h := &list.Items[i]
		ref := h.Spec.ScaleTargetRef
		if targetOf(ref.APIVersion, ref.Kind, ref.Name) != want || ownedBy(h, so) {
			continue
		}
		if strings.EqualFold(h.Annotations[kedav1alpha1.AnnotationValidationHPAOwnership], "false") {
			continue // the HPA itself lifts the check, where KEDA reads the annotation
		}
		if h.Name == so.HPAName() && so.Annotations[kedav1alpha1.AnnotationTransferHPAOwnership] == "true" {
			continue // being adopted
		}
		return field.Forbidden(field.NewPath("spec", "scaleTargetRef"), fmt.Sprintf(
			"the workload %s is already scaled by HPA %s: delete that HPA, adopt it (annotation %s: \"true\" with advanced.horizontalPodAutoscalerConfig.name: %s, or kubectl keda transfer-hpa %s --hpa %s), or lift this check with annotation %s: \"false\"",
			want, h.Name, kedav1alpha1.AnnotationTransferHPAOwnership, h.Name, so.Name, h.Name, kedav1alpha1.AnnotationValidationHPAOwnership)), nil
	}
	return nil, nil
}

// ownedBy reports whether so owns the HPA, by KEDA's rule: an owner reference of kind ScaledObject
// with its name. Not by UID: a ScaledObject deleted and created again under the same name (kubectl
// replace --force, a GitOps re-sync) meets its predecessor's HPA, in the cache or waiting for the
// garbage collector, and KEDA admits it.
func ownedBy(h *autoscalingv2.HorizontalPodAutoscaler, so *kedav1alpha1.ScaledObject) bool {
	for _, owner := range h.OwnerReferences {
		if owner.Kind == "ScaledObject" && owner.Name == so.Name {
			return true
		}
	}
	return false
}

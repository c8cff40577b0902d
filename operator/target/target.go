// Package target finds a ScaledObject's scale target through the RESTMapper and its /scale
// subresource, or the manager's cache for the kinds it holds. The controller and the admission
// webhook share it, so both name a missing or unscalable target with the same words.
package target

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/scale"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/api/validation"
)

// Resolved is a scale target found through the RESTMapper and its /scale subresource, or the
// manager's cache.
type Resolved struct {
	GVKR kedav1alpha1.GroupVersionKindResource
	// Replicas is the target's spec.replicas.
	Replicas int32
	// Object is the target itself; nil when the operator may only use its /scale (a kind not in
	// the chart's rbac.scaledRefKinds), or until PodSpec reads it (a target found in the cache).
	Object *unstructured.Unstructured
	// Scale is the target's /scale as read; nil for a target found in the cache.
	Scale *autoscalingv1.Scale
	// live reads Object on demand when the target came from the cache.
	live client.Reader
	name string
}

// Error is a target problem the user must fix; Reason goes into the Ready condition.
type Error struct {
	Reason string
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

// APIVersion is the target's group/version.
func (r *Resolved) APIVersion() string {
	return schema.GroupVersion{Group: r.GVKR.Group, Version: r.GVKR.Version}.String()
}

// KindString is status.scaleTargetKind as KEDA writes it, e.g. apps/v1.Deployment.
func (r *Resolved) KindString() string {
	return r.APIVersion() + "." + r.GVKR.Kind
}

// Resolve finds spec.scaleTargetRef (apps/v1 Deployment by default) and reads its /scale.
func Resolve(ctx context.Context, reader client.Reader, mapper meta.RESTMapper, scales scale.ScalesGetter, so *kedav1alpha1.ScaledObject) (*Resolved, error) {
	ref := so.Spec.ScaleTargetRef
	mapping, err := Mapping(mapper, so)
	if err != nil {
		return nil, err
	}
	kind := mapping.GroupVersionKind.Kind
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(mapping.GroupVersionKind)
	if err := reader.Get(ctx, client.ObjectKey{Namespace: so.Namespace, Name: ref.Name}, obj); apierrors.IsForbidden(err) {
		// The chart grants get on Deployments and StatefulSets, and on other kinds only when listed
		// in rbac.scaledRefKinds; /scale (granted on every kind) is all activation needs. Without
		// the object there is no pod template: no container env and no resource requests to read.
		obj = nil
	} else if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &Error{Reason: kedav1alpha1.ReasonScaleTargetNotFound, Msg: fmt.Sprintf("Target resource doesn't exist (%s %s/%s), so the ScaledObject doesn't have correct scaleTargetRef specification: create it or fix spec.scaleTargetRef", kind, so.Namespace, ref.Name)}
		}
		return nil, fmt.Errorf("failed to get scale target %s %s/%s: %w", kind, so.Namespace, ref.Name, err)
	}
	sc, err := scales.Scales(so.Namespace).Get(ctx, mapping.Resource.GroupResource(), ref.Name, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) && obj == nil {
			return nil, &Error{Reason: kedav1alpha1.ReasonScaleTargetNotFound, Msg: fmt.Sprintf("Target resource doesn't expose /scale subresource, or Target resource doesn't exist (%s %s/%s: the operator may not read this kind to tell which), so the ScaledObject doesn't have correct scaleTargetRef specification: create it, or point spec.scaleTargetRef at a scalable resource", kind, so.Namespace, ref.Name)}
		}
		if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
			return nil, &Error{Reason: kedav1alpha1.ReasonScaleTargetNotFound, Msg: fmt.Sprintf("Target resource doesn't expose /scale subresource (%s %s/%s), so the ScaledObject doesn't have correct scaleTargetRef specification: point spec.scaleTargetRef at a scalable resource", kind, so.Namespace, ref.Name)}
		}
		return nil, fmt.Errorf("failed to get /scale of %s %s/%s: %w", kind, so.Namespace, ref.Name, err)
	}
	return &Resolved{GVKR: gvkrOf(mapping), Replicas: sc.Spec.Replicas, Object: obj, Scale: sc, name: ref.Name}, nil
}

func gvkrOf(mapping *meta.RESTMapping) kedav1alpha1.GroupVersionKindResource {
	return kedav1alpha1.GroupVersionKindResource{
		Group:    mapping.GroupVersionKind.Group,
		Version:  mapping.GroupVersionKind.Version,
		Kind:     mapping.GroupVersionKind.Kind,
		Resource: mapping.Resource.Resource,
	}
}

// ResolveCached is Resolve for the reconciler: a Deployment or StatefulSet, the kinds the manager
// caches (their replicas only), is found in cached at no request; its pod template is read from
// live only when PodSpec asks (an env reference, a cpu or memory trigger). Other kinds go through
// Resolve with live. A reconcile of every object at start-up then costs the apiserver nothing:
// with a GET of the target and of its /scale each, 10,000 objects took 17 minutes at qps 20.
func ResolveCached(ctx context.Context, cached, live client.Reader, mapper meta.RESTMapper, scales scale.ScalesGetter, so *kedav1alpha1.ScaledObject) (*Resolved, error) {
	mapping, err := Mapping(mapper, so)
	if err != nil {
		return nil, err
	}
	var obj client.Object
	switch mapping.GroupVersionKind.GroupKind() {
	case schema.GroupKind{Group: "apps", Kind: "Deployment"}:
		obj = &appsv1.Deployment{}
	case schema.GroupKind{Group: "apps", Kind: "StatefulSet"}:
		obj = &appsv1.StatefulSet{}
	default:
		return Resolve(ctx, live, mapper, scales, so)
	}
	name := so.Spec.ScaleTargetRef.Name
	if err := cached.Get(ctx, client.ObjectKey{Namespace: so.Namespace, Name: name}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			// A target applied with its ScaledObject may not have reached the cache yet: the
			// apiserver says whether it exists.
			return Resolve(ctx, live, mapper, scales, so)
		}
		return nil, fmt.Errorf("failed to get scale target %s %s/%s from the cache: %w", mapping.GroupVersionKind.Kind, so.Namespace, name, err)
	}
	var replicas *int32
	switch o := obj.(type) {
	case *appsv1.Deployment:
		replicas = o.Spec.Replicas
	case *appsv1.StatefulSet:
		replicas = o.Spec.Replicas
	}
	r := &Resolved{GVKR: gvkrOf(mapping), Replicas: 1, live: live, name: name}
	if replicas != nil { // the apiserver defaults it to 1
		r.Replicas = *replicas
	}
	return r, nil
}

// Mapping maps spec.scaleTargetRef's apiVersion and kind (apps/v1 Deployment by default) to a
// resource of the cluster; a kind the cluster does not serve is an *Error.
func Mapping(mapper meta.RESTMapper, so *kedav1alpha1.ScaledObject) (*meta.RESTMapping, error) {
	var apiVersion, kind string
	if ref := so.Spec.ScaleTargetRef; ref != nil {
		apiVersion, kind = ref.APIVersion, ref.Kind
	}
	if apiVersion == "" {
		apiVersion = "apps/v1"
	}
	if kind == "" {
		kind = "Deployment"
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, &Error{Reason: kedav1alpha1.ReasonScaleTargetNotFound, Msg: fmt.Sprintf("spec.scaleTargetRef.apiVersion %q is not a valid group/version: %v", apiVersion, err)}
	}
	mapping, err := mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: kind}, gv.Version)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return nil, &Error{Reason: kedav1alpha1.ReasonScaleTargetNotFound, Msg: fmt.Sprintf("spec.scaleTargetRef: the cluster has no kind %s in %s: fix apiVersion/kind", kind, apiVersion)}
		}
		return nil, fmt.Errorf("failed to map %s %s: %w", apiVersion, kind, err)
	}
	return mapping, nil
}

// PodSpec returns the pod template of the target (spec.template.spec), or nil when the target
// has none (a /scale resource that is not a workload). A target found in the cache is read now.
func (r *Resolved) PodSpec(ctx context.Context, namespace string) (*corev1.PodSpec, error) {
	if r.Object == nil && r.live != nil {
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(schema.GroupVersionKind{Group: r.GVKR.Group, Version: r.GVKR.Version, Kind: r.GVKR.Kind})
		if err := r.live.Get(ctx, client.ObjectKey{Namespace: namespace, Name: r.name}, obj); err != nil {
			return nil, fmt.Errorf("failed to get the pod template of %s %s/%s: %w", r.GVKR.Kind, namespace, r.name, err)
		}
		r.Object, r.live = obj, nil
	}
	if r.Object == nil {
		return nil, nil
	}
	raw, found, err := unstructured.NestedMap(r.Object.Object, "spec", "template", "spec")
	if err != nil || !found {
		return nil, nil //nolint:nilerr // no template: no env to read
	}
	spec := &corev1.PodSpec{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, spec); err != nil {
		return nil, fmt.Errorf("failed to read the pod template of %s %s: %w", r.GVKR.Kind, r.Object.GetName(), err)
	}
	return spec, nil
}

// CheckResourceRequests reads what validation.ResourceRequests needs from the cluster (the pod
// template, the namespace's LimitRanges) and runs it. The webhook and the controller both call it,
// so that an object admitted before its target changed is not Ready while the HPA cannot measure
// it. The returned errors are the user's to fix; the error is the cluster's.
func (r *Resolved) CheckResourceRequests(ctx context.Context, reader client.Reader, so *kedav1alpha1.ScaledObject) ([]error, error) {
	if !validation.NeedsResourceRequests(so) {
		return nil, nil
	}
	podSpec, err := r.PodSpec(ctx, so.Namespace)
	if err != nil || podSpec == nil {
		return nil, err
	}
	limitRanges := &corev1.LimitRangeList{}
	if err := reader.List(ctx, limitRanges, client.InNamespace(so.Namespace)); err != nil {
		return nil, fmt.Errorf("failed to list the LimitRanges of namespace %s: %w", so.Namespace, err)
	}
	return validation.ResourceRequests(so, r.GVKR.Kind, podSpec, limitRanges.Items), nil
}

package controller

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/observability"
)

// authRefIndex indexes ScaledObjects and ScaledJobs by the authentications their triggers refer
// to (see authRefKey), so that the objects using one are found without listing them all.
const authRefIndex = "keda.sh/authentication-ref"

// authRefKey names one (Cluster)TriggerAuthentication; namespace is empty for the cluster kind.
func authRefKey(kind, namespace, name string) string {
	return kind + "/" + namespace + "/" + name
}

// authRefKeys are the authentications a ScaledObject's or ScaledJob's triggers refer to.
func authRefKeys(namespace string, triggers []kedav1alpha1.ScaleTriggers) []string {
	var keys []string
	for _, t := range triggers {
		ref := t.AuthenticationRef
		if ref == nil {
			continue
		}
		ns := namespace
		if ref.TriggerAuthKind() == kedav1alpha1.KindClusterTriggerAuthentication {
			ns = ""
		}
		if k := authRefKey(ref.TriggerAuthKind(), ns, ref.Name); !contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// IndexAuthReferences registers authRefIndex on ScaledObjects and ScaledJobs.
func IndexAuthReferences(ctx context.Context, indexer client.FieldIndexer) error {
	if err := indexer.IndexField(ctx, &kedav1alpha1.ScaledObject{}, authRefIndex, func(o client.Object) []string {
		so := o.(*kedav1alpha1.ScaledObject)
		return authRefKeys(so.Namespace, so.Spec.Triggers)
	}); err != nil {
		return fmt.Errorf("failed to index ScaledObjects by authentication: %w", err)
	}
	if err := indexer.IndexField(ctx, &kedav1alpha1.ScaledJob{}, authRefIndex, func(o client.Object) []string {
		sj := o.(*kedav1alpha1.ScaledJob)
		return authRefKeys(sj.Namespace, sj.Spec.Triggers)
	}); err != nil {
		return fmt.Errorf("failed to index ScaledJobs by authentication: %w", err)
	}
	return nil
}

// AuthReferenceReconciler keeps status.scaledobjects and status.scaledjobs of every
// TriggerAuthentication and ClusterTriggerAuthentication listing the objects whose triggers refer to
// it, as KEDA lists them: names, comma separated, each once (sorted here). It
// recomputes the lists from the objects that exist, so an edited trigger or a deleted object drops
// out without a finalizer.
type AuthReferenceReconciler struct {
	Client client.Client
	// Metrics counts the authentications in keda_resource_registered_total; nil disables it.
	Metrics *observability.Metrics
	// Recorder records KEDA's Added and Updated events on authentications; nil disables them.
	Recorder events.EventRecorder

	mu sync.Mutex
	// generations is the generation each authentication had when last reconciled, by kind/key.
	generations map[string]int64
}

// SetupWithManager watches both authentication kinds, and ScaledObjects and ScaledJobs mapped to
// the authentications they refer to (before and after an edit: both are reconciled). It needs
// authRefIndex (IndexAuthReferences).
func (r *AuthReferenceReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("authentication-references").
		For(&kedav1alpha1.TriggerAuthentication{}).
		Watches(&kedav1alpha1.ClusterTriggerAuthentication{}, &handler.EnqueueRequestForObject{}).
		Watches(&kedav1alpha1.ScaledObject{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			so := o.(*kedav1alpha1.ScaledObject)
			return authRequests(authRefKeys(so.Namespace, so.Spec.Triggers))
		})).
		Watches(&kedav1alpha1.ScaledJob{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			sj := o.(*kedav1alpha1.ScaledJob)
			return authRequests(authRefKeys(sj.Namespace, sj.Spec.Triggers))
		})).
		Complete(r)
}

// authRequests turns authentication keys into requests: a request with no namespace is a
// ClusterTriggerAuthentication (a TriggerAuthentication always has one).
func authRequests(keys []string) []reconcile.Request {
	out := make([]reconcile.Request, 0, len(keys))
	for _, k := range keys {
		_, rest, _ := strings.Cut(k, "/")
		ns, name, _ := strings.Cut(rest, "/")
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}})
	}
	return out
}

// Reconcile recomputes one authentication's back-references.
func (r *AuthReferenceReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var obj client.Object
	var status *kedav1alpha1.TriggerAuthenticationStatus
	kind := kedav1alpha1.KindTriggerAuthentication
	if req.Namespace == "" {
		cta := &kedav1alpha1.ClusterTriggerAuthentication{}
		obj, status, kind = cta, &cta.Status, kedav1alpha1.KindClusterTriggerAuthentication
	} else {
		ta := &kedav1alpha1.TriggerAuthentication{}
		obj, status = ta, &ta.Status
	}
	resource := observability.ResourceTriggerAuthentication
	if kind == kedav1alpha1.KindClusterTriggerAuthentication {
		resource = observability.ResourceClusterTriggerAuthentication
	}
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			r.forgetGeneration(kind, req.String())
			if r.Metrics != nil {
				r.Metrics.Gone(resource, req.NamespacedName)
			}
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.GetDeletionTimestamp().IsZero() {
		return reconcile.Result{}, r.finalize(ctx, obj, kind, resource, req)
	}
	// KEDA puts its finalizer on authentications too, so that their deletion is recorded (an
	// event, the registered count) before they go.
	if !controllerutil.ContainsFinalizer(obj, kedav1alpha1.FinalizerName) {
		if err := r.patchFinalizers(ctx, obj, append(obj.GetFinalizers(), kedav1alpha1.FinalizerName)); err != nil {
			return reconcile.Result{}, fmt.Errorf("failed to add the finalizer to %s %s: %w", kind, req, err)
		}
	}
	if r.Metrics != nil {
		r.Metrics.Handled(resource, req.NamespacedName, nil)
	}
	if r.Recorder != nil {
		if reason, msg := r.generationEvent(kind, req.String(), obj.GetName(), obj.GetGeneration()); reason != "" {
			r.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, reason, "Reconcile", "%s", msg)
		}
	}
	key := client.MatchingFields{authRefIndex: authRefKey(kind, req.Namespace, req.Name)}
	sos := &kedav1alpha1.ScaledObjectList{}
	if err := r.Client.List(ctx, sos, key); err != nil {
		return reconcile.Result{}, fmt.Errorf("failed to list the ScaledObjects using %s %s: %w", kind, req, err)
	}
	sjs := &kedav1alpha1.ScaledJobList{}
	if err := r.Client.List(ctx, sjs, key); err != nil {
		return reconcile.Result{}, fmt.Errorf("failed to list the ScaledJobs using %s %s: %w", kind, req, err)
	}
	soNames, sjNames := referrers(sos.Items, sjs.Items)
	if status.ScaledObjectNamesStr == soNames && status.ScaledJobNamesStr == sjNames {
		return reconcile.Result{}, nil
	}
	status.ScaledObjectNamesStr, status.ScaledJobNamesStr = soNames, sjNames
	if err := r.Client.Status().Update(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
		// A conflict means the object changed meanwhile; the retry reads it again.
		return reconcile.Result{}, fmt.Errorf("failed to update the status of %s %s: %w", kind, req, err)
	}
	return reconcile.Result{}, nil
}

// finalize records an authentication's deletion as KEDA does (the Deleted event, the count) and
// removes the finalizer.
func (r *AuthReferenceReconciler) finalize(ctx context.Context, obj client.Object, kind, resource string, req reconcile.Request) error {
	if controllerutil.ContainsFinalizer(obj, kedav1alpha1.FinalizerName) {
		kept := slices.DeleteFunc(slices.Clone(obj.GetFinalizers()), func(f string) bool { return f == kedav1alpha1.FinalizerName })
		if err := r.patchFinalizers(ctx, obj, kept); err != nil {
			return fmt.Errorf("failed to remove the finalizer of %s %s: %w", kind, req, client.IgnoreNotFound(err))
		}
	}
	r.forgetGeneration(kind, req.String())
	if r.Metrics != nil {
		r.Metrics.Gone(resource, req.NamespacedName)
	}
	if r.Recorder != nil {
		reason := kedav1alpha1.EventTriggerAuthenticationDeleted
		if kind == kedav1alpha1.KindClusterTriggerAuthentication {
			reason = kedav1alpha1.EventClusterTriggerAuthenticationDeleted
		}
		r.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, reason, "Finalize", "%s was deleted", kind)
	}
	return nil
}

// patchFinalizers sets the object's finalizers with a merge patch that fails if the object changed
// meanwhile (its resourceVersion), so no other writer's finalizer is lost.
func (r *AuthReferenceReconciler) patchFinalizers(ctx context.Context, obj client.Object, finalizers []string) error {
	patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
	obj.SetFinalizers(finalizers)
	return r.Client.Patch(ctx, obj, patch)
}

// referrers lists the objects (already selected as referring to one authentication) the way KEDA
// writes them in its status: their names, each once, also for the cluster kind (objects of two
// namespaces with one name are one entry, as in KEDA); objects being deleted are left out.
func referrers(sos []kedav1alpha1.ScaledObject, sjs []kedav1alpha1.ScaledJob) (soNames, sjNames string) {
	var a, b []string
	for i := range sos {
		if sos[i].DeletionTimestamp == nil {
			a = append(a, sos[i].Name)
		}
	}
	for i := range sjs {
		if sjs[i].DeletionTimestamp == nil {
			b = append(b, sjs[i].Name)
		}
	}
	a, b = distinct(a), distinct(b)
	sort.Strings(a)
	sort.Strings(b)
	return strings.Join(a, ","), strings.Join(b, ",")
}

// generationEvent is the event KEDA records when it reconciles an authentication: Added for a new
// one (generation 1 when first seen), Updated when its spec changed since the last reconcile
// (or first seen at a later generation, as after a restart); none when only its users changed.
func (r *AuthReferenceReconciler) generationEvent(kind, key, name string, generation int64) (reason, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.generations == nil {
		r.generations = map[string]int64{}
	}
	previous, seen := r.generations[kind+"/"+key]
	r.generations[kind+"/"+key] = generation
	return authEvent(kind, name, seen, previous, generation)
}

func (r *AuthReferenceReconciler) forgetGeneration(kind, key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.generations, kind+"/"+key)
}

// authEvent decides generationEvent's event from what was seen before.
func authEvent(kind, name string, seen bool, previous, generation int64) (reason, msg string) {
	cluster := kind == kedav1alpha1.KindClusterTriggerAuthentication
	switch {
	// The messages are KEDA's words, which alerts and dashboards may match on: "New <kind>
	// configured", and for an update of either kind "ClusterTriggerAuthentication <name> is updated"
	// under the cluster kind's reason (KEDA words both kinds' updates so).
	case !seen && generation <= 1:
		if cluster {
			return kedav1alpha1.EventClusterTriggerAuthenticationAdded, "New ClusterTriggerAuthentication configured"
		}
		return kedav1alpha1.EventTriggerAuthenticationAdded, "New TriggerAuthentication configured"
	case !seen || generation != previous:
		return kedav1alpha1.EventClusterTriggerAuthenticationUpdated, fmt.Sprintf("ClusterTriggerAuthentication %s is updated", name)
	}
	return "", ""
}

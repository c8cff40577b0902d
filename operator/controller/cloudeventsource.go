package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"

	eventingv1alpha1 "github.com/kedactl/kedactl/api/eventing/v1alpha1"
	"github.com/kedactl/kedactl/operator/cloudevents"
	"github.com/kedactl/kedactl/operator/observability"
	"github.com/kedactl/kedactl/operator/resolve"
)

// cloudEventSourceRetry is how soon a source whose authentication could not be resolved is tried
// again: its Secrets are read uncached and not watched, so nothing else would bring it back.
const cloudEventSourceRetry = 30 * time.Second

// CloudEventSourceReconciler registers each CloudEventSource and ClusterCloudEventSource with the
// dispatcher (destination, resolved credentials, subscription, cluster name) and keeps its Active
// condition. A request without a namespace is a ClusterCloudEventSource. No finalizer is needed:
// everything a source holds is in this process, and a deleted source is unregistered when its
// deletion is seen.
type CloudEventSourceReconciler struct {
	Client     client.Client
	Resolver   *resolve.Resolver
	Dispatcher *cloudevents.Dispatcher
	// ClusterName is --k8s-cluster-name, for sources without spec.clusterName.
	ClusterName string
	Metrics     *observability.Metrics

	mu sync.Mutex
	// registered is the generation each registered source was registered at: a reconcile that
	// sees the same generation again (a status write, a resync) leaves it alone, so neither its
	// queue nor a failed condition the dispatcher wrote is reset.
	registered map[cloudevents.Key]int64
}

// SetupWithManager watches both kinds.
func (r *CloudEventSourceReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("cloudeventsources").
		For(&eventingv1alpha1.CloudEventSource{}).
		Watches(&eventingv1alpha1.ClusterCloudEventSource{}, &handler.EnqueueRequestForObject{}).
		Complete(r)
}

// newSourceObject is the object a key names.
func newSourceObject(key cloudevents.Key) interface {
	client.Object
	eventingv1alpha1.Source
} {
	if key.Cluster() {
		return &eventingv1alpha1.ClusterCloudEventSource{}
	}
	return &eventingv1alpha1.CloudEventSource{}
}

// Reconcile registers, re-registers or unregisters one source.
func (r *CloudEventSourceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	key := cloudevents.Key{Namespace: req.Namespace, Name: req.Name}
	obj := newSourceObject(key)
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			r.unregister(key)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("failed to get %s: %w", key, err)
	}
	if !obj.GetDeletionTimestamp().IsZero() {
		r.unregister(key)
		return ctrl.Result{}, nil
	}
	if r.Metrics != nil {
		r.Metrics.Handled(observability.ResourceCloudEventSource, req.NamespacedName, nil)
	}
	if r.isRegistered(key, obj.GetGeneration()) {
		return ctrl.Result{}, nil
	}
	cfg, err := r.config(ctx, obj)
	if err != nil {
		// Nothing is delivered for a source that cannot be set up; the condition says why.
		r.unregister(key)
		log.FromContext(ctx).Info("CloudEventSource not active", "source", key.String(), "reason", err.Error())
		if serr := r.setActive(ctx, key, false, err.Error()); serr != nil {
			return ctrl.Result{}, serr
		}
		return ctrl.Result{RequeueAfter: cloudEventSourceRetry}, nil
	}
	r.Dispatcher.Set(key, cfg)
	r.mu.Lock()
	if r.registered == nil {
		r.registered = map[cloudevents.Key]int64{}
	}
	r.registered[key] = obj.GetGeneration()
	r.mu.Unlock()
	return ctrl.Result{}, r.setActive(ctx, key, true, "")
}

// config validates a source and builds its delivery: the errors name the field or parameter.
func (r *CloudEventSourceReconciler) config(ctx context.Context, obj eventingv1alpha1.Source) (cloudevents.Config, error) {
	spec := obj.SourceSpec()
	clusterScoped := obj.GetNamespace() == ""
	if errs := eventingv1alpha1.ValidateSpec(spec, clusterScoped); len(errs) > 0 {
		return cloudevents.Config{}, errs.ToAggregate()
	}
	params, err := r.Resolver.AuthParams(ctx, obj.GetNamespace(), spec.AuthenticationRef, func(string) (map[string]string, error) {
		return nil, errors.New("a CloudEventSource has no scale target to read env from: use secretTargetRef")
	})
	if err != nil {
		return cloudevents.Config{}, err
	}
	sink, err := cloudevents.NewSink(spec.Destination, params)
	if err != nil {
		return cloudevents.Config{}, err
	}
	cluster := spec.ClusterName
	if cluster == "" {
		cluster = r.ClusterName
	}
	if cluster == "" {
		cluster = cloudevents.DefaultClusterName
	}
	return cloudevents.Config{Sink: sink, Subscription: spec.EventSubscription, ClusterName: cluster}, nil
}

func (r *CloudEventSourceReconciler) isRegistered(key cloudevents.Key, generation int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	g, ok := r.registered[key]
	return ok && g == generation && r.Dispatcher.Has(key)
}

func (r *CloudEventSourceReconciler) unregister(key cloudevents.Key) {
	r.Dispatcher.Remove(key)
	r.mu.Lock()
	delete(r.registered, key)
	r.mu.Unlock()
	if r.Metrics != nil {
		r.Metrics.Gone(observability.ResourceCloudEventSource, types.NamespacedName{Namespace: key.Namespace, Name: key.Name})
	}
}

// DeliveryState is the dispatcher's OnState: it writes the Active condition a delivery outcome
// calls for.
func (r *CloudEventSourceReconciler) DeliveryState(key cloudevents.Key, active bool, why string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.setActive(ctx, key, active, why); err != nil && !apierrors.IsNotFound(err) {
		ctrl.Log.WithName("cloudevents").Error(err, "failed to write the Active condition", "source", key.String())
	}
}

// setActive writes the Active condition, only when it changes.
func (r *CloudEventSourceReconciler) setActive(ctx context.Context, key cloudevents.Key, active bool, why string) error {
	cond := eventingv1alpha1.ActiveCondition(active, why)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj := newSourceObject(key)
		if err := r.Client.Get(ctx, types.NamespacedName{Namespace: key.Namespace, Name: key.Name}, obj); err != nil {
			return err
		}
		if !obj.SourceStatus().Conditions.Set(cond) {
			return nil
		}
		if err := r.Client.Status().Update(ctx, obj); err != nil {
			return fmt.Errorf("failed to update the status of %s: %w", key, err)
		}
		return nil
	})
}

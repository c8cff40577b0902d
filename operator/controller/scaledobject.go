// Package controller holds the reconcilers. They stay thin: fetch, call a pure decision
// (operator/hpa, operator/scaling), apply, write status.
package controller

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/scale"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/internal/modifiers"
	"github.com/kedactl/kedactl/operator/engine"
	"github.com/kedactl/kedactl/operator/history"
	"github.com/kedactl/kedactl/operator/hpa"
	"github.com/kedactl/kedactl/operator/observability"
	"github.com/kedactl/kedactl/operator/ownership"
	"github.com/kedactl/kedactl/operator/resolve"
	"github.com/kedactl/kedactl/operator/status"
	scaletarget "github.com/kedactl/kedactl/operator/target"
	"github.com/kedactl/kedactl/scalers"
)

// FieldOwner is the server-side apply field manager of the objects the operator writes.
const FieldOwner = "keda-operator"

// Registry is the part of the engine the controller uses.
type Registry interface {
	Register(ctx context.Context, key engine.Key, reg engine.Registration) []engine.TriggerInfo
	Unregister(ctx context.Context, key engine.Key) (registered bool)
}

// Activator is told about objects whose activation should be evaluated now.
type Activator interface {
	Enqueue(key types.NamespacedName)
	Forget(key types.NamespacedName)
	// Report is what activation would write into the object's status from its triggers' samples
	// now (false while it has none to write), for the reconciler to write with Ready.
	Report(so *kedav1alpha1.ScaledObject) (func(*kedav1alpha1.ScaledObjectStatus), bool)
}

// ScaledObjectReconciler keeps a ScaledObject's HPA, trigger registration and readiness in line
// with its spec.
type ScaledObjectReconciler struct {
	Client    client.Client
	Reader    client.Reader
	Mapper    meta.RESTMapper
	Scales    scale.ScalesGetter
	Engine    Registry
	Activator Activator
	Recorder  events.EventRecorder
	// History receives pauses, resumes, scaler errors and spec changes; nil records none.
	History *history.Store
	// Resolver reads the target's env and the triggers' authentications.
	Resolver *resolve.Resolver
	// Metrics records pause state and deletions for Prometheus; nil disables it.
	Metrics *observability.Metrics
	// Pods lists the pods the kubernetes-workload trigger counts (the manager's cached client).
	Pods scalers.PodLister
	Tuning
	// AuthResyncObjectsPerSecond caps how many objects a second re-read their authentications
	// when there are so many that AuthResync would exceed it; zero means no cap.
	AuthResyncObjectsPerSecond float64
	// Sharding splits the ScaledObjects among the replicas; the zero value handles them all.
	Sharding Sharding

	// authUsers are the objects whose triggers use an authentication, for nextAuthResync.
	authUsers seenObjects
	// hpas skips HPA applies that would change nothing.
	hpas hpaApplies
	// announced keeps a readiness change from being announced twice.
	announced announced
}

// SetupWithManager registers the reconciler: it watches ScaledObjects (spec, labels and
// annotations) and the specs of the HPAs they own. It needs authRefIndex (IndexAuthReferences) and
// the ownership indexes (ownership.IndexFields).
func (r *ScaledObjectReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.Tuning.setDefaults()
	b := ctrl.NewControllerManagedBy(mgr).Named("scaledobject")
	return r.Sharding.apply(b, crcontroller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		For(&kedav1alpha1.ScaledObject{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}, builder.WithPredicates(ownedHPAChanges())).
		Watches(&kedav1alpha1.TriggerAuthentication{}, handler.EnqueueRequestsFromMapFunc(r.usersOf(kedav1alpha1.KindTriggerAuthentication))).
		Watches(&kedav1alpha1.ClusterTriggerAuthentication{}, handler.EnqueueRequestsFromMapFunc(r.usersOf(kedav1alpha1.KindClusterTriggerAuthentication))).
		Complete(r)
}

// ownedHPAChanges passes the events of an owned HPA that need a reconcile: a change to its spec
// (someone edited it) and its deletion. Its status changes every sync, and its creation is the
// reconcile's own doing: passing creations would reconcile every new ScaledObject twice, which at
// a take-over of thousands is thousands of reads of their targets.
func ownedHPAChanges() predicate.Predicate {
	return predicate.And(predicate.GenerationChangedPredicate{}, predicate.Funcs{
		CreateFunc: func(event.CreateEvent) bool { return false },
	})
}

// usersOf maps a (Cluster)TriggerAuthentication to the ScaledObjects whose triggers refer to it.
func (r *ScaledObjectReconciler) usersOf(kind string) handler.MapFunc {
	return authUsers(r.Client, kind, func() *kedav1alpha1.ScaledObjectList { return &kedav1alpha1.ScaledObjectList{} },
		func(l *kedav1alpha1.ScaledObjectList, add func(client.Object)) {
			for i := range l.Items {
				add(&l.Items[i])
			}
		})
}

// usesAuthentication reports whether any trigger refers to an authentication.
func usesAuthentication(triggers []kedav1alpha1.ScaleTriggers) bool {
	for _, t := range triggers {
		if t.AuthenticationRef != nil {
			return true
		}
	}
	return false
}

// Reconcile brings one ScaledObject in line with its spec.
func (r *ScaledObjectReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	if !r.Sharding.owns(engine.ScaledObjectKey(req.NamespacedName)) {
		// Another replica owns it: stop polling it here if this one did.
		if r.stop(ctx, req.NamespacedName) {
			log.Info("ScaledObject moved to another replica")
		}
		r.forget(req.NamespacedName)
		if r.Metrics != nil {
			r.Metrics.Gone(observability.ResourceScaledObject, req.NamespacedName)
		}
		return ctrl.Result{}, nil
	}
	so := &kedav1alpha1.ScaledObject{}
	if err := r.Client.Get(ctx, req.NamespacedName, so); err != nil {
		if client.IgnoreNotFound(err) == nil {
			r.stop(ctx, req.NamespacedName)
			r.forget(req.NamespacedName)
			if r.Metrics != nil {
				r.Metrics.Gone(observability.ResourceScaledObject, req.NamespacedName)
			}
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("failed to get ScaledObject %s: %w", req.NamespacedName, err)
	}
	if r.Metrics != nil {
		r.Metrics.Handled(observability.ResourceScaledObject, req.NamespacedName, triggerTypeList(so.Spec.Triggers))
	}
	if !so.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, log, so)
	}
	r.History.ObserveGeneration(history.ScaledObjectKey(req.NamespacedName), so.Generation)
	// The finalizer, and KEDA's scaledobject.keda.sh/name label on the object itself, in one write.
	if !controllerutil.ContainsFinalizer(so, kedav1alpha1.FinalizerName) || so.Labels[kedav1alpha1.LabelScaledObjectName] != so.Name {
		patch := client.MergeFrom(so.DeepCopy())
		controllerutil.AddFinalizer(so, kedav1alpha1.FinalizerName)
		if so.Labels == nil {
			so.Labels = map[string]string{}
		}
		so.Labels[kedav1alpha1.LabelScaledObjectName] = so.Name
		if err := r.Client.Patch(ctx, so, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("failed to add the finalizer and the %s label to ScaledObject %s: %w", kedav1alpha1.LabelScaledObjectName, req.NamespacedName, err)
		}
	}

	if errs := so.ValidateSpec(); len(errs) > 0 {
		return r.notReady(ctx, log, so, kedav1alpha1.ReasonScaledObjectCheckFailed, errs.ToAggregate().Error())
	}
	target, err := scaletarget.ResolveCached(ctx, r.Client, r.Reader, r.Mapper, r.Scales, so)
	if err != nil {
		var te *scaletarget.Error
		if errors.As(err, &te) {
			return r.notReady(ctx, log, so, te.Reason, te.Msg)
		}
		return ctrl.Result{}, err
	}
	pause, err := so.Pause()
	if err != nil {
		return r.notReady(ctx, log, so, kedav1alpha1.ReasonScaledObjectCheckFailed, err.Error())
	}
	if r.Metrics != nil {
		r.Metrics.Paused(req.NamespacedName, pause.Paused)
	}
	if pause.Paused {
		return ctrl.Result{}, r.pause(ctx, log, so, target, pause)
	}
	if so.Status.Conditions.IsTrue(kedav1alpha1.ConditionPaused) {
		r.Recorder.Eventf(so, nil, corev1.EventTypeNormal, kedav1alpha1.EventScaledObjectUnpaused, "Reconcile", "ScaledObject was unpaused")
		r.History.Decide(history.ScaledObjectKey(req.NamespacedName), historyv1alpha1.Decision{Type: historyv1alpha1.DecisionResumed, Message: "autoscaling resumed"})
		log.Info("ScaledObject unpaused")
	}

	if errs, err := target.CheckResourceRequests(ctx, r.Reader, so); err != nil {
		return ctrl.Result{}, err
	} else if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return r.notReady(ctx, log, so, kedav1alpha1.ReasonScaledObjectCheckFailed, strings.Join(msgs, "; "))
	}
	configs, err := r.scalerConfigs(ctx, so, target)
	if err != nil {
		r.Recorder.Eventf(so, nil, corev1.EventTypeWarning, kedav1alpha1.EventKEDAScalerFailed, "Reconcile", "%s", err.Error())
		r.History.Decide(history.ScaledObjectKey(req.NamespacedName), historyv1alpha1.Decision{Type: historyv1alpha1.DecisionScalerError, Message: err.Error()})
		if isTransient(err) {
			// A Secret read or a Vault login that failed in passing: retry with back-off and keep
			// polling with what the triggers had, samples and failure counts included.
			return ctrl.Result{}, fmt.Errorf("failed to resolve the triggers of ScaledObject %s (retrying): %w", req.NamespacedName, err)
		}
		return r.notReady(ctx, log, so, kedav1alpha1.ReasonTriggerError, err.Error())
	}
	cached := make([]bool, len(so.Spec.Triggers))
	for i, t := range so.Spec.Triggers {
		cached[i] = t.UseCachedMetrics
	}
	infos := r.Engine.Register(ctx, engine.ScaledObjectKey(req.NamespacedName), engine.Registration{
		PollingInterval: time.Duration(so.Spec.PollingIntervalSeconds()) * time.Second,
		Triggers:        configs,
		CachedMetrics:   cached,
	})
	reg := outcomeOf(infos)
	metricSpecs := reg.metricSpecs
	if reg.errs != "" {
		r.Recorder.Eventf(so, nil, corev1.EventTypeWarning, kedav1alpha1.EventKEDAScalerFailed, "Reconcile", "%s", reg.errs)
		r.History.Decide(history.ScaledObjectKey(req.NamespacedName), historyv1alpha1.Decision{Type: historyv1alpha1.DecisionScalerError, Message: reg.errs})
		if reg.allTransient && so.Status.Conditions.IsTrue(kedav1alpha1.ConditionReady) {
			// The source did not answer while its scaler was built: the other triggers keep
			// polling and the HPA stays as it is until the build succeeds on a retry.
			return ctrl.Result{}, fmt.Errorf("failed to build the scalers of ScaledObject %s (retrying): %s", req.NamespacedName, reg.errs)
		}
		return r.notReady(ctx, log, so, kedav1alpha1.ReasonTriggerError, reg.errs)
	}

	// scalingModifiers replace the triggers' metrics in the HPA with their composite.
	composite, errs := modifiers.Compile(&so.Spec)
	if len(errs) > 0 {
		return r.notReady(ctx, log, so, kedav1alpha1.ReasonScaledObjectCheckFailed, errs.ToAggregate().Error())
	}
	// Status lists the triggers' own metrics even when the HPA gets their composite, as KEDA's
	// does (kubectl keda reads each trigger's value by these names).
	triggerSpecs := metricSpecs
	compositeName := ""
	if composite != nil {
		metricSpecs, compositeName = withComposite(metricSpecs, composite.MetricSpec()), modifiers.MetricName
	}
	desired := hpa.Build(so, hpa.Target{APIVersion: target.APIVersion(), Kind: target.GVKR.Kind, Name: so.Spec.ScaleTargetRef.Name}, metricSpecs)
	if conflict, err := ownership.Check(ctx, r.Client, so, ownership.Reconcile); err != nil {
		return ctrl.Result{}, err
	} else if conflict != nil {
		return r.notReady(ctx, log, so, kedav1alpha1.ReasonScaledObjectCheckFailed, conflict.Error())
	}
	if err := r.applyHPA(ctx, req.NamespacedName, desired); err != nil {
		r.Recorder.Eventf(so, nil, corev1.EventTypeWarning, kedav1alpha1.EventScaledObjectCheckFailed, "Reconcile", "Failed to apply HPA %s: %v", desired.Name, err)
		return r.notReady(ctx, log, so, kedav1alpha1.ReasonHPAUpdateFailed, fmt.Sprintf("failed to apply HPA %s: %v", desired.Name, err))
	}

	if err := r.deleteStaleHPA(ctx, so, desired.Name); err != nil {
		return ctrl.Result{}, err
	}

	wasReady := so.Status.Conditions.IsTrue(kedav1alpha1.ConditionReady)
	// The first poll is usually in by now: its activity goes in this write rather than a second.
	report, reported := r.Activator.Report(so)
	err = r.updateStatus(ctx, so, func(s *kedav1alpha1.ScaledObjectStatus) {
		s.Conditions.Set(kedav1alpha1.Condition{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: kedav1alpha1.ReasonScaledObjectReady, Message: "ScaledObject is defined correctly and is ready for scaling"})
		ensureCondition(s, kedav1alpha1.ConditionActive)
		ensureCondition(s, kedav1alpha1.ConditionFallback)
		s.Conditions.Set(kedav1alpha1.Condition{Type: kedav1alpha1.ConditionPaused, Status: metav1.ConditionFalse,
			Reason: kedav1alpha1.ReasonScaledObjectUnpaused, Message: "ScaledObject is not paused"})
		s.PausedReplicaCount = nil
		s.ScaleTargetKind = target.KindString()
		s.ScaleTargetGVKR = ptr.To(target.GVKR)
		if s.OriginalReplicaCount == nil {
			s.OriginalReplicaCount = ptr.To(target.Replicas)
		}
		s.HpaName = desired.Name
		s.ExternalMetricNames = externalMetricNames(triggerSpecs)
		s.CompositeScalerName = compositeName
		s.ResourceMetricNames = resourceMetricNames(triggerSpecs)
		s.TriggersTypes = ptr.To(triggerTypes(so.Spec.Triggers))
		s.AuthenticationsTypes = authenticationTypes(so.Spec.Triggers)
		if reported {
			report(s)
		}
	})
	if err != nil {
		return ctrl.Result{}, err
	}
	if !wasReady && r.announced.announce(req.NamespacedName, announcedReady) {
		log.Info("ScaledObject ready", "hpa", desired.Name, "target", target.KindString()+" "+so.Spec.ScaleTargetRef.Name, "metrics", strings.Join(so.Status.ExternalMetricNames, ","))
		scalersStarted(r.Recorder, so, so.Spec.Triggers)
		r.Recorder.Eventf(so, nil, corev1.EventTypeNormal, kedav1alpha1.EventScaledObjectReady, "Reconcile", "ScaledObject is ready for scaling")
	}
	r.Activator.Enqueue(req.NamespacedName)
	if r.authUsers.set(req.NamespacedName, usesAuthentication(so.Spec.Triggers)); usesAuthentication(so.Spec.Triggers) {
		return ctrl.Result{RequeueAfter: r.nextAuthResync()}, nil
	}
	return ctrl.Result{}, nil
}

// pause stops autoscaling: no polling, no HPA, the target held at its current replicas or at
// paused-replicas.
func (r *ScaledObjectReconciler) pause(ctx context.Context, log logr.Logger, so *kedav1alpha1.ScaledObject, target *scaletarget.Resolved, p kedav1alpha1.PauseState) error {
	key := client.ObjectKeyFromObject(so)
	if r.stop(ctx, key) {
		scalersStopped(r.Recorder, so)
	}
	hpaObj := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: so.Namespace, Name: so.HPAName()}}
	if err := r.Client.Delete(ctx, hpaObj); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("failed to delete HPA %s/%s while pausing: %w", so.Namespace, hpaObj.Name, err)
	}
	if p.Replicas != nil && target.Replicas != *p.Replicas {
		gr := schema.GroupResource{Group: target.GVKR.Group, Resource: target.GVKR.Resource}
		sc := target.Scale
		if sc == nil { // found in the cache: /scale is read only now that it is written
			var err error
			if sc, err = r.Scales.Scales(so.Namespace).Get(ctx, gr, so.Spec.ScaleTargetRef.Name, metav1.GetOptions{}); err != nil {
				return fmt.Errorf("failed to get /scale of %s %s/%s to scale it to paused-replicas: %w", target.GVKR.Kind, so.Namespace, so.Spec.ScaleTargetRef.Name, err)
			}
		}
		sc = sc.DeepCopy()
		from := sc.Spec.Replicas
		sc.Spec.Replicas = *p.Replicas
		if _, err := r.Scales.Scales(so.Namespace).Update(ctx, gr, sc, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("failed to scale %s %s/%s to paused-replicas %d: %w", target.GVKR.Kind, so.Namespace, so.Spec.ScaleTargetRef.Name, *p.Replicas, err)
		}
		log.Info("scaled target to paused-replicas", "from", from, "to", *p.Replicas)
	}
	wasPaused := so.Status.Conditions.IsTrue(kedav1alpha1.ConditionPaused)
	err := r.updateStatus(ctx, so, func(s *kedav1alpha1.ScaledObjectStatus) {
		msg := "pausing the ScaledObject"
		if p.Replicas != nil {
			msg = fmt.Sprintf("pausing the ScaledObject at %d replicas", *p.Replicas)
		}
		s.Conditions.Set(kedav1alpha1.Condition{Type: kedav1alpha1.ConditionPaused, Status: metav1.ConditionTrue, Reason: kedav1alpha1.ReasonScaledObjectPaused, Message: msg})
		s.Conditions.Set(kedav1alpha1.Condition{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: kedav1alpha1.ReasonScaledObjectReady, Message: "ScaledObject is defined correctly and is ready for scaling"})
		ensureCondition(s, kedav1alpha1.ConditionActive)
		ensureCondition(s, kedav1alpha1.ConditionFallback)
		s.PausedReplicaCount = p.Replicas
		s.ScaleTargetKind = target.KindString()
		s.ScaleTargetGVKR = ptr.To(target.GVKR)
		if s.OriginalReplicaCount == nil {
			s.OriginalReplicaCount = ptr.To(target.Replicas)
		}
		s.TriggersTypes = ptr.To(triggerTypes(so.Spec.Triggers))
		s.AuthenticationsTypes = authenticationTypes(so.Spec.Triggers)
	})
	if err != nil {
		return err
	}
	if !wasPaused {
		log.Info("ScaledObject paused", "pausedReplicas", p.Replicas)
		r.Recorder.Eventf(so, nil, corev1.EventTypeNormal, kedav1alpha1.EventScaledObjectPaused, "Reconcile", "ScaledObject was paused")
		d := historyv1alpha1.Decision{Type: historyv1alpha1.DecisionPaused, Message: "autoscaling paused"}
		if p.Replicas != nil {
			d.ToReplicas, d.Message = ptr.To(*p.Replicas), fmt.Sprintf("autoscaling paused at %d replicas", *p.Replicas)
		}
		r.History.Decide(history.ScaledObjectKey(key), d)
	}
	return nil
}

// scalerConfigs resolves each trigger into the config its scaler is built from: the target's
// container env and the trigger's authentication. Errors name objects and keys, never values.
func (r *ScaledObjectReconciler) scalerConfigs(ctx context.Context, so *kedav1alpha1.ScaledObject, target *scaletarget.Resolved) ([]scalers.Config, error) {
	return triggerConfigs(ctx, r.Resolver, triggerOwner{
		Kind: "ScaledObject", Namespace: so.Namespace, Name: so.Name, Triggers: so.Spec.Triggers,
		PodSpec:                func(ctx context.Context) (*corev1.PodSpec, error) { return target.PodSpec(ctx, so.Namespace) },
		EnvSourceContainerName: so.Spec.ScaleTargetRef.EnvSourceContainerName,
		AsMetricSource:         so.Spec.UsesScalingModifiers(),
	}, r.ScalerTimeout, r.Pods)
}

// triggerOwner is what resolving triggers needs to know of the ScaledObject or ScaledJob that has
// them.
type triggerOwner struct {
	Kind, Namespace, Name string
	Triggers              []kedav1alpha1.ScaleTriggers
	// PodSpec reads the pod template whose containers' env the triggers may read; called only
	// when one does (a ...FromEnv parameter, an authentication's env).
	PodSpec                func(ctx context.Context) (*corev1.PodSpec, error)
	EnvSourceContainerName string
	// AsMetricSource: see scalers.Config; only a ScaledObject's triggers under scalingModifiers.
	AsMetricSource bool
}

// triggerConfigs resolves each of owner's triggers into the config its scaler is built from: the
// container env of its pod template and the trigger's authentication. Errors name objects and keys,
// never values.
func triggerConfigs(ctx context.Context, resolver *resolve.Resolver, owner triggerOwner, timeout time.Duration, pods scalers.PodLister) ([]scalers.Config, error) {
	envCache := map[string]map[string]string{}
	envOf := func(container string) (map[string]string, error) {
		if container == "" {
			container = owner.EnvSourceContainerName
		}
		if env, ok := envCache[container]; ok {
			return env, nil
		}
		podSpec, err := owner.PodSpec(ctx)
		if err != nil {
			return nil, err
		}
		env, err := resolver.Env(ctx, owner.Namespace, podSpec, container)
		if err != nil {
			return nil, err
		}
		envCache[container] = env
		return env, nil
	}
	var env map[string]string
	if readsEnv(owner.Triggers) {
		var err error
		if env, err = envOf(""); err != nil {
			return nil, err
		}
	}
	configs := make([]scalers.Config, len(owner.Triggers))
	for i, t := range owner.Triggers {
		auth, err := resolver.AuthParams(ctx, owner.Namespace, t.AuthenticationRef, envOf)
		if err != nil {
			return nil, fmt.Errorf("trigger %d (%s): %w", i, t.Type, err)
		}
		configs[i] = scalers.Config{
			ScalableObjectName:      owner.Name,
			ScalableObjectNamespace: owner.Namespace,
			ScalableObjectType:      owner.Kind,
			TriggerIndex:            i,
			TriggerName:             t.Name,
			TriggerType:             t.Type,
			TriggerMetadata:         t.Metadata,
			AuthParams:              auth,
			ResolvedEnv:             env,
			MetricType:              t.MetricType,
			Timeout:                 timeout,
			Pods:                    pods,
			AsMetricSource:          owner.AsMetricSource,
		}
	}
	return configs, nil
}

// readsEnv reports whether a trigger takes a parameter from the target's container env: KEDA's
// ...FromEnv keys are the only way metadata names it.
func readsEnv(triggers []kedav1alpha1.ScaleTriggers) bool {
	for _, t := range triggers {
		for k := range t.Metadata {
			if strings.HasSuffix(k, "FromEnv") {
				return true
			}
		}
	}
	return false
}

// deleteStaleHPA deletes the HPA this ScaledObject controlled before under another name than keep
// (after horizontalPodAutoscalerConfig.name changed, or an HPA was adopted), so that no HPA is left
// scaling the same target. status.hpaName names it, as in KEDA: it is written only after the new
// HPA is applied and the old one deleted, so a failure in between leaves the old name there for the
// next reconcile. (An index of HPAs by their controller would find it too, at the cost of a set per HPA
// in the cache's index, once for its namespace and once for all: megabytes at 10,000.)
func (r *ScaledObjectReconciler) deleteStaleHPA(ctx context.Context, so *kedav1alpha1.ScaledObject, keep string) error {
	old := so.Status.HpaName
	if old == "" || old == keep {
		return nil
	}
	h := &autoscalingv2.HorizontalPodAutoscaler{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: so.Namespace, Name: old}, h); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("failed to read the previous HPA %s/%s from the cache: %w", so.Namespace, old, err)
	}
	if owner := metav1.GetControllerOf(h); owner == nil || owner.UID != so.UID {
		return nil // no longer ours: adopted away or replaced by someone else's
	}
	if err := r.Client.Delete(ctx, h); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("failed to delete the previous HPA %s/%s: %w", so.Namespace, old, err)
	}
	return nil
}

// applyHPA creates or updates the HPA with server-side apply: an unchanged HPA costs no write.
func (r *ScaledObjectReconciler) applyHPA(ctx context.Context, owner types.NamespacedName, desired *autoscalingv2.HorizontalPodAutoscaler) error {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(desired)
	if err != nil {
		return fmt.Errorf("failed to convert HPA %s/%s: %w", desired.Namespace, desired.Name, err)
	}
	delete(u, "status")
	md, _ := u["metadata"].(map[string]any)
	if md != nil {
		delete(md, "creationTimestamp")
	}
	digest, err := digestOf(u)
	if err != nil {
		return fmt.Errorf("failed to encode HPA %s/%s: %w", desired.Namespace, desired.Name, err)
	}
	if md != nil {
		// The digest of the rest goes on the HPA, for an operator that starts again (upToDate).
		annotations, _ := md["annotations"].(map[string]any)
		if annotations == nil {
			annotations = map[string]any{}
		}
		annotations[kedav1alpha1.AnnotationHPAAppliedDigest] = hex.EncodeToString(digest[:])
		md["annotations"] = annotations
	}
	current := &autoscalingv2.HorizontalPodAutoscaler{}
	if err := r.Client.Get(ctx, client.ObjectKeyFromObject(desired), current); err != nil {
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("failed to read HPA %s/%s from the cache: %w", desired.Namespace, desired.Name, err)
		}
		current = nil
	}
	if r.hpas.upToDate(owner, digest, current) || r.hpas.appliedBefore(owner, digest, desired, current) {
		return nil
	}
	applied := &unstructured.Unstructured{Object: u}
	if err := r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(applied), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		r.hpas.forget(owner)
		return err
	}
	r.hpas.record(owner, appliedHPA{digest: digest, uid: applied.GetUID(), generation: applied.GetGeneration()})
	return nil
}

// notReady records why the object cannot scale, stops its triggers and looks again later.
func (r *ScaledObjectReconciler) notReady(ctx context.Context, log logr.Logger, so *kedav1alpha1.ScaledObject, reason, msg string) (ctrl.Result, error) {
	key := client.ObjectKeyFromObject(so)
	r.Engine.Unregister(ctx, engine.ScaledObjectKey(key))
	prev := so.Status.Conditions.Get(kedav1alpha1.ConditionReady)
	changed := (prev == nil || prev.Status != metav1.ConditionFalse || prev.Message != msg) &&
		r.announced.announce(key, announcedNotReady(msg))
	err := r.updateStatus(ctx, so, func(s *kedav1alpha1.ScaledObjectStatus) {
		s.Conditions.Set(kedav1alpha1.Condition{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: reason, Message: msg})
		ensureCondition(s, kedav1alpha1.ConditionActive)
		ensureCondition(s, kedav1alpha1.ConditionFallback)
		ensureCondition(s, kedav1alpha1.ConditionPaused)
		s.TriggersTypes = ptr.To(triggerTypes(so.Spec.Triggers))
		s.AuthenticationsTypes = authenticationTypes(so.Spec.Triggers)
	})
	if changed {
		log.Info("ScaledObject not ready", "reason", reason, "message", msg)
		r.Recorder.Eventf(so, nil, corev1.EventTypeWarning, kedav1alpha1.EventScaledObjectCheckFailed, "Reconcile", "%s", msg)
	}
	return ctrl.Result{RequeueAfter: r.RetryAfter}, err
}

// finalize stops the triggers, restores the original replica count if asked, and lets the object go.
func (r *ScaledObjectReconciler) finalize(ctx context.Context, log logr.Logger, so *kedav1alpha1.ScaledObject) error {
	if !controllerutil.ContainsFinalizer(so, kedav1alpha1.FinalizerName) {
		return nil
	}
	key := client.ObjectKeyFromObject(so)
	if r.stop(ctx, key) {
		scalersStopped(r.Recorder, so)
	}
	if a := so.Spec.Advanced; a != nil && a.RestoreToOriginalReplicaCount && so.Status.OriginalReplicaCount != nil && so.Status.ScaleTargetGVKR != nil {
		if err := r.restore(ctx, so); err != nil {
			log.Error(err, "failed to restore the original replica count")
		}
	}
	r.Recorder.Eventf(so, nil, corev1.EventTypeNormal, kedav1alpha1.EventScaledObjectDeleted, "Delete", "ScaledObject was deleted")
	patch := client.MergeFrom(so.DeepCopy())
	controllerutil.RemoveFinalizer(so, kedav1alpha1.FinalizerName)
	if err := r.Client.Patch(ctx, so, patch); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("failed to remove finalizer from ScaledObject %s: %w", key, err)
	}
	log.Info("ScaledObject deleted")
	return nil
}

// restore sets the target back to status.originalReplicaCount. The target's controller writes its
// status all the while (and activation may have just scaled it), so an update that meets a newer
// version reads /scale again and retries rather than leaving the target where it was.
func (r *ScaledObjectReconciler) restore(ctx context.Context, so *kedav1alpha1.ScaledObject) error {
	g := so.Status.ScaleTargetGVKR
	gr := schema.GroupResource{Group: g.Group, Resource: g.Resource}
	name, want := so.Spec.ScaleTargetRef.Name, *so.Status.OriginalReplicaCount
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sc, err := r.Scales.Scales(so.Namespace).Get(ctx, gr, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("failed to get /scale of %s/%s: %w", so.Namespace, name, err)
		}
		sc.Spec.Replicas = want
		if _, err := r.Scales.Scales(so.Namespace).Update(ctx, gr, sc, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("failed to restore %s/%s to %d replicas: %w", so.Namespace, name, want, err)
		}
		return nil
	})
}

// stop stops key's triggers and activation; it reports whether its triggers were being polled.
func (r *ScaledObjectReconciler) stop(ctx context.Context, key types.NamespacedName) bool {
	defer r.Activator.Forget(key)
	return r.Engine.Unregister(ctx, engine.ScaledObjectKey(key))
}

// seenObjects counts the objects of each namespace the reconciler has seen.
type seenObjects struct {
	mu   sync.Mutex
	keys map[types.NamespacedName]struct{}
	per  map[string]int
}

// total is how many objects exist.
func (s *seenObjects) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

// set records whether key exists and returns how many objects its namespace has.
func (s *seenObjects) set(key types.NamespacedName, exists bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys, s.per = map[types.NamespacedName]struct{}{}, map[string]int{}
	}
	_, had := s.keys[key]
	switch {
	case exists && !had:
		s.keys[key] = struct{}{}
		s.per[key.Namespace]++
	case !exists && had:
		delete(s.keys, key)
		if s.per[key.Namespace]--; s.per[key.Namespace] == 0 {
			delete(s.per, key.Namespace)
			return 0
		}
	}
	return s.per[key.Namespace]
}

// forget drops a deleted object's metric series.
func (r *ScaledObjectReconciler) forget(key types.NamespacedName) {
	r.History.Forget(history.ScaledObjectKey(key))
	r.hpas.forget(key)
	r.announced.forget(key)
	r.authUsers.set(key, false)
	if r.Metrics != nil {
		r.Metrics.Forget(key, observability.TypeScaledObject)
	}
}

// ensureCondition adds a condition of type t with status Unknown when there is none, as KEDA
// initialises all four conditions.
func ensureCondition(s *kedav1alpha1.ScaledObjectStatus, t kedav1alpha1.ConditionType) {
	if s.Conditions.Get(t) == nil {
		s.Conditions.Set(kedav1alpha1.Condition{Type: t, Status: metav1.ConditionUnknown, Reason: kedav1alpha1.ReasonUnknown})
	}
}

// withComposite is the HPA's metrics under scalingModifiers: the composite replaces the triggers'
// External metrics; cpu and memory (Resource metrics) stay beside it, as in KEDA.
func withComposite(triggers []autoscalingv2.MetricSpec, composite autoscalingv2.MetricSpec) []autoscalingv2.MetricSpec {
	out := []autoscalingv2.MetricSpec{composite}
	for _, s := range triggers {
		if s.External == nil {
			out = append(out, s)
		}
	}
	return out
}

func externalMetricNames(specs []autoscalingv2.MetricSpec) []string {
	var names []string
	for _, s := range specs {
		if s.External != nil {
			names = append(names, s.External.Metric.Name)
		}
	}
	return names
}

func resourceMetricNames(specs []autoscalingv2.MetricSpec) []string {
	var names []string
	for _, s := range specs {
		switch {
		case s.Resource != nil:
			names = append(names, string(s.Resource.Name))
		case s.ContainerResource != nil:
			names = append(names, string(s.ContainerResource.Name))
		}
	}
	return names
}

// triggerTypes is status.triggersTypes: the distinct trigger types, comma separated.
func triggerTypes(triggers []kedav1alpha1.ScaleTriggers) string {
	return joinDistinct(triggerTypeList(triggers))
}

// triggerTypeList is each trigger's type, in order.
func triggerTypeList(triggers []kedav1alpha1.ScaleTriggers) []string {
	types := make([]string, 0, len(triggers))
	for _, t := range triggers {
		types = append(types, t.Type)
	}
	return types
}

// authenticationTypes is status.authenticationsTypes: the distinct authentication refs.
func authenticationTypes(triggers []kedav1alpha1.ScaleTriggers) string {
	var names []string
	for _, t := range triggers {
		if t.AuthenticationRef != nil {
			names = append(names, t.AuthenticationRef.Name)
		}
	}
	return joinDistinct(names)
}

func joinDistinct(list []string) string {
	return strings.Join(distinct(list), ",")
}

// distinct is list without empty strings and repeats, in first-seen order.
func distinct(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// updateStatus writes so's status (status.Update) and, when that fails, records KEDA's
// ScaledObjectUpdateFailed event with the reason.
func (r *ScaledObjectReconciler) updateStatus(ctx context.Context, so *kedav1alpha1.ScaledObject, mutate func(*kedav1alpha1.ScaledObjectStatus)) error {
	err := status.Update(ctx, r.Client, r.Reader, so, mutate)
	if err != nil {
		r.Recorder.Eventf(so, nil, corev1.EventTypeWarning, kedav1alpha1.EventScaledObjectUpdateFailed, "Reconcile", "%s", err.Error())
	}
	return err
}

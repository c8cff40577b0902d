package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/engine"
	"github.com/kedactl/kedactl/operator/history"
	"github.com/kedactl/kedactl/operator/observability"
	"github.com/kedactl/kedactl/operator/resolve"
	"github.com/kedactl/kedactl/operator/scaledjob"
	"github.com/kedactl/kedactl/operator/status"
	"github.com/kedactl/kedactl/scalers"
)

// JobRunner runs the scaling loop of registered ScaledJobs.
type JobRunner interface {
	Enqueue(key types.NamespacedName)
	Forget(key types.NamespacedName)
}

// ScaledJobReconciler keeps a ScaledJob's trigger registration, readiness and Jobs' template
// generation in line with its spec; the JobRunner creates the Jobs.
type ScaledJobReconciler struct {
	Client   client.Client
	Reader   client.Reader
	Engine   Registry
	Runner   JobRunner
	Recorder events.EventRecorder
	// History receives pauses, resumes, scaler errors and spec changes; nil records none.
	History *history.Store
	// Resolver reads the job template's env and the triggers' authentications.
	Resolver *resolve.Resolver
	// Metrics drops a deleted ScaledJob's series; nil disables it.
	Metrics *observability.Metrics
	// Pods lists the pods the kubernetes-workload trigger counts (the manager's cached client).
	Pods scalers.PodLister
	Tuning
	// announced keeps a readiness change from being announced twice.
	announced announced
	// Sharding splits the ScaledJobs among the replicas; the zero value handles them all.
	Sharding Sharding
}

// SetupWithManager registers the reconciler: it watches ScaledJobs (spec, labels and annotations,
// for the pause annotation) and the authentications their triggers name. It needs authRefIndex
// (IndexAuthReferences).
func (r *ScaledJobReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.Tuning.setDefaults()
	b := ctrl.NewControllerManagedBy(mgr).Named("scaledjob")
	return r.Sharding.apply(b, crcontroller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		For(&kedav1alpha1.ScaledJob{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		Watches(&kedav1alpha1.TriggerAuthentication{}, handler.EnqueueRequestsFromMapFunc(r.usersOf(kedav1alpha1.KindTriggerAuthentication))).
		Watches(&kedav1alpha1.ClusterTriggerAuthentication{}, handler.EnqueueRequestsFromMapFunc(r.usersOf(kedav1alpha1.KindClusterTriggerAuthentication))).
		Complete(r)
}

// usersOf maps a (Cluster)TriggerAuthentication to the ScaledJobs whose triggers refer to it.
func (r *ScaledJobReconciler) usersOf(kind string) handler.MapFunc {
	return authUsers(r.Client, kind, func() *kedav1alpha1.ScaledJobList { return &kedav1alpha1.ScaledJobList{} },
		func(l *kedav1alpha1.ScaledJobList, add func(client.Object)) {
			for i := range l.Items {
				add(&l.Items[i])
			}
		})
}

// Reconcile brings one ScaledJob in line with its spec.
func (r *ScaledJobReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	if !r.Sharding.owns(engine.ScaledJobKey(req.NamespacedName)) {
		// Another replica owns it: stop polling it here if this one did.
		if r.forget(ctx, req.NamespacedName) {
			log.Info("ScaledJob moved to another replica")
		}
		return ctrl.Result{}, nil
	}
	sj := &kedav1alpha1.ScaledJob{}
	if err := r.Client.Get(ctx, req.NamespacedName, sj); err != nil {
		if client.IgnoreNotFound(err) == nil {
			r.forget(ctx, req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("failed to get ScaledJob %s: %w", req.NamespacedName, err)
	}
	if r.Metrics != nil {
		r.Metrics.Handled(observability.ResourceScaledJob, req.NamespacedName, triggerTypeList(sj.Spec.Triggers))
	}
	if !sj.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, log, sj)
	}
	hkey := history.ScaledJobKey(req.NamespacedName)
	r.History.ObserveGeneration(hkey, sj.Generation)
	if !controllerutil.ContainsFinalizer(sj, kedav1alpha1.FinalizerName) {
		patch := client.MergeFrom(sj.DeepCopy())
		controllerutil.AddFinalizer(sj, kedav1alpha1.FinalizerName)
		if err := r.Client.Patch(ctx, sj, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("failed to add finalizer to ScaledJob %s: %w", req.NamespacedName, err)
		}
	}

	if sj.Paused() {
		return ctrl.Result{}, r.pause(ctx, log, sj)
	}
	wasPaused := sj.Status.Conditions.IsTrue(kedav1alpha1.ConditionPaused)
	if sj.Spec.JobTargetRef == nil {
		return r.notReady(ctx, log, sj, kedav1alpha1.ReasonScaledJobCheckFailed, "spec.jobTargetRef is missing: set it to the Job spec the ScaledJob runs")
	}
	if errs := sj.ValidateSpec(); len(errs) > 0 {
		return r.notReady(ctx, log, sj, kedav1alpha1.ReasonScaledJobCheckFailed, errs.ToAggregate().Error())
	}
	for i, t := range sj.Spec.Triggers {
		if t.MetricType != "" {
			return r.notReady(ctx, log, sj, kedav1alpha1.ReasonScaledJobCheckFailed,
				fmt.Sprintf("spec.triggers[%d].metricType is set: a ScaledJob's triggers have no metric type, remove it", i))
		}
	}
	if err := r.rollout(ctx, log, sj); err != nil {
		return ctrl.Result{}, err
	}

	configs, err := triggerConfigs(ctx, r.Resolver, triggerOwner{
		Kind: "ScaledJob", Namespace: sj.Namespace, Name: sj.Name, Triggers: sj.Spec.Triggers,
		PodSpec:                func(context.Context) (*corev1.PodSpec, error) { return &sj.Spec.JobTargetRef.Template.Spec, nil },
		EnvSourceContainerName: sj.Spec.EnvSourceContainerName,
	}, r.ScalerTimeout, r.Pods)
	if err != nil {
		r.Recorder.Eventf(sj, nil, corev1.EventTypeWarning, kedav1alpha1.EventKEDAScalerFailed, "Reconcile", "%s", err.Error())
		r.History.Decide(hkey, historyv1alpha1.Decision{Type: historyv1alpha1.DecisionScalerError, Message: err.Error()})
		if isTransient(err) {
			return ctrl.Result{}, fmt.Errorf("failed to resolve the triggers of ScaledJob %s (retrying): %w", req.NamespacedName, err)
		}
		return r.notReady(ctx, log, sj, kedav1alpha1.ReasonTriggerError, err.Error())
	}
	infos := r.Engine.Register(ctx, engine.ScaledJobKey(req.NamespacedName), engine.Registration{
		PollingInterval: time.Duration(sj.Spec.PollingIntervalSeconds()) * time.Second,
		Triggers:        configs,
	})
	reg := outcomeOf(infos)
	if reg.errs != "" {
		r.Recorder.Eventf(sj, nil, corev1.EventTypeWarning, kedav1alpha1.EventKEDAScalerFailed, "Reconcile", "%s", reg.errs)
		r.History.Decide(hkey, historyv1alpha1.Decision{Type: historyv1alpha1.DecisionScalerError, Message: reg.errs})
		if reg.allTransient && sj.Status.Conditions.IsTrue(kedav1alpha1.ConditionReady) {
			return ctrl.Result{}, fmt.Errorf("failed to build the scalers of ScaledJob %s (retrying): %s", req.NamespacedName, reg.errs)
		}
		return r.notReady(ctx, log, sj, kedav1alpha1.ReasonTriggerError, reg.errs)
	}

	wasReady := sj.Status.Conditions.IsTrue(kedav1alpha1.ConditionReady)
	err = status.UpdateScaledJob(ctx, r.Client, r.Reader, sj, func(s *kedav1alpha1.ScaledJobStatus) {
		s.Conditions.Set(kedav1alpha1.Condition{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: kedav1alpha1.ReasonScaledJobReady, Message: "ScaledJob is defined correctly and is ready to scaling"})
		ensureJobCondition(s, kedav1alpha1.ConditionActive, metav1.ConditionUnknown)
		s.Conditions.Set(kedav1alpha1.Condition{Type: kedav1alpha1.ConditionPaused, Status: metav1.ConditionFalse,
			Reason: kedav1alpha1.ReasonScaledJobUnpaused, Message: "ScaledJob is unpaused"})
		s.Paused = ""
		s.ExternalMetricNames = externalMetricNames(reg.metricSpecs)
		s.TriggersTypes = ptr.To(triggerTypes(sj.Spec.Triggers))
		s.AuthenticationsTypes = authenticationTypes(sj.Spec.Triggers)
	})
	if err != nil {
		return ctrl.Result{}, err
	}
	if wasPaused {
		log.Info("ScaledJob unpaused")
		r.Recorder.Eventf(sj, nil, corev1.EventTypeNormal, kedav1alpha1.EventScaledJobUnpaused, "Reconcile", "ScaledJob is unpaused")
		r.History.Decide(hkey, historyv1alpha1.Decision{Type: historyv1alpha1.DecisionResumed, Message: "Job creation resumed"})
	}
	if !wasReady && r.announced.announce(req.NamespacedName, announcedReady) {
		log.Info("ScaledJob ready", "triggers", triggerTypes(sj.Spec.Triggers))
		scalersStarted(r.Recorder, sj, sj.Spec.Triggers)
		r.Recorder.Eventf(sj, nil, corev1.EventTypeNormal, kedav1alpha1.EventScaledJobReady, "Reconcile", "ScaledJob is ready for scaling")
	}
	r.Runner.Enqueue(req.NamespacedName)
	if usesAuthentication(sj.Spec.Triggers) {
		return ctrl.Result{RequeueAfter: r.AuthResync}, nil
	}
	return ctrl.Result{}, nil
}

// rollout deletes the Jobs made from an earlier generation of the ScaledJob, unless its rollout
// strategy is gradual (they then run to their end).
func (r *ScaledJobReconciler) rollout(ctx context.Context, log logr.Logger, sj *kedav1alpha1.ScaledJob) error {
	jobs := &batchv1.JobList{}
	if err := r.Client.List(ctx, jobs, client.InNamespace(sj.Namespace), client.MatchingLabels{kedav1alpha1.LabelScaledJobName: sj.Name}); err != nil {
		return fmt.Errorf("failed to list the Jobs of ScaledJob %s/%s: %w", sj.Namespace, sj.Name, err)
	}
	plan := scaledjob.RolloutCleanup(sj, jobs.Items)
	if len(plan.Jobs) == 0 {
		return nil
	}
	log.Info("deleting the Jobs of an earlier generation", "jobs", len(plan.Jobs), "why", plan.Why, "propagation", plan.Propagation)
	r.Recorder.Eventf(sj, nil, corev1.EventTypeNormal, kedav1alpha1.EventScaledJobRolloutCleanupStarted, "Reconcile",
		"Deleting %d jobs owned by the previous version of the scaledJob", len(plan.Jobs))
	for _, ref := range plan.Jobs {
		job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ref.Namespace, Name: ref.Name}}
		err := r.Client.Delete(ctx, job, client.PropagationPolicy(plan.Propagation), client.Preconditions{UID: &ref.UID})
		if client.IgnoreNotFound(err) != nil {
			r.Recorder.Eventf(sj, nil, corev1.EventTypeWarning, kedav1alpha1.EventScaledJobRolloutCleanupFailed, "Reconcile", "Failed to delete job %s: %v", ref.Name, err)
			return fmt.Errorf("failed to delete Job %s/%s of an earlier generation of ScaledJob %s: %w", ref.Namespace, ref.Name, sj.Name, err)
		}
	}
	// The runner counts the Jobs it created until its cache lists them: these may be among the
	// deleted ones, never to be listed.
	r.Runner.Forget(client.ObjectKeyFromObject(sj))
	r.Recorder.Eventf(sj, nil, corev1.EventTypeNormal, kedav1alpha1.EventScaledJobRolloutCleanupCompleted, "Reconcile",
		"Deleted %d jobs owned by the previous version of the scaledJob", len(plan.Jobs))
	return nil
}

// pause stops the triggers, so no Job is created; running Jobs are left alone.
func (r *ScaledJobReconciler) pause(ctx context.Context, log logr.Logger, sj *kedav1alpha1.ScaledJob) error {
	if r.stop(ctx, client.ObjectKeyFromObject(sj)) {
		scalersStopped(r.Recorder, sj)
	}
	wasPaused := sj.Status.Conditions.IsTrue(kedav1alpha1.ConditionPaused)
	err := status.UpdateScaledJob(ctx, r.Client, r.Reader, sj, func(s *kedav1alpha1.ScaledJobStatus) {
		s.Conditions.Set(kedav1alpha1.Condition{Type: kedav1alpha1.ConditionPaused, Status: metav1.ConditionTrue,
			Reason: kedav1alpha1.ReasonScaledJobPaused, Message: "ScaledJob is paused"})
		ensureJobCondition(s, kedav1alpha1.ConditionReady, metav1.ConditionUnknown)
		ensureJobCondition(s, kedav1alpha1.ConditionActive, metav1.ConditionUnknown)
		s.Paused = "true"
		s.TriggersTypes = ptr.To(triggerTypes(sj.Spec.Triggers))
		s.AuthenticationsTypes = authenticationTypes(sj.Spec.Triggers)
	})
	if err != nil {
		return err
	}
	if !wasPaused {
		log.Info("ScaledJob paused")
		r.Recorder.Eventf(sj, nil, corev1.EventTypeNormal, kedav1alpha1.EventScaledJobPaused, "Reconcile", "ScaledJob is paused")
		r.History.Decide(history.ScaledJobKey(client.ObjectKeyFromObject(sj)), historyv1alpha1.Decision{Type: historyv1alpha1.DecisionPaused, Message: "Job creation paused"})
	}
	return nil
}

// notReady records why the ScaledJob cannot run Jobs, stops its triggers and looks again later.
func (r *ScaledJobReconciler) notReady(ctx context.Context, log logr.Logger, sj *kedav1alpha1.ScaledJob, reason, msg string) (ctrl.Result, error) {
	r.stop(ctx, client.ObjectKeyFromObject(sj))
	prev := sj.Status.Conditions.Get(kedav1alpha1.ConditionReady)
	changed := (prev == nil || prev.Status != metav1.ConditionFalse || prev.Message != msg) &&
		r.announced.announce(client.ObjectKeyFromObject(sj), announcedNotReady(msg))
	err := status.UpdateScaledJob(ctx, r.Client, r.Reader, sj, func(s *kedav1alpha1.ScaledJobStatus) {
		s.Conditions.Set(kedav1alpha1.Condition{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: reason, Message: msg})
		s.Conditions.Set(kedav1alpha1.Condition{Type: kedav1alpha1.ConditionActive, Status: metav1.ConditionUnknown,
			Reason: kedav1alpha1.ReasonUnknownState, Message: "ScaledJob check failed"})
		ensureJobCondition(s, kedav1alpha1.ConditionPaused, metav1.ConditionFalse)
		s.TriggersTypes = ptr.To(triggerTypes(sj.Spec.Triggers))
		s.AuthenticationsTypes = authenticationTypes(sj.Spec.Triggers)
	})
	if changed {
		log.Info("ScaledJob not ready", "reason", reason, "message", msg)
		r.Recorder.Eventf(sj, nil, corev1.EventTypeWarning, kedav1alpha1.EventScaledJobCheckFailed, "Reconcile", "%s", msg)
	}
	return ctrl.Result{RequeueAfter: r.RetryAfter}, err
}

// finalize stops the triggers and lets the ScaledJob go. Its Jobs are not deleted here: they are
// owned by the ScaledJob, so the garbage collector removes them, as under KEDA.
func (r *ScaledJobReconciler) finalize(ctx context.Context, log logr.Logger, sj *kedav1alpha1.ScaledJob) error {
	if !controllerutil.ContainsFinalizer(sj, kedav1alpha1.FinalizerName) {
		return nil
	}
	key := client.ObjectKeyFromObject(sj)
	if r.stop(ctx, key) {
		scalersStopped(r.Recorder, sj)
	}
	patch := client.MergeFrom(sj.DeepCopy())
	controllerutil.RemoveFinalizer(sj, kedav1alpha1.FinalizerName)
	if err := r.Client.Patch(ctx, sj, patch); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("failed to remove finalizer from ScaledJob %s: %w", key, err)
	}
	// KEDA reports a ScaledJob's deletion as a warning.
	r.Recorder.Eventf(sj, nil, corev1.EventTypeWarning, kedav1alpha1.EventScaledJobDeleted, "Delete", "ScaledJob was deleted")
	log.Info("ScaledJob deleted")
	return nil
}

// forget stops key's triggers and drops what this replica knows of it (deleted, or moved to
// another replica); it reports whether its triggers were being polled.
func (r *ScaledJobReconciler) forget(ctx context.Context, key types.NamespacedName) bool {
	polled := r.stop(ctx, key)
	r.History.Forget(history.ScaledJobKey(key))
	r.announced.forget(key)
	if r.Metrics != nil {
		r.Metrics.Forget(key, observability.TypeScaledJob)
		r.Metrics.Gone(observability.ResourceScaledJob, key)
	}
	return polled
}

// stop stops key's triggers and Job runs; it reports whether its triggers were being polled.
func (r *ScaledJobReconciler) stop(ctx context.Context, key types.NamespacedName) bool {
	defer r.Runner.Forget(key)
	return r.Engine.Unregister(ctx, engine.ScaledJobKey(key))
}

// ensureJobCondition adds a condition of type t with status st when there is none, as KEDA
// initialises a ScaledJob's conditions (Paused False, the others Unknown).
func ensureJobCondition(s *kedav1alpha1.ScaledJobStatus, t kedav1alpha1.ConditionType, st metav1.ConditionStatus) {
	if s.Conditions.Get(t) == nil {
		s.Conditions.Set(kedav1alpha1.Condition{Type: t, Status: st, Reason: kedav1alpha1.ReasonUnknown})
	}
}

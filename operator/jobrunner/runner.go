// Package jobrunner runs the scaling loop of ScaledJobs: after each poll of a ScaledJob's triggers
// it counts the ScaledJob's Jobs, asks operator/scaledjob how many to create, creates them, trims
// the finished ones to the history limits and writes the Active and Ready conditions.
package jobrunner

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/engine"
	"github.com/kedactl/kedactl/operator/history"
	"github.com/kedactl/kedactl/operator/scaledjob"
	"github.com/kedactl/kedactl/operator/status"
)

// StateReader is the part of the engine the runner reads.
type StateReader interface {
	State(key engine.Key) (engine.ObjectState, bool)
}

// Options configures a Runner.
type Options struct {
	// Client reads ScaledJobs, Jobs and Pods from the manager's cache and writes Jobs and status.
	Client client.Client
	// Reader reads uncached, to retry a status write after a conflict.
	Reader   client.Reader
	State    StateReader
	Recorder events.EventRecorder
	// OperatorVersion is the app.kubernetes.io/version label of the Jobs.
	OperatorVersion string
	Workers         int
	Clock           clock.Clock
	Log             logr.Logger
	// History receives each loop's readings, Jobs created and activity changes; nil records none.
	History *history.Store
	// Fence says whether this replica may act on a ScaledJob now (it owns it and its membership
	// holds); nil lets it always. A fenced ScaledJob's loop runs again shortly.
	Fence func(engine.Key) error
}

// Runner is a manager.Runnable fed ScaledJob keys by the engine after each poll.
type Runner struct {
	opts  Options
	queue workqueue.TypedRateLimitingInterface[types.NamespacedName]

	mu sync.Mutex
	// seen is the newest sample each ScaledJob was run on: a loop runs once per new poll.
	seen map[types.NamespacedName]uint64
	// created are Jobs this runner created that the cache may not show yet, so that the next loop
	// counts them and does not create them again.
	created map[types.NamespacedName][]createdJob
}

type createdJob struct {
	name string
	at   time.Time
}

// createdJobGrace is how long a created Job counts as running while the cache does not show it.
const createdJobGrace = time.Minute

// New returns a Runner; add it to the manager to start it.
func New(opts Options) *Runner {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &Runner{
		opts:    opts,
		queue:   workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[types.NamespacedName](), workqueue.TypedRateLimitingQueueConfig[types.NamespacedName]{Name: "scaledjob"}),
		seen:    map[types.NamespacedName]uint64{},
		created: map[types.NamespacedName][]createdJob{},
	}
}

// Enqueue asks for key's scaling loop to run on its latest sample.
func (r *Runner) Enqueue(key types.NamespacedName) { r.queue.Add(key) }

// Forget drops what the runner remembers of a ScaledJob that stopped (deleted, paused or broken).
func (r *Runner) Forget(key types.NamespacedName) {
	r.mu.Lock()
	delete(r.seen, key)
	delete(r.created, key)
	r.mu.Unlock()
}

// Start runs loops until ctx ends.
func (r *Runner) Start(ctx context.Context) error {
	var wg sync.WaitGroup
	for range r.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r.next(ctx) {
			}
		}()
	}
	<-ctx.Done()
	r.queue.ShutDown()
	wg.Wait()
	return nil
}

func (r *Runner) next(ctx context.Context) bool {
	key, shutdown := r.queue.Get()
	if shutdown {
		return false
	}
	defer r.queue.Done(key)
	if err := r.run(ctx, key); err != nil {
		r.opts.Log.Error(err, "ScaledJob scaling loop failed", "scaledJob", key.String())
		r.queue.AddRateLimited(key)
		return true
	}
	r.queue.Forget(key)
	return true
}

// run is one scaling loop of one ScaledJob.
func (r *Runner) run(ctx context.Context, key types.NamespacedName) error {
	sj := &kedav1alpha1.ScaledJob{}
	if err := r.opts.Client.Get(ctx, key, sj); err != nil {
		return client.IgnoreNotFound(err)
	}
	if !sj.DeletionTimestamp.IsZero() || sj.Paused() || sj.Spec.JobTargetRef == nil {
		return nil
	}
	st, ok := r.opts.State.State(engine.ScaledJobKey(key))
	if !ok || !st.Polled() || len(st.Triggers) == 0 {
		return nil
	}
	// Before the sample counts as seen: once the fence lifts, the loop runs on it.
	if r.fenced(key) {
		return nil
	}
	if !r.newSample(key, st.Newest()) {
		return nil
	}

	jobs, pods, err := r.jobsOf(ctx, sj)
	if err != nil {
		return err
	}
	counts := scaledjob.CountJobs(jobs, pods, sj.Spec.ScalingStrategy.PendingPodConditions)
	// Jobs created by an earlier loop that the cache does not show yet are running and pending.
	unseen := r.unseenCreated(key, jobs)
	counts.Running += unseen
	counts.Pending += unseen

	queue := scaledjob.CombineTriggers(&sj.Spec, Samples(&st))
	decision := scaledjob.Decide(&sj.Spec, queue, counts)
	r.opts.Log.V(1).Info("ScaledJob scaling loop", "scaledJob", key.String(), "decision", decision.String())
	r.opts.History.Sample(history.ScaledJobKey(key), historyv1alpha1.Sample{
		Time:            metav1.NewTime(r.opts.Clock.Now()),
		Replicas:        ptr.To(int32(counts.Running)),
		DesiredReplicas: ptr.To(int32(counts.Running + max(decision.Create, 0))),
		Triggers:        history.Readings(st.Triggers, sj.Spec.Triggers),
	})
	var createErr error
	if decision.Active && decision.Create > 0 {
		if r.fenced(key) {
			r.forgetSample(key)
			return nil
		}
		createErr = r.createJobs(ctx, sj, decision.Create)
	}
	if err := r.writeStatus(ctx, sj, &st, decision.Active, createErr); err != nil {
		return err
	}
	return r.trimHistory(ctx, sj, jobs)
}

// fencedRetry is how soon a fenced ScaledJob's loop runs again: a handover ends within seconds.
const fencedRetry = time.Second

// fenced reports whether this replica may not create key's Jobs now, and if so runs its loop
// again shortly.
func (r *Runner) fenced(key types.NamespacedName) bool {
	if r.opts.Fence == nil {
		return false
	}
	err := r.opts.Fence(engine.ScaledJobKey(key))
	if err == nil {
		return false
	}
	r.opts.Log.V(1).Info("not creating Jobs for the ScaledJob", "scaledJob", key.String(), "reason", err.Error())
	r.queue.AddAfter(key, fencedRetry)
	return true
}

// forgetSample lets the next loop of key run on the sample the last one saw.
func (r *Runner) forgetSample(key types.NamespacedName) {
	r.mu.Lock()
	delete(r.seen, key)
	r.mu.Unlock()
}

// newSample reports whether seq is newer than the sample key's loop last ran on, and records it.
func (r *Runner) newSample(key types.NamespacedName, seq uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if seq <= r.seen[key] {
		return false
	}
	r.seen[key] = seq
	return true
}

// jobsOf lists sj's Jobs and their Pods from the cache, by the scaledjob.keda.sh/name label KEDA
// puts on both.
func (r *Runner) jobsOf(ctx context.Context, sj *kedav1alpha1.ScaledJob) ([]batchv1.Job, []corev1.Pod, error) {
	selector := client.MatchingLabels{kedav1alpha1.LabelScaledJobName: sj.Name}
	jobs := &batchv1.JobList{}
	if err := r.opts.Client.List(ctx, jobs, client.InNamespace(sj.Namespace), selector); err != nil {
		return nil, nil, fmt.Errorf("failed to list the Jobs of ScaledJob %s/%s: %w", sj.Namespace, sj.Name, err)
	}
	// Only unfinished Jobs' pods tell pending from running; with none, no pod list is needed.
	unfinished := false
	for i := range jobs.Items {
		unfinished = unfinished || !scaledjob.IsFinished(&jobs.Items[i])
	}
	if !unfinished {
		return jobs.Items, nil, nil
	}
	pods := &corev1.PodList{}
	if err := r.opts.Client.List(ctx, pods, client.InNamespace(sj.Namespace), selector); err != nil {
		return nil, nil, fmt.Errorf("failed to list the pods of ScaledJob %s/%s: %w", sj.Namespace, sj.Name, err)
	}
	return jobs.Items, pods.Items, nil
}

// unseenCreated counts the Jobs key's loops created that listed misses, forgetting those listed or
// older than createdJobGrace.
func (r *Runner) unseenCreated(key types.NamespacedName, listed []batchv1.Job) int64 {
	names := make(map[string]bool, len(listed))
	for i := range listed {
		names[listed[i].Name] = true
	}
	now := r.opts.Clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	kept := r.created[key][:0]
	for _, c := range r.created[key] {
		if !names[c.name] && now.Sub(c.at) < createdJobGrace {
			kept = append(kept, c)
		}
	}
	if len(kept) == 0 {
		delete(r.created, key)
	} else {
		r.created[key] = kept
	}
	return int64(len(kept))
}

// createJobs creates n Jobs from sj's template, each failure reported as an event, as in KEDA; it
// returns the last failure.
func (r *Runner) createJobs(ctx context.Context, sj *kedav1alpha1.ScaledJob, n int64) error {
	key := client.ObjectKeyFromObject(sj)
	var made int64
	var failed error
	for range n {
		job, err := scaledjob.BuildJob(sj, r.opts.OperatorVersion)
		if err == nil {
			err = controllerutil.SetControllerReference(sj, job, r.opts.Client.Scheme())
		}
		if err == nil {
			err = r.opts.Client.Create(ctx, job)
		}
		if err != nil {
			r.opts.Log.Error(err, "failed to create a Job", "scaledJob", key.String())
			r.opts.Recorder.Eventf(sj, nil, corev1.EventTypeWarning, kedav1alpha1.EventKEDAJobCreateFailed, "Scale", "Failed to create job %s: %v", sj.Name+"-", err)
			failed = err
			continue
		}
		made++
		r.mu.Lock()
		r.created[key] = append(r.created[key], createdJob{name: job.Name, at: r.opts.Clock.Now()})
		r.mu.Unlock()
	}
	if made > 0 {
		r.opts.Log.Info("created Jobs", "scaledJob", key.String(), "jobs", made)
		r.opts.Recorder.Eventf(sj, nil, corev1.EventTypeNormal, kedav1alpha1.EventKEDAJobsCreated, "Scale", "Created %d jobs", made)
		r.opts.History.Decide(history.ScaledJobKey(key), historyv1alpha1.Decision{Time: metav1.NewTime(r.opts.Clock.Now()), Type: historyv1alpha1.DecisionJobsCreated, Jobs: int32(made),
			Message: fmt.Sprintf("created %d Jobs", made)})
	}
	return failed
}

// writeStatus sets Active (with its events), Ready from the triggers' errors and Job creation as
// KEDA does, and lastActiveTime while active.
func (r *Runner) writeStatus(ctx context.Context, sj *kedav1alpha1.ScaledJob, st *engine.ObjectState, active bool, createErr error) error {
	wasActive := sj.Status.Conditions.IsTrue(kedav1alpha1.ConditionActive)
	ready := readyCondition(st, active)
	if createErr != nil {
		ready = kedav1alpha1.Condition{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionFalse,
			Reason: kedav1alpha1.ReasonKEDAJobCreateFailed, Message: "Failed to create Jobs: " + createErr.Error()}
	}
	now := metav1.NewTime(r.opts.Clock.Now())
	err := status.UpdateScaledJob(ctx, r.opts.Client, r.opts.Reader, sj, func(s *kedav1alpha1.ScaledJobStatus) {
		if active {
			s.Conditions.Set(kedav1alpha1.Condition{Type: kedav1alpha1.ConditionActive, Status: metav1.ConditionTrue,
				Reason: kedav1alpha1.ReasonScalerActive, Message: "Scaling is performed because triggers are active"})
			s.LastActiveTime = &now
		} else {
			s.Conditions.Set(kedav1alpha1.Condition{Type: kedav1alpha1.ConditionActive, Status: metav1.ConditionFalse,
				Reason: kedav1alpha1.ReasonScalerNotActive, Message: "Scaling is not performed because triggers are not active"})
		}
		s.Conditions.Set(ready)
	})
	if err != nil {
		return err
	}
	hkey := history.ScaledJobKey(client.ObjectKeyFromObject(sj))
	switch {
	case active && !wasActive:
		r.opts.Recorder.Eventf(sj, nil, corev1.EventTypeNormal, kedav1alpha1.EventScaledJobActive, "Scale", "Scaling is performed because triggers are active")
		r.opts.History.Decide(hkey, historyv1alpha1.Decision{Time: now, Type: historyv1alpha1.DecisionActivated,
			Trigger: history.ActiveTriggers(history.Readings(st.Triggers, sj.Spec.Triggers)), Message: "triggers active: creating Jobs"})
	case !active && wasActive:
		r.opts.Recorder.Eventf(sj, nil, corev1.EventTypeNormal, kedav1alpha1.EventScaledJobInactive, "Scale", "Scaling is not performed because triggers are not active")
		r.opts.History.Decide(hkey, historyv1alpha1.Decision{Time: now, Type: historyv1alpha1.DecisionDeactivated, Message: "triggers inactive: no Jobs created"})
	}
	return nil
}

// readyCondition is KEDA's Ready condition after a loop: True, or Unknown when some triggers failed
// but one is active, or False when they failed and none is active.
func readyCondition(st *engine.ObjectState, active bool) kedav1alpha1.Condition {
	switch {
	case !st.Failing():
		return kedav1alpha1.Condition{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: kedav1alpha1.ReasonScaledJobReady, Message: "ScaledJob is defined correctly and is ready for scaling"}
	case active:
		return kedav1alpha1.Condition{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionUnknown,
			Reason: kedav1alpha1.ReasonPartialTriggerError, Message: "Some triggers defined in ScaledJob are not working correctly"}
	default:
		return kedav1alpha1.Condition{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionFalse,
			Reason: kedav1alpha1.ReasonTriggerError, Message: "Triggers defined in ScaledJob are not working correctly"}
	}
}

// trimHistory deletes the finished Jobs beyond the history limits, oldest first.
func (r *Runner) trimHistory(ctx context.Context, sj *kedav1alpha1.ScaledJob, jobs []batchv1.Job) error {
	d := scaledjob.HistoryCleanup(&sj.Spec, jobs)
	for _, ref := range d.Jobs {
		job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ref.Namespace, Name: ref.Name}}
		err := r.opts.Client.Delete(ctx, job, client.PropagationPolicy(d.Propagation), client.Preconditions{UID: &ref.UID})
		if client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("failed to delete Job %s/%s beyond the history limit of ScaledJob %s: %w", ref.Namespace, ref.Name, sj.Name, err)
		}
	}
	return nil
}

// Samples turns the engine's state of a ScaledJob's triggers into the samples the strategies work
// from, as KEDA reads them: a failed trigger gives none; a trigger with several metrics gives the
// value of its first and the mean of their targets.
func Samples(st *engine.ObjectState) []scaledjob.TriggerSample {
	var out []scaledjob.TriggerSample
	for i := 0; i < len(st.Triggers); {
		first := &st.Triggers[i]
		j := i
		var targets float64
		for ; j < len(st.Triggers) && st.Triggers[j].Index == first.Index; j++ {
			targets += targetValue(st.Triggers[j].Target)
		}
		if first.Err == nil && first.Polled && !first.Resource {
			out = append(out, scaledjob.TriggerSample{
				QueueLength:        first.Value.AsApproximateFloat64(),
				TargetAverageValue: targets / float64(j-i),
				Active:             first.Active,
			})
		}
		i = j
	}
	return out
}

// targetValue is a metric's AverageValue target, 0 when it has none (as KEDA counts it).
func targetValue(t autoscalingv2.MetricTarget) float64 {
	if t.AverageValue == nil {
		return 0
	}
	return t.AverageValue.AsApproximateFloat64()
}

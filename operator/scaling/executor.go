package scaling

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/scale"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/internal/modifiers"
	"github.com/kedactl/kedactl/operator/engine"
	"github.com/kedactl/kedactl/operator/history"
	"github.com/kedactl/kedactl/operator/status"
)

// StateReader is the part of the engine the executor reads.
type StateReader interface {
	State(key engine.Key) (engine.ObjectState, bool)
}

// Executor applies activation decisions to scale targets and writes the activity part of status.
// It is fed object keys (after each poll) and handles one key at a time per key. It is a
// manager.Runnable.
type Executor struct {
	client   client.Client
	reader   client.Reader
	scales   scale.ScalesGetter
	state    StateReader
	recorder events.EventRecorder
	clock    clock.Clock
	log      logr.Logger
	workers  int
	formulas *modifiers.Cache
	history  *history.Store
	fence    func(engine.Key) error

	queue workqueue.TypedRateLimitingInterface[types.NamespacedName]

	mu sync.Mutex
	// lastActive is when each object was last seen active; it is authoritative while the operator
	// runs, and written to status.lastActiveTime on every activity transition.
	lastActive map[types.NamespacedName]time.Time
	// replicas is each target's replica count as last read from (or written to) its /scale.
	replicas map[types.NamespacedName]int32
	// decided is what each object's last decision was based on: activation changes replicas
	// only on something newer.
	decided map[types.NamespacedName]basis
	// healthWritten is when each object's status.health last changed, for failuresToWrite.
	healthWritten map[types.NamespacedName]time.Time

	// evaluating holds a lock per object for the length of an evaluation, so that Forget waits
	// for one under way: a deleted object's restoreToOriginalReplicaCount must not be undone by
	// a decision taken on its last sample a moment before.
	evaluating sync.Map // types.NamespacedName -> *sync.Mutex
}

// basis is what a decision knew: the newest sample, the spec's generation and the annotations
// that steer activation.
type basis struct {
	seq         uint64
	generation  int64
	annotations string
}

// ExecutorOptions configures NewExecutor.
type ExecutorOptions struct {
	// Client reads ScaledObjects from the cache and writes their status.
	Client client.Client
	// Reader reads ScaledObjects uncached, to retry a status write after a conflict.
	Reader   client.Reader
	Scales   scale.ScalesGetter
	State    StateReader
	Recorder events.EventRecorder
	Clock    clock.Clock
	Log      logr.Logger
	Workers  int
	// Formulas compiles scalingModifiers once per generation (shared with the metrics server).
	Formulas *modifiers.Cache
	// History receives each evaluation's readings and every decision; nil records none.
	History *history.Store
	// Fence says whether this replica may act on an object now (it owns it and its membership
	// holds); nil lets it always. A fenced object is looked at again shortly, without acting.
	Fence func(engine.Key) error
}

// NewExecutor returns an Executor; add it to a manager to start it.
func NewExecutor(opts ExecutorOptions) *Executor {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	return &Executor{
		client:     opts.Client,
		reader:     opts.Reader,
		scales:     opts.Scales,
		state:      opts.State,
		recorder:   opts.Recorder,
		clock:      opts.Clock,
		log:        opts.Log,
		workers:    opts.Workers,
		formulas:   opts.Formulas,
		history:    opts.History,
		fence:      opts.Fence,
		queue:      workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[types.NamespacedName](), workqueue.TypedRateLimitingQueueConfig[types.NamespacedName]{Name: "activation"}),
		lastActive: map[types.NamespacedName]time.Time{},
		replicas:   map[types.NamespacedName]int32{},
		decided:    map[types.NamespacedName]basis{},

		healthWritten: map[types.NamespacedName]time.Time{},
	}
}

// Enqueue asks for key's activation to be evaluated.
func (x *Executor) Enqueue(key types.NamespacedName) {
	x.queue.Add(key)
}

// Forget drops what the executor remembers of a deleted object.
func (x *Executor) Forget(key types.NamespacedName) {
	lock := x.evaluationLock(key)
	lock.Lock()
	defer lock.Unlock()
	x.evaluating.Delete(key)
	x.mu.Lock()
	delete(x.lastActive, key)
	delete(x.replicas, key)
	delete(x.decided, key)
	delete(x.healthWritten, key)
	x.mu.Unlock()
	x.formulas.Forget(key)
}

// CurrentReplicas is the replica count of key's target as the executor last saw it, for the
// fallback behaviours that depend on it.
func (x *Executor) CurrentReplicas(key types.NamespacedName) (int32, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	n, ok := x.replicas[key]
	return n, ok
}

func (x *Executor) setReplicas(key types.NamespacedName, n int32) {
	x.mu.Lock()
	x.replicas[key] = n
	x.mu.Unlock()
}

// Start processes keys until ctx ends.
func (x *Executor) Start(ctx context.Context) error {
	var wg sync.WaitGroup
	for range x.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for x.next(ctx) {
			}
		}()
	}
	<-ctx.Done()
	x.queue.ShutDown()
	wg.Wait()
	return nil
}

func (x *Executor) next(ctx context.Context) bool {
	key, shutdown := x.queue.Get()
	if shutdown {
		return false
	}
	defer x.queue.Done(key)
	if err := x.evaluate(ctx, key); err != nil {
		x.log.Error(err, "activation failed", "scaledObject", key.String())
		x.queue.AddRateLimited(key)
		return true
	}
	x.queue.Forget(key)
	return true
}

// evaluate decides and applies activation for one ScaledObject, then writes its activity status.
// evaluationLock is key's evaluation lock.
func (x *Executor) evaluationLock(key types.NamespacedName) *sync.Mutex {
	lock, _ := x.evaluating.LoadOrStore(key, &sync.Mutex{})
	return lock.(*sync.Mutex)
}

func (x *Executor) evaluate(ctx context.Context, key types.NamespacedName) error {
	lock := x.evaluationLock(key)
	lock.Lock()
	defer lock.Unlock()
	so := &kedav1alpha1.ScaledObject{}
	if err := x.client.Get(ctx, key, so); err != nil {
		return client.IgnoreNotFound(err)
	}
	gvkr := so.Status.ScaleTargetGVKR
	if !so.DeletionTimestamp.IsZero() || gvkr == nil {
		return nil
	}
	st, ok := x.state.State(engine.ScaledObjectKey(key))
	if !ok || !st.Polled() || len(st.Triggers) == 0 {
		return nil
	}
	if x.fenced(key) {
		return nil
	}
	now := x.clock.Now()
	fb := Fallback(&so.Spec, &st)
	active := x.activity(key, so, &st, fb)
	lastActive := x.rememberActivity(key, so, active, now)

	gr := schema.GroupResource{Group: gvkr.Group, Resource: gvkr.Resource}
	knows := basis{seq: st.Newest(), generation: so.Generation, annotations: activationAnnotations(so)}
	x.mu.Lock()
	prev, seen := x.decided[key]
	x.mu.Unlock()
	fresh := !seen || knows.seq > prev.seq || knows.generation != prev.generation || knows.annotations != prev.annotations
	fallback := fb.InForce
	var fallbackReplicas *int32
	if so.Spec.Fallback != nil {
		fallbackReplicas = &so.Spec.Fallback.Replicas
	}
	in := Input{
		Fallback:            fb.Serving,
		FallbackPerReadyPod: fb.PerReadyPod,
		FallbackReplicas:    fallbackReplicas,
		Now:                 now,
		Active:              active,
		Failing:             fb.Failing,
		Min:                 so.Spec.MinReplicas(),
		Idle:                so.Spec.IdleReplicaCount,
		Cooldown:            time.Duration(so.Spec.CooldownPeriodSeconds()) * time.Second,
		InitialCooldown:     time.Duration(so.Spec.InitialCooldownPeriodSeconds()) * time.Second,
		Created:             so.CreationTimestamp.Time,
		LastActive:          lastActive,
		Fresh:               fresh,
	}
	var sc *autoscalingv1.Scale
	d := Decision{Action: Keep, Reason: "no new sample since the last decision"}
	if fresh {
		// Replicas come from the informer for the kinds it covers; /scale is read for the others,
		// and for every kind just before acting, so that a decision made on a cached count never
		// writes over a change it has not seen.
		current, cached, err := x.cachedReplicas(ctx, gvkr, so)
		if err != nil {
			return err
		}
		if !cached {
			if sc, err = x.scales.Scales(so.Namespace).Get(ctx, gr, so.Spec.ScaleTargetRef.Name, metav1.GetOptions{}); err != nil {
				return fmt.Errorf("failed to get scale of %s: %w", scaleTargetName(gvkr, so), err)
			}
			current = sc.Spec.Replicas
		}
		x.setReplicas(key, current)
		in.Current = current
		d = x.decide(in, so)
		if d.Action != Keep && sc == nil {
			if sc, err = x.scales.Scales(so.Namespace).Get(ctx, gr, so.Spec.ScaleTargetRef.Name, metav1.GetOptions{}); err != nil {
				return fmt.Errorf("failed to get scale of %s: %w", scaleTargetName(gvkr, so), err)
			}
			x.setReplicas(key, sc.Spec.Replicas)
			in.Current = sc.Spec.Replicas
			d = x.decide(in, so)
		}
	}
	if d.Action != Keep {
		// Again just before the write: the checks above may have taken a while.
		if x.fenced(key) {
			return nil
		}
		target := scaleTargetName(gvkr, so)
		log := x.log.WithValues("scaledObject", key.String(), "target", target)
		from := sc.Spec.Replicas
		sc.Spec.Replicas = d.Replicas
		_, err := x.scales.Scales(so.Namespace).Update(ctx, gr, sc, metav1.UpdateOptions{})
		if err != nil {
			reason := kedav1alpha1.EventKEDAScaleTargetActivationFailed
			if d.Action == Deactivate {
				reason = kedav1alpha1.EventKEDAScaleTargetDeactivationFailed
			}
			x.recorder.Eventf(so, nil, corev1.EventTypeWarning, reason, "Scale", "Failed to scale %s from %d to %d: %v", target, from, d.Replicas, err)
			x.recordScale(key, so, st, d, from, err)
			return fmt.Errorf("failed to scale %s from %d to %d: %w", target, from, d.Replicas, err)
		}
		x.setReplicas(key, d.Replicas)
		x.recordScale(key, so, st, d, from, nil)
		log.Info("scaled target", "action", d.Action.String(), "from", from, "to", d.Replicas, "reason", d.Reason)
		switch d.Action {
		case Activate, EnsureMin:
			x.recorder.Eventf(so, nil, corev1.EventTypeNormal, kedav1alpha1.EventKEDAScaleTargetActivated, "Scale",
				"Scaled %s from %d to %d, triggered by %s", target, from, d.Replicas, activeTriggers(st))
		case Deactivate:
			x.recorder.Eventf(so, nil, corev1.EventTypeNormal, kedav1alpha1.EventKEDAScaleTargetDeactivated, "Scale",
				"Deactivated %s from %d to %d", target, from, d.Replicas)
		}
	} else if v := x.log.V(1); v.Enabled() {
		// Guarded: this runs on every poll of every object, and the arguments cost allocations.
		v.Info("no activation change", "scaledObject", key.String(), "replicas", in.Current, "active", active, "reason", d.Reason)
	}
	x.mu.Lock()
	x.decided[key] = knows
	x.mu.Unlock()
	if fresh && (!seen || knows.seq > prev.seq) {
		x.recordSample(ctx, key, so, st, in.Current, d, now)
	}
	x.reportTriggerFailures(so, st)
	x.reportFallback(so, st, fallback)
	var ready *kedav1alpha1.Condition
	if fresh {
		status, reason, message := Ready(in)
		ready = &kedav1alpha1.Condition{Type: kedav1alpha1.ConditionReady, Status: status, Reason: reason, Message: message}
	}
	return x.writeStatus(ctx, so, st, active, fallback, lastActive, ready)
}

// scaleTargetName names so's target for events, logs and errors.
func scaleTargetName(gvkr *kedav1alpha1.GroupVersionKindResource, so *kedav1alpha1.ScaledObject) string {
	return strings.TrimPrefix(fmt.Sprintf("%s/%s.%s %s/%s", gvkr.Group, gvkr.Version, gvkr.Kind, so.Namespace, so.Spec.ScaleTargetRef.Name), "/")
}

// fencedRetry is how soon a fenced object is looked at again: a handover ends within seconds.
const fencedRetry = time.Second

// fenced reports whether this replica may not act on key now, and if so looks at it again
// shortly (a handover under way ends by itself; an object that moved away is unregistered and the
// next look ends at once).
func (x *Executor) fenced(key types.NamespacedName) bool {
	if x.fence == nil {
		return false
	}
	err := x.fence(engine.ScaledObjectKey(key))
	if err == nil {
		return false
	}
	x.log.V(1).Info("not acting on the ScaledObject", "scaledObject", key.String(), "reason", err.Error())
	x.queue.AddAfter(key, fencedRetry)
	return true
}

func activationAnnotations(so *kedav1alpha1.ScaledObject) string {
	a := so.Annotations
	return a[kedav1alpha1.AnnotationForceActivation] + "|" + a[kedav1alpha1.AnnotationPausedScaleIn] + "|" + a[kedav1alpha1.AnnotationPausedScaleOut]
}

// decide is Decide with the pause annotations that block one direction.
func (x *Executor) decide(in Input, so *kedav1alpha1.ScaledObject) Decision {
	d := Decide(in)
	if p, err := so.Pause(); err == nil {
		switch {
		case p.ScaleIn && d.Action == Deactivate:
			d = Decision{Action: Keep, Reason: "deactivation blocked by " + kedav1alpha1.AnnotationPausedScaleIn}
		case p.ScaleOut && (d.Action == Activate || d.Action == EnsureMin):
			d = Decision{Action: Keep, Reason: "activation blocked by " + kedav1alpha1.AnnotationPausedScaleOut}
		}
	}
	return d
}

// cachedReplicas reads a Deployment's or StatefulSet's replicas from the manager's informer; cached
// is false for other kinds, whose replicas only /scale gives.
func (x *Executor) cachedReplicas(ctx context.Context, gvkr *kedav1alpha1.GroupVersionKindResource, so *kedav1alpha1.ScaledObject) (replicas int32, cached bool, err error) {
	if gvkr.Group != "apps" {
		return 0, false, nil
	}
	var obj client.Object
	var spec func() *int32
	switch gvkr.Kind {
	case "Deployment":
		d := &appsv1.Deployment{}
		obj, spec = d, func() *int32 { return d.Spec.Replicas }
	case "StatefulSet":
		s := &appsv1.StatefulSet{}
		obj, spec = s, func() *int32 { return s.Spec.Replicas }
	default:
		return 0, false, nil
	}
	if err := x.client.Get(ctx, types.NamespacedName{Namespace: so.Namespace, Name: so.Spec.ScaleTargetRef.Name}, obj); err != nil {
		return 0, false, fmt.Errorf("failed to read %s %s/%s from the cache: %w", gvkr.Kind, so.Namespace, so.Spec.ScaleTargetRef.Name, err)
	}
	if r := spec(); r != nil {
		return *r, true, nil
	}
	return 1, true, nil // the API server's default
}

// reportFallback emits ScaledObjectFallbackActivated/Deactivated when fallback starts or ends.
func (x *Executor) reportFallback(so *kedav1alpha1.ScaledObject, st engine.ObjectState, fallback bool) {
	was := so.Status.Conditions.IsTrue(kedav1alpha1.ConditionFallback)
	switch {
	case fallback && !was:
		x.recorder.Eventf(so, nil, corev1.EventTypeNormal, kedav1alpha1.EventScaledObjectFallbackActivated, "Fallback",
			"Fallback activated: the HPA converges to the fallback replicas while triggers fail")
		x.log.Info("fallback activated", "scaledObject", client.ObjectKeyFromObject(so).String())
		x.recordDecision(so, historyv1alpha1.Decision{Type: historyv1alpha1.DecisionFallbackOn, Trigger: failingTriggers(st), Message: "triggers failing: the HPA converges to the fallback replicas"})
	case !fallback && was:
		x.recorder.Eventf(so, nil, corev1.EventTypeNormal, kedav1alpha1.EventScaledObjectFallbackDeactivated, "Fallback", "Fallback deactivated: triggers recovered")
		x.log.Info("fallback deactivated", "scaledObject", client.ObjectKeyFromObject(so).String())
		x.recordDecision(so, historyv1alpha1.Decision{Type: historyv1alpha1.DecisionFallbackOff, Message: "triggers recovered"})
	}
}

// reportTriggerFailures emits one KEDAScalerFailed (KEDAMetricSourceFailed under scalingModifiers)
// event when a trigger starts failing, not one per failed poll: status.health carries the running
// count.
func (x *Executor) reportTriggerFailures(so *kedav1alpha1.ScaledObject, st engine.ObjectState) {
	for _, t := range st.Triggers {
		if t.MetricName == "" {
			continue
		}
		prev, ok := so.Status.Health[t.MetricName]
		wasFailing := ok && prev.Status == kedav1alpha1.HealthStatusFailing
		if t.Err == nil && wasFailing && t.Polled {
			x.recordDecision(so, historyv1alpha1.Decision{Type: historyv1alpha1.DecisionScalerRecovered, Trigger: triggerName(t), Message: "metric " + t.MetricName + " answers again"})
		}
		if t.Err == nil || wasFailing {
			continue
		}
		// KEDA names a failing trigger of a formula a metric source, and any other a scaler.
		reason := kedav1alpha1.EventKEDAScalerFailed
		if so.Spec.UsesScalingModifiers() {
			reason = kedav1alpha1.EventKEDAMetricSourceFailed
		}
		x.recorder.Eventf(so, nil, corev1.EventTypeWarning, reason, "Poll",
			"trigger %d (%s) metric %s: %v", t.Index, t.Type, t.MetricName, t.Err)
		x.recordDecision(so, historyv1alpha1.Decision{Type: historyv1alpha1.DecisionScalerError, Trigger: triggerName(t),
			Message: fmt.Sprintf("trigger %d (%s) metric %s: %v", t.Index, t.Type, t.MetricName, t.Err)})
		x.log.Info("trigger failing", "scaledObject", client.ObjectKeyFromObject(so).String(), "metric", t.MetricName, "error", t.Err.Error())
	}
}

// activity is whether so counts as active for activation and its Active condition: force-activation
// keeps the target active whatever the triggers say, and a served fallback counts as an active
// trigger, as in KEDA's scale loop (Active True, lastActiveTime kept fresh, so the cooldown starts
// when the trigger recovers).
func (x *Executor) activity(key types.NamespacedName, so *kedav1alpha1.ScaledObject, st *engine.ObjectState, fb FallbackState) bool {
	replicas, known := x.CurrentReplicas(key)
	return x.active(so, st, fb.Missing) || so.ForceActivation() || fb.ServedAt(replicas, known)
}

// Report is what evaluate would write into so's status from the triggers' samples now, Ready
// aside, when they have all been polled and answered. The reconciler writes it with Ready, so that
// a new object's status takes one write rather than two: its first poll is usually in while the
// reconciler's HPA write waits for the client's rate limiter, and evaluate then finds nothing to
// change. A failing trigger or a fallback is left to evaluate, whose events follow the status it
// changes.
func (x *Executor) Report(so *kedav1alpha1.ScaledObject) (func(*kedav1alpha1.ScaledObjectStatus), bool) {
	key := types.NamespacedName{Namespace: so.Namespace, Name: so.Name}
	st, ok := x.state.State(engine.ScaledObjectKey(key))
	if !ok || !st.Polled() || len(st.Triggers) == 0 || x.fenced(key) {
		return nil, false
	}
	for _, t := range st.Triggers {
		if t.Err != nil || !t.Polled {
			return nil, false
		}
	}
	fb := Fallback(&so.Spec, &st)
	if fb.InForce || fb.Failing {
		return nil, false
	}
	active := x.activity(key, so, &st, fb)
	lastActive := x.rememberActivity(key, so, active, x.clock.Now())
	return x.statusChanges(so, st, active, false, lastActive, nil), true
}

// rememberActivity updates and returns when key was last active, seeding it from status after a
// restart.
func (x *Executor) rememberActivity(key types.NamespacedName, so *kedav1alpha1.ScaledObject, active bool, now time.Time) time.Time {
	x.mu.Lock()
	defer x.mu.Unlock()
	if active {
		x.lastActive[key] = now
		return now
	}
	last, ok := x.lastActive[key]
	if !ok && so.Status.LastActiveTime != nil {
		last = so.Status.LastActiveTime.Time
		x.lastActive[key] = last
	}
	return last
}

// active is the activity of the object: the composite value against the activation target when
// scalingModifiers are set, else whether any trigger is active. missing names the triggers the
// formula reads as nil (fallback.behavior scalingModifiers); a formula that then gives nil is
// fallback.replicas x target, as the metrics server serves it.
func (x *Executor) active(so *kedav1alpha1.ScaledObject, st *engine.ObjectState, missing map[string]bool) bool {
	c, errs := x.formulas.Compile(so)
	if c == nil || len(errs) > 0 {
		return st.Active()
	}
	if len(missing) > 0 && so.Spec.Fallback != nil {
		v, null, err := c.EvaluateWithNil(st.NamedValues(), missing)
		if err != nil {
			x.log.Info("scalingModifiers formula not evaluated with the failing triggers as nil; inactive", "scaledObject", client.ObjectKeyFromObject(so).String(), "reason", err.Error())
			return false
		}
		if null {
			v = float64(so.Spec.Fallback.Replicas) * c.Target
		}
		return c.Active(v)
	}
	v, err := c.Evaluate(st.NamedValues())
	if err != nil {
		x.log.Info("scalingModifiers formula not evaluated; activity from the triggers", "scaledObject", client.ObjectKeyFromObject(so).String(), "reason", err.Error())
		return st.Active()
	}
	return c.Active(v)
}

// writeStatus writes the Active condition, Ready when a fresh decision set it (nil leaves it),
// lastActiveTime, health and triggersActivity when they changed. lastActiveTime is written when activity changes, not on every active poll: while Active
// is True it is "now", and once it turns False it holds the exact last active time.
func (x *Executor) writeStatus(ctx context.Context, so *kedav1alpha1.ScaledObject, st engine.ObjectState, active, fallback bool, lastActive time.Time, ready *kedav1alpha1.Condition) error {
	return status.Update(ctx, x.client, x.reader, so, x.statusChanges(so, st, active, fallback, lastActive, ready))
}

// statusChanges is writeStatus's change to a status (see there).
func (x *Executor) statusChanges(so *kedav1alpha1.ScaledObject, st engine.ObjectState, active, fallback bool, lastActive time.Time, ready *kedav1alpha1.Condition) func(*kedav1alpha1.ScaledObjectStatus) {
	return func(s *kedav1alpha1.ScaledObjectStatus) {
		if ready != nil {
			s.Conditions.Set(*ready)
		}
		wasActive := s.Conditions.IsTrue(kedav1alpha1.ConditionActive)
		cond := kedav1alpha1.Condition{Type: kedav1alpha1.ConditionActive, Status: metav1.ConditionFalse,
			Reason: kedav1alpha1.ReasonScalerNotActive, Message: "Scaling is not performed because triggers are not active"}
		if active {
			cond = kedav1alpha1.Condition{Type: kedav1alpha1.ConditionActive, Status: metav1.ConditionTrue,
				Reason: kedav1alpha1.ReasonScalerActive, Message: "Scaling is performed because triggers are active"}
		}
		s.Conditions.Set(cond)
		fb := kedav1alpha1.Condition{Type: kedav1alpha1.ConditionFallback, Status: metav1.ConditionFalse,
			Reason: kedav1alpha1.ReasonNoFallbackFound, Message: "No fallbacks are active on this scaled object"}
		if fallback {
			fb = kedav1alpha1.Condition{Type: kedav1alpha1.ConditionFallback, Status: metav1.ConditionTrue,
				Reason: kedav1alpha1.ReasonFallbackExists, Message: "At least one trigger is falling back on this scaled object"}
		}
		s.Conditions.Set(fb)
		if !lastActive.IsZero() && (wasActive != active || s.LastActiveTime == nil) {
			s.LastActiveTime = ptr.To(metav1.NewTime(lastActive))
		}
		key := types.NamespacedName{Namespace: so.Namespace, Name: so.Name}
		now := x.clock.Now()
		x.mu.Lock()
		sinceWrite := now.Sub(x.healthWritten[key])
		x.mu.Unlock()
		var threshold int32
		if so.Spec.Fallback != nil {
			threshold = so.Spec.Fallback.FailureThreshold
		}
		health := map[string]kedav1alpha1.HealthStatus{}
		activity := map[string]kedav1alpha1.TriggerActivityStatus{}
		for _, t := range st.Triggers {
			if t.MetricName == "" {
				continue
			}
			h := kedav1alpha1.HealthStatusHappy
			failures := t.ConsecutiveFailures
			if t.Err != nil {
				h = kedav1alpha1.HealthStatusFailing
				if prev, ok := s.Health[t.MetricName]; ok && prev.Status == h && prev.NumberOfFailures != nil {
					outage := time.Duration(failures) * time.Duration(so.Spec.PollingIntervalSeconds()) * time.Second
					failures = failuresToWrite(*prev.NumberOfFailures, failures, threshold, outage, sinceWrite)
				}
			}
			health[t.MetricName] = kedav1alpha1.HealthStatus{NumberOfFailures: ptr.To(failures), Status: h}
			activity[t.MetricName] = kedav1alpha1.TriggerActivityStatus{IsActive: t.Active}
		}
		if !equality.Semantic.DeepEqual(health, s.Health) {
			x.mu.Lock()
			x.healthWritten[key] = now
			x.mu.Unlock()
		}
		s.Health = health
		s.TriggersActivity = activity
	}
}

func activeTriggers(st engine.ObjectState) string {
	var names []string
	for _, t := range st.Triggers {
		if t.Active {
			name := t.Type + "Scaler"
			if t.Name != "" {
				name = t.Name
			}
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ";")
}

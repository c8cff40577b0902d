package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/kedactl/kedactl/scalers"
)

// Options configures an Engine. Zero values are replaced by defaults in setDefaults.
type Options struct {
	// Workers bounds how many polls run at once.
	Workers int
	// PollTimeout bounds one poll of one trigger.
	PollTimeout time.Duration
	// NewScaler builds a scaler from a trigger's config; scalers.New by default.
	NewScaler func(ctx context.Context, cfg *scalers.Config) (scalers.Scaler, error)
	// OnPolled is called, outside any lock, with each object whose triggers got a new sample.
	OnPolled func(key types.NamespacedName)
	// Observe is called, outside any lock, for every trigger a poll fed; nil ignores it.
	Observe func(o Observation)
	Clock   clock.WithTicker
	Log     logr.Logger
}

func (o *Options) setDefaults() {
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = 10 * time.Second
	}
	if o.NewScaler == nil {
		o.NewScaler = scalers.New
	}
	if o.OnPolled == nil {
		o.OnPolled = func(types.NamespacedName) {}
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
}

// Observation describes one trigger's share of one poll, for metrics.
type Observation struct {
	Key        types.NamespacedName
	Index      int
	Type       string
	MetricName string
	Value      float64
	Active     bool
	Err        error
	// Latency is how long the source took; Lateness how late the poll started against its schedule.
	Latency, Lateness time.Duration
}

// Engine is the single scheduler and cache of all triggers. It is a manager.Runnable.
type Engine struct {
	opts Options

	// regMu serialises Register and Unregister, so that a job looked up while building scalers
	// cannot be detached before it is attached again.
	regMu sync.Mutex

	mu      sync.Mutex
	objects map[types.NamespacedName]*object
	jobs    map[string]*pollJob
	queue   dueQueue
	stopped bool

	wake chan struct{}
	work chan *pollJob

	// runCtx is Start's context, set while the engine runs: push scalers' streams live in it.
	runCtx context.Context
	pushWG sync.WaitGroup
}

// object is one registered ScaledObject.
type object struct {
	key             types.NamespacedName
	pollingInterval time.Duration
	triggers        []*subscription
}

// subscription is one trigger of one object, fed by a (possibly shared) poll job.
type subscription struct {
	owner      *object
	index      int
	name       string
	typ        string
	metricName string
	shareKey   string
	job        *pollJob // nil when the trigger has no external metric to poll or failed to build
	sample     Sample
	specs      []autoscalingv2.MetricSpec
	buildErr   error
}

// pollJob polls one scaler's metric for every subscription that shares it.
type pollJob struct {
	shareKey   string
	scaler     scalers.Scaler
	metricName string
	interval   time.Duration
	subs       map[*subscription]struct{}
	// last is the latest sample, handed to a subscription that joins a job already polled.
	last Sample

	due       time.Time
	heapIndex int
	running   bool
	removed   bool
	// refresh asks for another poll as soon as the running one ends.
	refresh bool
	// stopPush ends the push stream of a scaler that can push; nil when none runs.
	stopPush context.CancelFunc
}

// New returns an Engine; call Start (or add it to a manager) to begin polling.
func New(opts Options) *Engine {
	opts.setDefaults()
	return &Engine{
		opts:    opts,
		objects: map[types.NamespacedName]*object{},
		jobs:    map[string]*pollJob{},
		wake:    make(chan struct{}, 1),
		work:    make(chan *pollJob),
	}
}

// Registration is what an object asks the engine to poll.
type Registration struct {
	PollingInterval time.Duration
	// Triggers are the resolved configs of spec.triggers, in order.
	Triggers []scalers.Config
}

// TriggerInfo is the outcome of registering one trigger.
type TriggerInfo struct {
	Index int
	Name  string
	Type  string
	// MetricSpecs are the HPA metric specs of the trigger, named for this object's trigger index.
	MetricSpecs []autoscalingv2.MetricSpec
	// Err is set when the scaler could not be built from the trigger's metadata.
	Err error
}

// Register sets the triggers of key, reusing the scalers of triggers whose resolved config did not
// change and closing those that went away. It returns the metric specs of every trigger.
func (e *Engine) Register(ctx context.Context, key types.NamespacedName, reg Registration) []TriggerInfo {
	if reg.PollingInterval <= 0 {
		reg.PollingInterval = 30 * time.Second
	}
	e.regMu.Lock()
	defer e.regMu.Unlock()
	shareKeys := make([]string, len(reg.Triggers))
	for i := range reg.Triggers {
		shareKeys[i] = shareKey(&reg.Triggers[i])
	}

	e.mu.Lock()
	obj := e.objects[key]
	if obj == nil {
		obj = &object{key: key}
		e.objects[key] = obj
	}
	obj.pollingInterval = reg.PollingInterval
	old := obj.triggers
	obj.triggers = make([]*subscription, len(reg.Triggers))
	kept := map[*subscription]bool{}
	for i := range reg.Triggers {
		if i < len(old) && old[i].shareKey == shareKeys[i] && old[i].name == reg.Triggers[i].TriggerName && old[i].buildErr == nil {
			obj.triggers[i] = old[i]
			kept[old[i]] = true
		}
	}
	var toClose []scalers.Scaler
	for _, sub := range old {
		if !kept[sub] {
			toClose = append(toClose, e.detachLocked(sub)...)
		}
	}
	// Scalers are built without the lock: building one may dial its source.
	var missing []int
	for i, sub := range obj.triggers {
		if sub == nil {
			missing = append(missing, i)
		}
	}
	e.mu.Unlock()
	closeAll(ctx, e.opts.Log, toClose)

	built := map[int]*subscription{}
	var unused []scalers.Scaler
	for _, i := range missing {
		cfg := reg.Triggers[i]
		sub := &subscription{owner: obj, index: i, name: cfg.TriggerName, typ: cfg.TriggerType, shareKey: shareKeys[i]}
		e.mu.Lock()
		job := e.jobs[shareKeys[i]]
		e.mu.Unlock()
		var scaler scalers.Scaler
		if job != nil {
			scaler = job.scaler
		} else {
			s, err := e.opts.NewScaler(ctx, &cfg)
			if err != nil {
				sub.buildErr = err
				built[i] = sub
				continue
			}
			scaler = s
		}
		sub.specs = renameSpecs(scaler.GetMetricSpecForScaling(ctx), i)
		sub.metricName = firstExternalMetric(sub.specs)
		built[i] = sub
		if job == nil {
			if sub.metricName == "" {
				// Nothing to poll (a Resource metric such as cpu): the HPA reads it itself.
				unused = append(unused, scaler)
				continue
			}
			sub.job = &pollJob{shareKey: shareKeys[i], scaler: scaler, metricName: sub.metricName, heapIndex: -1, subs: map[*subscription]struct{}{}}
		} else {
			sub.job = job
		}
	}

	e.mu.Lock()
	for i, sub := range built {
		if sub.job != nil {
			if existing := e.jobs[sub.shareKey]; existing != nil && existing != sub.job {
				// Another registration built the same scaler meanwhile: share theirs.
				unused = append(unused, sub.job.scaler)
				sub.job = existing
			}
			e.attachLocked(sub)
		}
		obj.triggers[i] = sub
	}
	infos := make([]TriggerInfo, len(obj.triggers))
	for i, sub := range obj.triggers {
		infos[i] = TriggerInfo{Index: i, Name: sub.name, Type: sub.typ, MetricSpecs: sub.specs, Err: sub.buildErr}
	}
	e.mu.Unlock()
	closeAll(ctx, e.opts.Log, unused)
	e.kick()
	return infos
}

// Unregister stops polling key's triggers and closes the scalers no other object shares.
func (e *Engine) Unregister(ctx context.Context, key types.NamespacedName) {
	e.regMu.Lock()
	defer e.regMu.Unlock()
	e.mu.Lock()
	obj := e.objects[key]
	delete(e.objects, key)
	var toClose []scalers.Scaler
	if obj != nil {
		for _, sub := range obj.triggers {
			toClose = append(toClose, e.detachLocked(sub)...)
		}
	}
	e.mu.Unlock()
	closeAll(ctx, e.opts.Log, toClose)
}

// Refresh asks for key's triggers to be polled now rather than at their next due time.
func (e *Engine) Refresh(key types.NamespacedName) {
	e.mu.Lock()
	if obj := e.objects[key]; obj != nil {
		now := e.opts.Clock.Now()
		for _, sub := range obj.triggers {
			if job := sub.job; job != nil {
				if job.running {
					job.refresh = true
				} else if !job.removed {
					e.queue.schedule(job, now)
				}
			}
		}
	}
	e.mu.Unlock()
	e.kick()
}

// State returns a copy of what the engine knows about key.
func (e *Engine) State(key types.NamespacedName) (ObjectState, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	obj := e.objects[key]
	if obj == nil {
		return ObjectState{}, false
	}
	st := ObjectState{Key: key, Triggers: make([]TriggerState, len(obj.triggers))}
	for i, sub := range obj.triggers {
		st.Triggers[i] = TriggerState{Index: sub.index, Name: sub.name, Type: sub.typ, MetricName: sub.metricName, Sample: sub.sample}
		for _, spec := range sub.specs {
			if spec.External != nil && spec.External.Metric.Name == sub.metricName {
				st.Triggers[i].Target = spec.External.Target
			}
		}
		if sub.buildErr != nil {
			st.Triggers[i].Err = sub.buildErr
			st.Triggers[i].Polled = true
		} else if sub.metricName == "" {
			// A cpu or memory trigger: the HPA reads it from metrics.k8s.io; there is nothing to
			// wait for before deciding activation.
			st.Triggers[i].Resource = true
			st.Triggers[i].Polled = true
		}
	}
	return st, true
}

// Keys returns the registered objects.
func (e *Engine) Keys() []types.NamespacedName {
	e.mu.Lock()
	defer e.mu.Unlock()
	keys := make([]types.NamespacedName, 0, len(e.objects))
	for k := range e.objects {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
}

// Start runs the scheduler and its workers until ctx ends, then closes every scaler.
func (e *Engine) Start(ctx context.Context) error {
	e.mu.Lock()
	e.runCtx = ctx
	for _, job := range e.jobs {
		e.startPushLocked(job)
	}
	e.mu.Unlock()
	var wg sync.WaitGroup
	for range e.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.worker(ctx)
		}()
	}
	e.dispatch(ctx)
	wg.Wait()

	e.mu.Lock()
	e.stopped = true
	e.mu.Unlock()
	// ctx has ended every push stream and stopped blocks new ones; wait for them before their
	// scalers are closed.
	e.pushWG.Wait()

	e.mu.Lock()
	var toClose []scalers.Scaler
	for _, job := range e.jobs {
		toClose = append(toClose, job.scaler)
	}
	e.jobs = map[string]*pollJob{}
	e.mu.Unlock()
	closeAll(context.Background(), e.opts.Log, toClose)
	return nil
}

// dispatch hands due jobs to the workers, sleeping until the next one is due.
func (e *Engine) dispatch(ctx context.Context) {
	for {
		e.mu.Lock()
		next := e.queue.peek()
		now := e.opts.Clock.Now()
		if next != nil && !next.due.After(now) {
			e.queue.remove(next)
			next.running = true
			e.mu.Unlock()
			select {
			case e.work <- next:
			case <-ctx.Done():
				return
			}
			continue
		}
		var timer clock.Timer
		var fire <-chan time.Time
		if next != nil {
			timer = e.opts.Clock.NewTimer(next.due.Sub(now))
			fire = timer.C()
		}
		e.mu.Unlock()
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case <-e.wake:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

func (e *Engine) worker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-e.work:
			e.poll(ctx, job)
		}
	}
}

// poll reads one job's metric, stores the sample in every subscription and reschedules the job.
func (e *Engine) poll(ctx context.Context, job *pollJob) {
	started := e.opts.Clock.Now()
	lateness := started.Sub(job.due)
	pollCtx, cancel := context.WithTimeout(ctx, e.opts.PollTimeout)
	values, active, err := job.scaler.GetMetricsAndActivity(pollCtx, job.metricName)
	cancel()
	latency := e.opts.Clock.Since(started)
	if err == nil && len(values) == 0 {
		err = fmt.Errorf("scaler returned no value for metric %s", job.metricName)
	}
	now := e.opts.Clock.Now()

	e.mu.Lock()
	job.running = false
	notify := make([]types.NamespacedName, 0, len(job.subs))
	last := &job.last
	last.Time, last.Polled, last.Err = now, true, err
	if err != nil {
		last.ConsecutiveFailures++
	} else {
		last.ConsecutiveFailures = 0
		last.Value = values[0].Value
		last.Active = active
	}
	var observations []Observation
	for sub := range job.subs {
		sub.sample = job.last
		notify = append(notify, sub.owner.key)
		if e.opts.Observe != nil {
			observations = append(observations, Observation{Key: sub.owner.key, Index: sub.index, Type: sub.typ, MetricName: sub.metricName,
				Value: job.last.Value.AsApproximateFloat64(), Active: job.last.Active, Err: err, Latency: latency, Lateness: lateness})
		}
	}
	if !job.removed && !e.stopped {
		due := now.Add(job.interval)
		if job.refresh {
			due = now
			job.refresh = false
		}
		e.queue.schedule(job, due)
	}
	e.mu.Unlock()
	if err != nil && !errors.Is(err, context.Canceled) {
		e.opts.Log.V(1).Info("trigger poll failed", "metric", job.metricName, "error", err.Error())
	}
	e.kick()
	for _, o := range observations {
		e.opts.Observe(o)
	}
	for _, key := range dedupe(notify) {
		e.opts.OnPolled(key)
	}
}

// attachLocked adds sub to its job, registering and scheduling the job if it is new.
func (e *Engine) attachLocked(sub *subscription) {
	job := sub.job
	if _, known := e.jobs[job.shareKey]; !known {
		e.jobs[job.shareKey] = job
		job.removed = false
		e.queue.schedule(job, e.opts.Clock.Now())
		e.startPushLocked(job)
	}
	job.subs[sub] = struct{}{}
	sub.sample = job.last
	e.recomputeIntervalLocked(job)
}

// detachLocked removes sub from its job and returns the job's scaler when nobody uses it any more.
func (e *Engine) detachLocked(sub *subscription) []scalers.Scaler {
	job := sub.job
	if job == nil {
		return nil
	}
	sub.job = nil
	delete(job.subs, sub)
	if len(job.subs) > 0 {
		e.recomputeIntervalLocked(job)
		return nil
	}
	job.removed = true
	if job.stopPush != nil {
		job.stopPush()
		job.stopPush = nil
	}
	e.queue.remove(job)
	if e.jobs[job.shareKey] == job {
		delete(e.jobs, job.shareKey)
	}
	return []scalers.Scaler{job.scaler}
}

// recomputeIntervalLocked polls a shared job as often as its most demanding subscriber asks.
func (e *Engine) recomputeIntervalLocked(job *pollJob) {
	var interval time.Duration
	for sub := range job.subs {
		if interval == 0 || sub.owner.pollingInterval < interval {
			interval = sub.owner.pollingInterval
		}
	}
	job.interval = interval
}

// startPushLocked runs the push stream of a job whose scaler can push, once the engine runs.
func (e *Engine) startPushLocked(job *pollJob) {
	ps, ok := job.scaler.(scalers.PushScaler)
	if !ok || e.runCtx == nil || job.stopPush != nil || e.stopped {
		return
	}
	ctx, cancel := context.WithCancel(e.runCtx)
	job.stopPush = cancel
	e.pushWG.Add(1)
	go func() {
		defer e.pushWG.Done()
		ps.Run(ctx, func(bool) { e.pushed(job) })
	}()
}

// pushed answers a push by polling the job now: the poll reads the value and the activity the
// source reports, and OnPolled lets activation act on them without waiting for the interval.
func (e *Engine) pushed(job *pollJob) {
	e.mu.Lock()
	switch {
	case job.removed || e.stopped:
	case job.running:
		job.refresh = true
	default:
		e.queue.schedule(job, e.opts.Clock.Now())
	}
	e.mu.Unlock()
	e.kick()
}

func (e *Engine) kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// shareKey identifies triggers that read the same thing from the same source: same type, same
// resolved parameters, same namespace. Index and name are deliberately left out.
func shareKey(cfg *scalers.Config) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	_ = enc.Encode([]any{cfg.TriggerType, cfg.ScalableObjectNamespace, cfg.MetricType, cfg.TriggerMetadata, cfg.AuthParams, cfg.ResolvedEnv})
	return hex.EncodeToString(h.Sum(nil))
}

// renameSpecs renames a (possibly shared) scaler's metric specs for trigger index i: metric names
// are s<index>-<rest> as KEDA names them.
func renameSpecs(specs []autoscalingv2.MetricSpec, index int) []autoscalingv2.MetricSpec {
	out := make([]autoscalingv2.MetricSpec, len(specs))
	for i, spec := range specs {
		spec = *spec.DeepCopy()
		if spec.External != nil {
			spec.External.Metric.Name = reindex(spec.External.Metric.Name, index)
		}
		out[i] = spec
	}
	return out
}

func reindex(name string, index int) string {
	if rest, ok := strings.CutPrefix(name, "s"); ok {
		if dash := strings.IndexByte(rest, '-'); dash > 0 {
			return fmt.Sprintf("s%d-%s", index, rest[dash+1:])
		}
	}
	return name
}

func firstExternalMetric(specs []autoscalingv2.MetricSpec) string {
	for _, spec := range specs {
		if spec.External != nil {
			return spec.External.Metric.Name
		}
	}
	return ""
}

func closeAll(ctx context.Context, log logr.Logger, list []scalers.Scaler) {
	for _, s := range list {
		if err := s.Close(ctx); err != nil {
			log.V(1).Info("closing scaler failed", "error", err.Error())
		}
	}
}

func dedupe(keys []types.NamespacedName) []types.NamespacedName {
	seen := map[types.NamespacedName]bool{}
	out := keys[:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

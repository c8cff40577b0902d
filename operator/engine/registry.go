package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/kedactl/kedactl/scalers"
)

// Registration is what an object asks the engine to poll.
type Registration struct {
	PollingInterval time.Duration
	// Triggers are the resolved configs of spec.triggers, in order.
	Triggers []scalers.Config
	// CachedMetrics is spec.triggers[].useCachedMetrics, in the same order (missing means false).
	CachedMetrics []bool
}

func (r *Registration) cached(i int) bool { return i < len(r.CachedMetrics) && r.CachedMetrics[i] }

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

// source is one scaler and the poll jobs of its External metrics, shared by every subscription
// whose trigger sends the source the same request (same share key).
type source struct {
	shareKey string
	scaler   scalers.Scaler
	specs    []autoscalingv2.MetricSpec
	jobs     []*pollJob
	subs     map[*subscription]struct{}
	// pending counts the Register calls that hold the source before attaching to it (waiting for
	// its build): the source is not closed while any does.
	pending int
	// built is closed when the build has ended; err is its error.
	built chan struct{}
	err   error
	// live is set once a subscription attached: its jobs are scheduled.
	live bool
	// interval is the shortest pollingInterval among the subscribers.
	interval time.Duration
	// stopPush ends the push stream of a scaler that can push; nil when none runs.
	stopPush context.CancelFunc
}

// objectLock serialises Register and Unregister of one object; other objects go on meanwhile.
type objectLock struct {
	sync.Mutex
	users int
}

func (e *Engine) lockObject(key Key) func() {
	e.mu.Lock()
	l := e.objLocks[key]
	if l == nil {
		l = &objectLock{}
		e.objLocks[key] = l
	}
	l.users++
	e.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		e.mu.Lock()
		if l.users--; l.users == 0 {
			delete(e.objLocks, key)
		}
		e.mu.Unlock()
	}
}

// Register sets the triggers of key, reusing the subscriptions of triggers whose share key did not
// change and releasing those that went away. Scalers are built outside every lock (building one
// may dial its source), one build per share key however many objects ask for it, and the object's
// complete new registration is swapped in at once. It returns the metric specs of every trigger.
func (e *Engine) Register(ctx context.Context, key Key, reg Registration) []TriggerInfo {
	if reg.PollingInterval <= 0 {
		reg.PollingInterval = 30 * time.Second
	}
	defer e.lockObject(key)()
	shareKeys := make([]string, len(reg.Triggers))
	for i := range reg.Triggers {
		shareKeys[i] = e.shareKey(&reg.Triggers[i])
	}

	next := make([]*subscription, len(reg.Triggers))
	acquired := make([]*source, len(reg.Triggers))
	var toBuild []int
	e.mu.Lock()
	var old []*subscription
	if obj := e.objects[key]; obj != nil {
		old = obj.triggers
	}
	for i := range reg.Triggers {
		cfg := &reg.Triggers[i]
		if i < len(old) && old[i].buildErr == nil && old[i].shareKey == shareKeys[i] && old[i].name == cfg.TriggerName && old[i].cached == reg.cached(i) {
			next[i] = old[i]
			continue
		}
		src := e.sources[shareKeys[i]]
		if src == nil {
			src = &source{shareKey: shareKeys[i], subs: map[*subscription]struct{}{}, built: make(chan struct{})}
			e.sources[shareKeys[i]] = src
			toBuild = append(toBuild, i)
		}
		src.pending++
		acquired[i] = src
	}
	e.mu.Unlock()

	for _, i := range toBuild {
		e.build(ctx, acquired[i], &reg.Triggers[i])
	}
	for _, src := range acquired {
		if src != nil {
			<-src.built // built by this call, or by another Register that asked first
		}
	}

	e.mu.Lock()
	obj := e.objects[key]
	if obj == nil {
		obj = &object{key: key}
		e.objects[key] = obj
	}
	for i, src := range acquired {
		if src == nil {
			continue
		}
		src.pending--
		cfg := &reg.Triggers[i]
		sub := &subscription{owner: obj, index: i, name: cfg.TriggerName, typ: cfg.TriggerType, shareKey: shareKeys[i], cached: reg.cached(i)}
		if src.err != nil {
			sub.buildErr = src.err
		} else {
			sub.src = src
			sub.specs = renameSpecs(src.specs, i)
			for k, spec := range externalSpecs(sub.specs) {
				sub.metrics = append(sub.metrics, metricRef{name: spec.Metric.Name, target: spec.Target, job: src.jobs[k]})
			}
		}
		next[i] = sub
	}
	obj.pollingInterval = reg.PollingInterval
	obj.triggers = next
	e.namesStale = true
	kept := make(map[*subscription]bool, len(next))
	for i, sub := range next {
		kept[sub] = true
		if acquired[i] != nil && sub.src != nil {
			e.attachLocked(sub)
		}
	}
	var toClose []scalers.Scaler
	for _, sub := range old {
		if !kept[sub] {
			toClose = append(toClose, e.detachLocked(sub)...)
		}
	}
	// A changed pollingInterval changes how often every source of the object is polled.
	for _, sub := range next {
		if sub.src != nil {
			e.recomputeIntervalLocked(sub.src)
		}
	}
	infos := make([]TriggerInfo, len(next))
	for i, sub := range next {
		infos[i] = TriggerInfo{Index: i, Name: sub.name, Type: sub.typ, MetricSpecs: sub.specs, Err: sub.buildErr}
	}
	e.mu.Unlock()
	closeAll(ctx, e.opts.Log, toClose)
	e.kick()
	return infos
}

// build makes src's scaler from cfg, outside any lock, and publishes the outcome. A failed build
// leaves the share key free, so that the next Register tries again.
func (e *Engine) build(ctx context.Context, src *source, cfg *scalers.Config) {
	if cfg.Clients == nil && e.opts.Clients != nil {
		withPool := *cfg
		withPool.Clients = e.opts.Clients
		cfg = &withPool
	}
	scaler, err := newScalerSafely(ctx, e.opts.NewScaler, cfg)
	var specs []autoscalingv2.MetricSpec
	if err == nil {
		specs, err = metricSpecsSafely(ctx, scaler)
		if err != nil {
			closeAll(ctx, e.opts.Log, []scalers.Scaler{scaler})
			scaler = nil
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	defer close(src.built)
	if err != nil {
		src.err = err
		if e.sources[src.shareKey] == src {
			delete(e.sources, src.shareKey)
		}
		return
	}
	src.scaler, src.specs = scaler, specs
	for _, spec := range externalSpecs(specs) {
		src.jobs = append(src.jobs, &pollJob{src: src, pos: len(src.jobs), metricName: spec.Metric.Name, heapIndex: -1})
	}
}

// Unregister stops polling key's triggers and closes the scalers no other object shares; it
// reports whether key was registered.
func (e *Engine) Unregister(ctx context.Context, key Key) (registered bool) {
	defer e.lockObject(key)()
	e.mu.Lock()
	obj := e.objects[key]
	delete(e.objects, key)
	e.namesStale = true
	var toClose []scalers.Scaler
	if obj != nil {
		for _, sub := range obj.triggers {
			toClose = append(toClose, e.detachLocked(sub)...)
		}
	}
	e.mu.Unlock()
	closeAll(ctx, e.opts.Log, toClose)
	return obj != nil
}

// attachLocked adds sub to its source, scheduling the source's jobs if it was not polled yet.
func (e *Engine) attachLocked(sub *subscription) {
	src := sub.src
	src.subs[sub] = struct{}{}
	if src.live {
		return
	}
	src.live = true
	e.recomputeIntervalLocked(src)
	now := e.opts.Clock.Now()
	for _, job := range src.jobs {
		job.removed = false
		e.queue.schedule(job, now)
	}
	e.startPushLocked(src)
}

// detachLocked removes sub from its source and returns the source's scaler when nobody uses it any
// more.
func (e *Engine) detachLocked(sub *subscription) []scalers.Scaler {
	src := sub.src
	if src == nil {
		return nil
	}
	delete(src.subs, sub)
	if len(src.subs) > 0 || src.pending > 0 {
		e.recomputeIntervalLocked(src)
		return nil
	}
	for _, job := range src.jobs {
		job.removed = true
		e.queue.remove(job)
	}
	if src.stopPush != nil {
		src.stopPush()
		src.stopPush = nil
	}
	src.live = false
	if e.sources[src.shareKey] == src {
		delete(e.sources, src.shareKey)
	}
	return []scalers.Scaler{src.scaler}
}

// recomputeIntervalLocked polls a shared source as often as its most demanding subscriber asks,
// and moves a job whose next poll is now too far away.
func (e *Engine) recomputeIntervalLocked(src *source) {
	var interval time.Duration
	for sub := range src.subs {
		if interval == 0 || sub.owner.pollingInterval < interval {
			interval = sub.owner.pollingInterval
		}
	}
	if interval == 0 || interval == src.interval {
		return
	}
	shorter := src.interval == 0 || interval < src.interval
	src.interval = interval
	if !shorter {
		return
	}
	latest := e.opts.Clock.Now().Add(interval)
	for _, job := range src.jobs {
		if job.heapIndex >= 0 && job.due.After(latest) {
			e.queue.schedule(job, latest)
		}
	}
}

func externalSpecs(specs []autoscalingv2.MetricSpec) []*autoscalingv2.ExternalMetricSource {
	var out []*autoscalingv2.ExternalMetricSource
	for _, spec := range specs {
		if spec.External != nil {
			out = append(out, spec.External)
		}
	}
	return out
}

// newScalerSafely builds a scaler; a constructor that panics on odd metadata is a build error.
func newScalerSafely(ctx context.Context, build func(context.Context, *scalers.Config) (scalers.Scaler, error), cfg *scalers.Config) (s scalers.Scaler, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("trigger %d (%s): building the scaler panicked: %v", cfg.TriggerIndex, cfg.TriggerType, r)
		}
	}()
	return build(ctx, cfg)
}

func metricSpecsSafely(ctx context.Context, s scalers.Scaler) (specs []autoscalingv2.MetricSpec, err error) {
	defer func() {
		if r := recover(); r != nil {
			specs, err = nil, fmt.Errorf("reading the scaler's metric specs panicked: %v", r)
		}
	}()
	return s.GetMetricSpecForScaling(ctx), nil
}

func closeScaler(ctx context.Context, s scalers.Scaler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("closing the scaler panicked: %v", r)
		}
	}()
	return s.Close(ctx)
}

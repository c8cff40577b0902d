package engine

import (
	"context"
	"crypto/rand"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
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
	// Clients is given to every trigger whose Config has none, so that triggers on one source
	// share its connection; nil shares nothing.
	Clients *scalers.ClientPool
	// OnPolled is called, outside any lock, with each object whose triggers got a new sample.
	OnPolled func(key Key)
	// Observe is called, outside any lock, for every trigger a poll fed; nil ignores it.
	Observe func(o Observation)
	// ObserveRequest is told of each HTTP request a poll makes (KEDA's keda_scaler_http_*
	// series), counted under one of the objects the polled source serves; nil ignores them.
	ObserveRequest func(r scalers.Request, took time.Duration, code int, err error)
	// ObserveEmptyResponse is told when a poll's source answered with no value (KEDA's
	// keda_scaler_empty_upstream_responses_total); nil ignores it.
	ObserveEmptyResponse func(r scalers.Request, ignoreNullValues bool)
	Clock                clock.WithTicker
	Log                  logr.Logger
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
		o.OnPolled = func(Key) {}
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
}

// Observation describes one trigger's share of one poll, for metrics.
type Observation struct {
	Key        Key
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
//
// Its parts: the registry (registry.go) builds scalers outside any lock, one build per share key,
// and swaps an object's complete registration in at once; the share key (sharekey.go) says which
// triggers send their source the same request; the scheduler (this file and schedule.go) hands due
// polls to a bounded pool of workers; poll.go reads a source (scheduled or on an HPA request); push.go
// runs the streams of scalers that can push.
type Engine struct {
	opts Options
	// shareSecret keys the share-key HMAC, so that a share key (which covers credentials) reveals
	// nothing about them and cannot be checked against a guess outside this process.
	shareSecret []byte

	mu       sync.Mutex
	objects  map[Key]*object
	sources  map[string]*source
	objLocks map[Key]*objectLock
	queue    dueQueue
	stopped  bool
	// seq numbers samples, so that a reader can tell a new sample from one it has seen.
	seq uint64
	// metricNames is MetricNames' answer, kept until a registration changes (namesStale): the
	// metrics API's discovery asks for it, and at 10,000 objects building it on each request held
	// the lock every metric request needs for tens of milliseconds.
	metricNames []string
	namesStale  bool

	wake chan struct{}
	work chan *pollJob

	// runCtx is Start's context, set while the engine runs: push streams and read-through polls
	// live in it.
	runCtx context.Context
	pushWG sync.WaitGroup
}

// object is one registered ScaledObject.
type object struct {
	key             Key
	pollingInterval time.Duration
	// triggers is replaced whole by Register: readers never see a half-built registration.
	triggers []*subscription
}

// subscription is one trigger of one object, fed by a (possibly shared) source.
type subscription struct {
	owner    *object
	index    int
	name     string
	typ      string
	shareKey string
	// cached is spec.triggers[].useCachedMetrics: the HPA is answered from the last poll.
	cached bool
	// src is nil when the scaler could not be built.
	src *source
	// specs are the source's metric specs named for this trigger's index.
	specs []autoscalingv2.MetricSpec
	// metrics are the External metrics of specs, in the order of src.jobs.
	metrics  []metricRef
	buildErr error
}

// metricRef is one External metric of a subscription and the job that polls it.
type metricRef struct {
	name   string
	target autoscalingv2.MetricTarget
	job    *pollJob
}

// New returns an Engine; call Start (or add it to a manager) to begin polling.
func New(opts Options) *Engine {
	opts.setDefaults()
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	return &Engine{
		opts:        opts,
		shareSecret: secret,
		objects:     map[Key]*object{},
		sources:     map[string]*source{},
		objLocks:    map[Key]*objectLock{},
		wake:        make(chan struct{}, 1),
		work:        make(chan *pollJob),
	}
}

// Refresh asks for key's triggers to be polled now rather than at their next due time.
func (e *Engine) Refresh(key Key) {
	e.mu.Lock()
	if obj := e.objects[key]; obj != nil {
		for _, sub := range obj.triggers {
			for _, m := range sub.metrics {
				e.pollSoonLocked(m.job)
			}
		}
	}
	e.mu.Unlock()
	e.kick()
}

// pollSoonLocked schedules job now, or once more as soon as its running poll ends.
func (e *Engine) pollSoonLocked(job *pollJob) {
	switch {
	case job.removed || e.stopped:
	case job.running:
		job.refresh = true
	default:
		e.queue.schedule(job, e.opts.Clock.Now())
	}
}

// State returns a copy of what the engine knows about key. A trigger with several External metrics
// (an external scaler may name more than one) has one TriggerState per metric.
func (e *Engine) State(key Key) (ObjectState, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	obj := e.objects[key]
	if obj == nil {
		return ObjectState{}, false
	}
	st := ObjectState{Key: key, Triggers: make([]TriggerState, 0, len(obj.triggers))}
	for _, sub := range obj.triggers {
		base := TriggerState{Index: sub.index, Name: sub.name, Type: sub.typ, UseCachedMetrics: sub.cached}
		switch {
		case sub.buildErr != nil:
			base.Err = sub.buildErr
			base.Polled = true
			st.Triggers = append(st.Triggers, base)
		case len(sub.metrics) == 0:
			// A cpu or memory trigger: the HPA reads it from metrics.k8s.io; there is nothing to
			// wait for before deciding activation.
			base.Resource = true
			base.Polled = true
			st.Triggers = append(st.Triggers, base)
		default:
			for _, m := range sub.metrics {
				t := base
				t.MetricName, t.Target, t.Sample = m.name, m.target, m.job.last
				st.Triggers = append(st.Triggers, t)
			}
		}
	}
	return st, true
}

// Keys returns the registered objects.
// MetricNames lists, sorted, the distinct external metric names of the registered ScaledObjects'
// triggers (what the HPA may ask for; a ScaledJob's are read by the operator itself).
func (e *Engine) MetricNames() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.metricNames == nil || e.namesStale {
		seen := map[string]bool{}
		names := []string{}
		for key, obj := range e.objects {
			if key.Kind != KindScaledObject {
				continue
			}
			for _, sub := range obj.triggers {
				for _, m := range sub.metrics {
					if m.name != "" && !seen[m.name] {
						seen[m.name] = true
						names = append(names, m.name)
					}
				}
			}
		}
		sort.Strings(names)
		e.metricNames, e.namesStale = names, false
	}
	return slices.Clone(e.metricNames)
}

func (e *Engine) Keys() []Key {
	e.mu.Lock()
	defer e.mu.Unlock()
	keys := make([]Key, 0, len(e.objects))
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
	for _, src := range e.sources {
		if src.live {
			e.startPushLocked(src)
		}
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
	for _, src := range e.sources {
		if src.scaler != nil {
			toClose = append(toClose, src.scaler)
		}
	}
	e.sources = map[string]*source{}
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
			next.begin()
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

func (e *Engine) kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func closeAll(ctx context.Context, log logr.Logger, list []scalers.Scaler) {
	for _, s := range list {
		if err := closeScaler(ctx, s); err != nil {
			log.V(1).Info("closing scaler failed", "error", err.Error())
		}
	}
}

func dedupe(keys []Key) []Key {
	seen := map[Key]bool{}
	out := keys[:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
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
			return "s" + strconv.Itoa(index) + "-" + rest[dash+1:]
		}
	}
	return name
}

package cloudevents

import (
	"context"
	"sync"
	"time"

	"github.com/go-logr/logr"

	eventingv1alpha1 "github.com/kedactl/kedactl/api/eventing/v1alpha1"
)

// Key names a source: Namespace is empty for a ClusterCloudEventSource.
type Key struct{ Namespace, Name string }

// Cluster reports whether the key is a ClusterCloudEventSource's.
func (k Key) Cluster() bool { return k.Namespace == "" }

// String is kind/namespace/name, for logs.
func (k Key) String() string {
	if k.Cluster() {
		return "ClusterCloudEventSource/" + k.Name
	}
	return "CloudEventSource/" + k.Namespace + "/" + k.Name
}

// Config is what a source delivers, where to, and as which cluster.
type Config struct {
	Sink         Sink
	Subscription eventingv1alpha1.EventSubscription
	// ClusterName is the source's spec.clusterName, or the operator's when that is empty.
	ClusterName string
}

// Metrics counts deliveries (operator/observability.Metrics).
type Metrics interface {
	CloudEventSent(namespace, source, sink string, delivered bool)
	CloudEventsQueued(namespace string, n int)
}

// Options configures a Dispatcher; zero values get defaults in setDefaults.
type Options struct {
	// OperatorNamespace goes into each event's source attribute (KEDA's "keda" by default).
	OperatorNamespace string
	// QueueSize bounds the events waiting for each source (KEDA's 1024 by default). When a
	// source's queue is full, new events for it are dropped and counted as failed.
	QueueSize int
	Retry     Retry
	Metrics   Metrics
	// OnState is told when a source's delivery state changes: active when an event is delivered
	// after one was given up, failed (with why) when one is given up. It must not block for long.
	OnState func(key Key, active bool, why string)
	Log     logr.Logger
}

func (o *Options) setDefaults() {
	if o.OperatorNamespace == "" {
		o.OperatorNamespace = "keda"
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 1024
	}
	if o.Retry == (Retry{}) {
		o.Retry = DefaultRetry
	}
	if o.OnState == nil {
		o.OnState = func(Key, bool, string) {}
	}
	if o.Metrics == nil {
		o.Metrics = noMetrics{}
	}
}

type noMetrics struct{}

func (noMetrics) CloudEventSent(string, string, string, bool) {}
func (noMetrics) CloudEventsQueued(string, int)               {}

// Dispatcher holds the registered sources, each with its queue and one worker delivering in order.
type Dispatcher struct {
	opts Options

	mu      sync.RWMutex
	sources map[Key]*source
}

type source struct {
	key    Key
	cfg    Config
	queue  chan Event
	cancel context.CancelFunc
	done   chan struct{}
	// failed is whether the last event was given up; only the worker reads and writes it. A new
	// source starts active (its controller says so when it registers it).
	failed bool
}

// NewDispatcher creates a Dispatcher with no sources.
func NewDispatcher(opts Options) *Dispatcher {
	opts.setDefaults()
	return &Dispatcher{opts: opts, sources: map[Key]*source{}}
}

// Start runs until ctx ends, then stops every source (a manager.Runnable).
func (d *Dispatcher) Start(ctx context.Context) error {
	<-ctx.Done()
	d.mu.Lock()
	keys := make([]Key, 0, len(d.sources))
	for k := range d.sources {
		keys = append(keys, k)
	}
	d.mu.Unlock()
	for _, k := range keys {
		d.Remove(k)
	}
	return nil
}

// NeedLeaderElection is false: a dispatcher only forwards what the leader's controllers record.
func (d *Dispatcher) NeedLeaderElection() bool { return false }

// Set registers a source, or replaces its configuration; events still queued for the old one are
// dropped with it (its destination or credentials changed).
func (d *Dispatcher) Set(key Key, cfg Config) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &source{key: key, cfg: cfg, queue: make(chan Event, d.opts.QueueSize), cancel: cancel, done: make(chan struct{})}
	d.mu.Lock()
	old := d.sources[key]
	d.sources[key] = s
	d.mu.Unlock()
	if old != nil {
		old.stop()
	}
	go d.work(ctx, s)
}

// Remove unregisters a source and waits for its worker to stop.
func (d *Dispatcher) Remove(key Key) {
	d.mu.Lock()
	s := d.sources[key]
	delete(d.sources, key)
	d.mu.Unlock()
	if s != nil {
		s.stop()
		d.opts.Metrics.CloudEventsQueued(key.Namespace, 0)
	}
}

func (s *source) stop() {
	s.cancel()
	<-s.done
}

// Has reports whether a source is registered.
func (d *Dispatcher) Has(key Key) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.sources[key] != nil
}

// Emit queues e for every source that wants it and returns at once: a full queue drops the event
// for that source (counted as failed) rather than wait.
func (d *Dispatcher) Emit(e Event) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, s := range d.sources {
		if !Receives(s.key, s.cfg.Subscription, e) {
			continue
		}
		select {
		case s.queue <- e:
			d.opts.Metrics.CloudEventsQueued(s.key.Namespace, len(s.queue))
		default:
			d.opts.Metrics.CloudEventSent(e.Namespace, s.key.Name, s.cfg.Sink.Name(), false)
			d.opts.Log.Info("CloudEvent dropped: the queue of its source is full", "source", s.key.String(), "type", e.Type, "object", e.Namespace+"/"+e.Name)
		}
	}
}

// Receives says whether a source gets an event: a CloudEventSource those of objects in its own
// namespace, a ClusterCloudEventSource those of every namespace and of ClusterTriggerAuthentications;
// either only the types its subscription keeps.
func Receives(key Key, sub eventingv1alpha1.EventSubscription, e Event) bool {
	if !key.Cluster() && key.Namespace != e.Namespace {
		return false
	}
	return sub.Wants(e.Type)
}

// work delivers a source's events one at a time, in order, until ctx ends.
func (d *Dispatcher) work(ctx context.Context, s *source) {
	defer close(s.done)
	log := d.opts.Log.WithValues("source", s.key.String(), "sink", s.cfg.Sink.Name())
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-s.queue:
			d.opts.Metrics.CloudEventsQueued(s.key.Namespace, len(s.queue))
			d.deliver(ctx, log, s, e)
		}
	}
}

// deliver sends one event, retrying with back-off, and reports the source's state.
func (d *Dispatcher) deliver(ctx context.Context, log logr.Logger, s *source, e Event) {
	ev, err := Build(e, s.cfg.ClusterName, d.opts.OperatorNamespace)
	if err != nil {
		log.Error(err, "CloudEvent not sent")
		return
	}
	for attempt := 0; ; attempt++ {
		err := s.cfg.Sink.Send(ctx, ev)
		d.opts.Metrics.CloudEventSent(e.Namespace, s.key.Name, s.cfg.Sink.Name(), err == nil)
		if err == nil {
			log.V(1).Info("CloudEvent delivered", "type", e.Type, "subject", ev.Subject(), "attempt", attempt+1)
			if s.failed {
				s.failed = false
				d.opts.OnState(s.key, true, "")
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		if !Retryable(err) || attempt >= d.opts.Retry.Retries {
			log.Info("CloudEvent dropped: its destination did not take it", "type", e.Type, "subject", ev.Subject(), "attempts", attempt+1, "error", err.Error())
			s.failed = true
			d.opts.OnState(s.key, false, err.Error())
			return
		}
		wait := d.opts.Retry.Wait(attempt + 1)
		log.V(1).Info("CloudEvent not delivered, retrying", "type", e.Type, "attempt", attempt+1, "wait", wait.String(), "error", err.Error())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Package history keeps a bounded recent history per ScaledObject and ScaledJob: the triggers'
// readings at each evaluation and the scaling decisions, each with its time. It answers "what
// happened to this workload, and because of which trigger" for `kubectl keda timeline`, which
// reads it through the history.kedactl.dev API (see operator/historyapi).
//
// Memory is bounded: each object holds two fixed-size rings (samples, decisions), and an object's
// rings go when the object is deleted (Forget).
package history

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
)

// Kind says which kind of object a Key names.
type Kind int

// The kinds a Store keeps.
const (
	ScaledObject Kind = iota
	ScaledJob
)

// Key names one object.
type Key struct {
	Kind Kind
	types.NamespacedName
}

// ScaledObjectKey and ScaledJobKey build keys.
func ScaledObjectKey(nn types.NamespacedName) Key { return Key{Kind: ScaledObject, NamespacedName: nn} }
func ScaledJobKey(nn types.NamespacedName) Key    { return Key{Kind: ScaledJob, NamespacedName: nn} }

// Default ring sizes: with a 30 s polling interval the samples cover three hours, at 1 s six
// minutes; decisions are rarer and outlive many samples.
const (
	DefaultSamples   = 360
	DefaultDecisions = 100
)

// Options configures a Store; zero values take the defaults.
type Options struct {
	Samples   int
	Decisions int
	// Clock stamps decisions recorded without a time; default the real clock.
	Clock clock.PassiveClock
}

// Store is safe for concurrent use. A nil *Store records nothing, so components built without one
// (in unit tests) need no checks.
type Store struct {
	opts    Options
	mu      sync.Mutex
	objects map[Key]*record
}

type record struct {
	since     time.Time
	samples   ring[historyv1alpha1.Sample]
	decisions ring[historyv1alpha1.Decision]
	// generation is the spec generation last observed; 0 before the first.
	generation int64
	// lastActive names the triggers active in the newest sample that had any: a deactivation is
	// due to them going inactive.
	lastActive string
}

// New returns an empty Store.
func New(opts Options) *Store {
	if opts.Samples <= 0 {
		opts.Samples = DefaultSamples
	}
	if opts.Decisions <= 0 {
		opts.Decisions = DefaultDecisions
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &Store{opts: opts, objects: map[Key]*record{}}
}

func (s *Store) recordOf(key Key, at time.Time) *record {
	r, ok := s.objects[key]
	if !ok {
		r = &record{since: at, samples: newRing[historyv1alpha1.Sample](s.opts.Samples), decisions: newRing[historyv1alpha1.Decision](s.opts.Decisions)}
		s.objects[key] = r
	}
	return r
}

// Sample records the triggers' readings at one evaluation.
func (s *Store) Sample(key Key, sample historyv1alpha1.Sample) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.recordOf(key, sample.Time.Time)
	if last := r.samples.newest(); last != nil && sameReadings(last, &sample) {
		// A run of equal samples is kept once: 360 samples an object would be over a gigabyte
		// at 10,000 idle objects.
		t := sample.Time
		last.LastTime = &t
	} else {
		r.samples.push(sample)
	}
	if names := ActiveTriggers(sample.Triggers); names != "" {
		r.lastActive = names
	}
}

// Decide records a decision; one without a time is stamped now. A deactivation that names no
// trigger is attributed to the triggers that were active last.
func (s *Store) Decide(key Key, d historyv1alpha1.Decision) {
	if s == nil {
		return
	}
	if d.Time.IsZero() {
		d.Time = metav1.NewTime(s.opts.Clock.Now())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.recordOf(key, d.Time.Time)
	if d.Type == historyv1alpha1.DecisionDeactivated && d.Trigger == "" {
		d.Trigger = r.lastActive
	}
	r.decisions.push(d)
}

// ObserveGeneration records a ConfigChanged decision when key's spec generation differs from the
// one last observed. The first generation observed (at creation, or after the operator started)
// records nothing: whether it changed is not known.
func (s *Store) ObserveGeneration(key Key, generation int64) {
	if s == nil {
		return
	}
	now := s.opts.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.recordOf(key, now)
	prev := r.generation
	if prev == generation {
		return
	}
	r.generation = generation
	if prev == 0 {
		return
	}
	r.decisions.push(historyv1alpha1.Decision{Time: metav1.NewTime(now), Type: historyv1alpha1.DecisionConfigChanged, Generation: generation,
		Message: fmt.Sprintf("spec changed: generation %d -> %d", prev, generation)})
}

// Forget drops a deleted object's history.
func (s *Store) Forget(key Key) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, key)
}

// History returns a copy of key's history, oldest first; false when the operator has recorded
// nothing for it.
func (s *Store) History(key Key) (historyv1alpha1.History, bool) {
	if s == nil {
		return historyv1alpha1.History{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.objects[key]
	if !ok {
		return historyv1alpha1.History{}, false
	}
	h := historyv1alpha1.History{
		Since:            metav1.NewTime(r.since),
		SampleCapacity:   int32(s.opts.Samples),
		DecisionCapacity: int32(s.opts.Decisions),
		Samples:          r.samples.items(),
		Decisions:        r.decisions.items(),
	}
	// The rings hold values whose pointers and slices are never written after push, but callers
	// may: hand them copies.
	for i := range h.Samples {
		h.Samples[i] = *h.Samples[i].DeepCopy()
	}
	for i := range h.Decisions {
		h.Decisions[i] = *h.Decisions[i].DeepCopy()
	}
	return h, true
}

// Len is how many objects have a history, for tests and metrics.
func (s *Store) Len() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objects)
}

// ActiveTriggers names the active triggers of a sample, sorted and separated by ";": a trigger's
// name, else its type with "Scaler" appended, as the operator's activation events name them.
func ActiveTriggers(readings []historyv1alpha1.TriggerReading) string {
	var names []string
	for _, t := range readings {
		if !t.Active {
			continue
		}
		name := t.Name
		if name == "" {
			name = t.Type + "Scaler"
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ";")
}

// sameReadings reports whether two samples read the same, their times aside.
func sameReadings(a, b *historyv1alpha1.Sample) bool {
	if !sameInt32(a.Replicas, b.Replicas) || !sameInt32(a.DesiredReplicas, b.DesiredReplicas) || len(a.Triggers) != len(b.Triggers) {
		return false
	}
	for i := range a.Triggers {
		x, y := &a.Triggers[i], &b.Triggers[i]
		if x.Index != y.Index || x.Name != y.Name || x.Type != y.Type || x.MetricName != y.MetricName || x.TargetType != y.TargetType ||
			x.Activation != y.Activation || x.Active != y.Active || x.Error != y.Error ||
			!sameQuantity(x.Value, y.Value) || !sameQuantity(x.Target, y.Target) {
			return false
		}
	}
	return true
}

func sameInt32(a, b *int32) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

func sameQuantity(a, b *resource.Quantity) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Cmp(*b) == 0
}

// ring is a fixed-capacity FIFO that overwrites its oldest entry when full.
type ring[T any] struct {
	buf  []T
	next int
	size int
}

func newRing[T any](size int) ring[T] { return ring[T]{size: size} }

func (r *ring[T]) push(v T) {
	// The buffer grows to size on demand, so objects with a short history hold little, and never
	// beyond it (append alone would round the capacity up).
	if len(r.buf) < r.size {
		if len(r.buf) == cap(r.buf) {
			grown := make([]T, len(r.buf), min(max(2*cap(r.buf), 1), r.size))
			copy(grown, r.buf)
			r.buf = grown
		}
		r.buf = append(r.buf, v)
		return
	}
	r.buf[r.next] = v
	r.next = (r.next + 1) % r.size
}

// items returns the entries oldest first, in a new slice.
// newest is the last value pushed, nil when none; the caller may change it in place.
func (r *ring[T]) newest() *T {
	switch {
	case len(r.buf) == 0:
		return nil
	case len(r.buf) < r.size:
		return &r.buf[len(r.buf)-1]
	default:
		return &r.buf[(r.next+len(r.buf)-1)%len(r.buf)]
	}
}

func (r *ring[T]) items() []T {
	out := make([]T, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	return append(out, r.buf[:r.next]...)
}

// Package samples keeps what the TUI's chart draws: timestamped readings of an object's triggers
// and replicas, and the events that happened meanwhile, in a bounded ring per object. The TUI
// records a sample each time it reads the list; a Source (the operator's history, once it serves
// one) can seed the ring with what happened before the TUI started.
package samples

import (
	"context"
	"sort"
	"time"
)

// Trigger is one trigger's reading in a sample. HasValue is false when the value could not be read
// (no HPA reading and no external metrics answer yet), so the chart leaves a gap rather than a 0.
type Trigger struct {
	Metric     string
	Value      float64
	HasValue   bool
	Target     float64
	Activation float64
	Active     bool
}

// Sample is what an object looked like at one time.
type Sample struct {
	At       time.Time
	Triggers []Trigger
	// Current and Desired are the HPA's replicas; HasReplicas is false without an HPA.
	Current, Desired int32
	HasReplicas      bool
}

// same reports whether s reads as o, time aside: a ring keeps one sample for a run of equal ones.
func (s Sample) same(o Sample) bool {
	if s.Current != o.Current || s.Desired != o.Desired || s.HasReplicas != o.HasReplicas || len(s.Triggers) != len(o.Triggers) {
		return false
	}
	for i := range s.Triggers {
		if s.Triggers[i] != o.Triggers[i] {
			return false
		}
	}
	return true
}

// Event is something that happened to the object, its HPA or its target, shown as a marker.
type Event struct {
	At      time.Time
	Type    string // Normal or Warning
	Reason  string
	Message string
}

// History is what a Source knows of one object.
type History struct {
	Samples []Sample
	Events  []Event
	// Replica is the operator replica that recorded the history (with HA, the one that owns the
	// object); empty when the source does not say.
	Replica string
}

// Source is a history kept outside the TUI, such as the operator's. The TUI seeds its rings from it
// when a detail view opens; without one it has only what it recorded itself.
type Source interface {
	History(ctx context.Context, kind, namespace, name string, since time.Time) (History, error)
}

// Ring is a bounded, time-ordered series of samples: the newest capacity are kept, and a run of
// equal samples is kept as its first (the chart holds a value until the next sample), with last
// the time the run was last seen.
type Ring struct {
	buf      []Sample
	capacity int
	start    int
	last     time.Time
}

// NewRing returns an empty ring of capacity samples. It grows as samples come, so that the many
// objects whose readings never change cost one sample each.
func NewRing(capacity int) *Ring {
	return &Ring{capacity: max(capacity, 1)}
}

// Add records s; samples older than the newest are ignored (the list is read in order).
func (r *Ring) Add(s Sample) {
	if n := r.Len(); n > 0 {
		if s.At.Before(r.last) {
			return
		}
		if r.at(n - 1).same(s) {
			r.last = s.At
			return
		}
	}
	r.last = s.At
	if len(r.buf) < r.capacity {
		r.buf = append(r.buf, s)
		return
	}
	r.buf[r.start] = s
	r.start = (r.start + 1) % len(r.buf)
}

// Seed puts older samples, from a Source, before the ring's own: those at or after the ring's
// oldest are dropped, and the newest capacity of the whole are kept.
func (r *Ring) Seed(older []Sample) {
	own := r.Samples()
	var first time.Time
	if len(own) > 0 {
		first = own[0].At
	}
	merged := make([]Sample, 0, len(older)+len(own))
	for _, s := range older {
		if first.IsZero() || s.At.Before(first) {
			merged = append(merged, s)
		}
	}
	sort.SliceStable(merged, func(i, j int) bool { return merged[i].At.Before(merged[j].At) })
	merged = append(merged, own...)
	if over := len(merged) - r.capacity; over > 0 {
		merged = merged[over:]
	}
	r.buf, r.start = append(r.buf[:0], merged...), 0
	if len(merged) > 0 && r.last.Before(merged[len(merged)-1].At) {
		r.last = merged[len(merged)-1].At
	}
}

// Len is how many samples the ring holds.
func (r *Ring) Len() int { return len(r.buf) }

func (r *Ring) at(i int) Sample { return r.buf[(r.start+i)%len(r.buf)] }

// Samples returns the samples oldest first, in a new slice.
func (r *Ring) Samples() []Sample {
	out := make([]Sample, r.Len())
	for i := range out {
		out[i] = r.at(i)
	}
	return out
}

// Last is when the ring last recorded a sample (equal ones included); zero when empty.
func (r *Ring) Last() time.Time { return r.last }

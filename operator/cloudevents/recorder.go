package cloudevents

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
)

// Emitter takes the events to deliver (a Dispatcher).
type Emitter interface {
	Emit(Event)
}

// Recorder records every event as next does, and hands those KEDA also sends as CloudEvents to
// the emitter: one place sees every moment the controllers report, so no controller needs to know
// about CloudEvents.
type Recorder struct {
	Next    events.EventRecorder
	Emitter Emitter
	// Now stamps each event; nil is time.Now.
	Now func() time.Time
}

var _ events.EventRecorder = (*Recorder)(nil)

// Eventf records the event and emits its CloudEvent, if it has one.
func (r *Recorder) Eventf(regarding runtime.Object, related runtime.Object, eventtype, reason, action, note string, args ...interface{}) {
	r.Next.Eventf(regarding, related, eventtype, reason, action, note, args...)
	t, kind, ok := TypeFor(regarding, reason)
	if !ok {
		return
	}
	m, err := meta.Accessor(regarding)
	if err != nil {
		return
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	r.Emitter.Emit(Event{
		Type: t, Namespace: m.GetNamespace(), Kind: kind, Name: m.GetName(),
		Reason: reason, Message: fmt.Sprintf(note, args...), Time: now().UTC(),
	})
}

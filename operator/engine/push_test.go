package engine

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
)

// burstScaler is a fakeScaler whose source pushes `count` times as fast as it can once go is
// closed, setting its value to the push's number before each push, and then either keeps the
// stream open until ctx ends or returns at once (returnEarly).
type burstScaler struct {
	fakeScaler
	count       int
	returnEarly bool
	start       chan struct{}
	runs        atomic.Int32
	pushedAll   atomic.Bool
}

func (b *burstScaler) Run(ctx context.Context, push func(active bool)) {
	b.runs.Add(1)
	select {
	case <-b.start:
	case <-ctx.Done():
		return
	}
	for i := 1; i <= b.count; i++ {
		b.value.Store(int64(i))
		push(true)
	}
	b.pushedAll.Store(true)
	if b.returnEarly {
		return
	}
	<-ctx.Done()
}

func registerPush(t *testing.T, s scalers.Scaler) (*Engine, Key) {
	t.Helper()
	e := startEngine(t, &factory{}, nil)
	e.opts.NewScaler = func(context.Context, *scalers.Config) (scalers.Scaler, error) { return s, nil }
	key := Key{Kind: KindScaledObject, Namespace: "ns", Name: "a"}
	e.Register(context.Background(), key, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "jobs")}})
	waitFor(t, "the first poll", func() bool { st, _ := e.State(key); return st.Polled() })
	return e, key
}

// TestPushesCoalesce: a source that pushes 1000 times in a burst causes a handful of polls (one at
// once, one trailing per window), not 1000, and the last push is not lost: the engine ends up with
// the value the source had at its last push.
func TestPushesCoalesce(t *testing.T) {
	for _, tc := range []struct {
		name        string
		returnEarly bool
	}{
		{name: "stream stays open"},
		// The stream's last pushes must still be polled after Run has returned.
		{name: "stream returns after its pushes", returnEarly: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &burstScaler{fakeScaler: fakeScaler{name: "s0-push"}, count: 1000, returnEarly: tc.returnEarly, start: make(chan struct{})}
			e, key := registerPush(t, b)
			waitFor(t, "the push stream to run", func() bool { return b.runs.Load() == 1 })
			before := b.polls.Load()
			started := time.Now()
			close(b.start)
			waitFor(t, "the last pushed value to be polled", func() bool {
				st, _ := e.State(key)
				return b.pushedAll.Load() && st.Triggers[0].Value.Value() == int64(b.count)
			})
			// Bound by the time the burst took: a poll at once, then at most one per window, and
			// one more per window for a push that came while a poll was running.
			windows := int32(time.Since(started)/pushWindow) + 1
			if polls := b.polls.Load() - before; polls > 2*windows+1 {
				t.Errorf("%d pushes caused %d polls in %d windows; want them coalesced", b.count, polls, windows)
			}
			if st, _ := e.State(key); !st.Active() {
				t.Errorf("not active after the pushes: %+v", st.Triggers[0])
			}
		})
	}
}

// TestPushStreamThatReturnsIsNotRestarted: a scaler whose source turns out unable to push returns
// from Run at once; the engine must not call Run again (a hot loop), and the trigger stays polled.
func TestPushStreamThatReturnsIsNotRestarted(t *testing.T) {
	b := &burstScaler{fakeScaler: fakeScaler{name: "s0-push"}, returnEarly: true, start: make(chan struct{})}
	close(b.start)
	e, key := registerPush(t, b)
	waitFor(t, "the push stream to run", func() bool { return b.runs.Load() >= 1 })
	time.Sleep(3 * pushWindow)
	if n := b.runs.Load(); n != 1 {
		t.Fatalf("Run called %d times, want once", n)
	}
	b.value.Store(7)
	e.Refresh(key)
	waitFor(t, "the trigger to be polled still", func() bool { st, _ := e.State(key); return st.Triggers[0].Value.Value() == 7 })
}

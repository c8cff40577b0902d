package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/kedactl/kedactl/scalers"
)

// pushWindow is the shortest time between two polls a source's pushes cause. A busy source (a
// queue receiving a message a millisecond, pods churning) would otherwise have the engine poll it,
// and the executor reconcile its objects, once per event; within a window pushes coalesce into one
// trailing poll, which is enough since a poll reads the source's latest state anyway.
const pushWindow = time.Second

// startPushLocked runs the push stream of a source whose scaler can push, once the engine runs.
// Two goroutines serve it: one runs the scaler's stream, whose push callback only records that a
// push is pending (so a source never blocks on the engine), and one turns pending pushes into
// polls, at most one per pushWindow.
func (e *Engine) startPushLocked(src *source) {
	ps, ok := src.scaler.(scalers.PushScaler)
	if !ok || e.runCtx == nil || src.stopPush != nil || e.stopped {
		return
	}
	ctx, cancel := context.WithCancel(e.runCtx)
	src.stopPush = cancel
	pending := make(chan struct{}, 1)
	runDone := make(chan struct{})
	e.pushWG.Add(2)
	go func() {
		defer e.pushWG.Done()
		defer close(runDone)
		push := func(bool) {
			select {
			case pending <- struct{}{}:
			default:
				// A push is pending already: the poll it causes reads this state too.
			}
		}
		// Run is called once: a stream that returns early (its source cannot push, say) leaves
		// the trigger to its polls rather than being restarted in a loop.
		err := runPushSafely(ctx, ps, push)
		if err == nil && ctx.Err() != nil {
			return
		}
		e.mu.Lock()
		names := src.metricNames()
		e.mu.Unlock()
		if err != nil {
			e.opts.Log.Error(err, "push stream ended", "metrics", names)
			return
		}
		e.opts.Log.V(1).Info("push stream ended: the source cannot push (its trigger is polled only)", "metrics", names)
	}()
	go func() {
		defer e.pushWG.Done()
		e.coalescePushes(ctx, src, pending, runDone)
	}()
}

// coalescePushes polls src on the first pending push at once, then waits out pushWindow before the
// next: a push that arrives meanwhile stays pending and causes one trailing poll when the window
// ends, so the last push is never lost. It returns when ctx ends, or when the stream has ended and
// no push is pending.
func (e *Engine) coalescePushes(ctx context.Context, src *source, pending <-chan struct{}, runDone <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-pending:
		case <-runDone:
			select {
			case <-pending:
			default:
				return
			}
		}
		e.pushed(src)
		timer := e.opts.Clock.NewTimer(pushWindow)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C():
		}
	}
}

// pushed answers a push by polling the source's metrics now: the poll reads the value and the
// activity the source reports, and OnPolled lets activation act on them without waiting for the
// interval. A poll under way is followed by another, since it may have read the source before the
// push.
func (e *Engine) pushed(src *source) {
	e.mu.Lock()
	for _, job := range src.jobs {
		e.pollSoonLocked(job)
	}
	e.mu.Unlock()
	e.kick()
}

func runPushSafely(ctx context.Context, ps scalers.PushScaler, push func(bool)) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the push stream panicked: %v", r)
		}
	}()
	ps.Run(ctx, push)
	return nil
}

// metricNames names a source for logs: its External metrics as its scaler names them. The caller
// holds e.mu.
func (src *source) metricNames() []string {
	names := make([]string, 0, len(src.jobs))
	for _, job := range src.jobs {
		names = append(names, job.metricName)
	}
	return names
}

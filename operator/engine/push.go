package engine

import (
	"context"
	"fmt"

	"github.com/kedactl/kedactl/scalers"
)

// startPushLocked runs the push stream of a source whose scaler can push, once the engine runs.
func (e *Engine) startPushLocked(src *source) {
	ps, ok := src.scaler.(scalers.PushScaler)
	if !ok || e.runCtx == nil || src.stopPush != nil || e.stopped {
		return
	}
	ctx, cancel := context.WithCancel(e.runCtx)
	src.stopPush = cancel
	e.pushWG.Add(1)
	go func() {
		defer e.pushWG.Done()
		if err := runPushSafely(ctx, ps, func(bool) { e.pushed(src) }); err != nil {
			e.opts.Log.Error(err, "push stream ended")
		}
	}()
}

// pushed answers a push by polling the source's metrics now: the poll reads the value and the
// activity the source reports, and OnPolled lets activation act on them without waiting for the
// interval.
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

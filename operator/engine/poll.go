package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/metrics/pkg/apis/external_metrics"

	"github.com/kedactl/kedactl/scalers"
)

// pollJob polls one External metric of one source for every subscription of the source.
type pollJob struct {
	src *source
	// pos is the metric's place among the source's External metrics (and each subscription's).
	pos int
	// metricName is the metric as the source's scaler names it (for the index it was built for).
	metricName string
	// last is the latest sample.
	last Sample

	due       time.Time
	heapIndex int
	running   bool
	removed   bool
	// refresh asks for another poll as soon as the running one ends.
	refresh bool
	// done is closed when the running poll ends: read-through callers wait on it.
	done chan struct{}
}

// begin marks the job as running; the caller holds the engine's lock.
func (j *pollJob) begin() {
	j.running = true
	j.done = make(chan struct{})
}

// poll reads one job's metric, stores the sample for every subscription and reschedules the job.
func (e *Engine) poll(ctx context.Context, job *pollJob) {
	if e.opts.ObserveRequest != nil || e.opts.ObserveEmptyResponse != nil {
		e.mu.Lock()
		req, ok := e.requestLocked(job)
		e.mu.Unlock()
		if ok {
			ctx = scalers.WithRequest(ctx, req)
		}
	}
	started := e.opts.Clock.Now()
	lateness := max(started.Sub(job.due), 0)
	pollCtx, cancel := context.WithTimeout(ctx, e.opts.PollTimeout)
	values, active, err := readSafely(pollCtx, job.src.scaler, job.metricName)
	cancel()
	latency := e.opts.Clock.Since(started)
	if err == nil && len(values) == 0 {
		err = fmt.Errorf("scaler returned no value for metric %s", job.metricName)
	}
	now := e.opts.Clock.Now()

	e.mu.Lock()
	job.running = false
	close(job.done)
	e.seq++
	last := &job.last
	last.Time, last.Polled, last.Err, last.Seq = now, true, err, e.seq
	if err != nil {
		// A failing trigger is not active, as in KEDA: it neither keeps the target up nor renews
		// its last active time. Its last value stays for the fallback and for display.
		last.ConsecutiveFailures++
		last.Active = false
	} else {
		last.ConsecutiveFailures = 0
		last.Value = values[0].Value
		last.Active = active
	}
	notify := make([]Key, 0, len(job.src.subs))
	var observations []Observation
	for sub := range job.src.subs {
		notify = append(notify, sub.owner.key)
		if e.opts.Observe != nil && job.pos < len(sub.metrics) {
			observations = append(observations, Observation{Key: sub.owner.key, Index: sub.index, Type: sub.typ, MetricName: sub.metrics[job.pos].name,
				Value: last.Value.AsApproximateFloat64(), Active: last.Active, Err: err, Latency: latency, Lateness: lateness})
		}
	}
	if !job.removed && !e.stopped {
		// A read on the HPA's request counts as this interval's poll: the next one is an interval
		// after it, so the source is not asked twice for the same freshness.
		due := now.Add(job.src.interval)
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

// requestLocked names the trigger a poll of job reads for: a shared source reads once for every
// object it serves, and the request is counted under the first of them by key, so that its count
// stays with one object from poll to poll. The caller holds the engine's lock.
func (e *Engine) requestLocked(job *pollJob) (scalers.Request, bool) {
	var first *subscription
	for sub := range job.src.subs {
		if job.pos < len(sub.metrics) && (first == nil || sub.owner.key.String() < first.owner.key.String()) {
			first = sub
		}
	}
	if first == nil {
		return scalers.Request{}, false
	}
	return scalers.Request{Scaler: first.typ, TriggerName: first.name, MetricName: first.metrics[job.pos].name,
		Namespace: first.owner.key.Namespace, ScaledResource: first.owner.key.Name, ResourceType: string(first.owner.key.Kind),
		Done: e.opts.ObserveRequest, EmptyResponse: e.opts.ObserveEmptyResponse}, true
}

// Read reads metricName of key from its source now, for an HPA request on a trigger without
// useCachedMetrics, and returns the trigger's fresh state. It is single-flight with the scheduled
// polls: a poll already under way is waited for rather than repeated, and the read counts as the
// job's poll for its interval. ok is false when key or the metric is not registered.
func (e *Engine) Read(ctx context.Context, key Key, metricName string) (TriggerState, bool) {
	e.mu.Lock()
	job := e.jobOfLocked(key, metricName)
	if job == nil {
		e.mu.Unlock()
		return TriggerState{}, false
	}
	if job.running {
		done := job.done
		e.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
		}
	} else if job.removed || e.stopped || e.runCtx == nil {
		e.mu.Unlock()
	} else {
		e.queue.remove(job)
		job.begin()
		runCtx := e.runCtx
		e.mu.Unlock()
		// The poll belongs to the engine, not to the request: a request that gives up must not
		// store a cancelled read as the source's failure.
		e.poll(runCtx, job)
	}
	st, ok := e.State(key)
	if !ok {
		return TriggerState{}, false
	}
	t := st.Metric(metricName)
	if t == nil {
		return TriggerState{}, false
	}
	return *t, true
}

func (e *Engine) jobOfLocked(key Key, metricName string) *pollJob {
	obj := e.objects[key]
	if obj == nil {
		return nil
	}
	for _, sub := range obj.triggers {
		for _, m := range sub.metrics {
			if strings.EqualFold(m.name, metricName) {
				return m.job
			}
		}
	}
	return nil
}

// readSafely polls a scaler; a scaler that panics (on a malformed answer, say) is a failed poll,
// never the operator's end.
func readSafely(ctx context.Context, s scalers.Scaler, metricName string) (values []external_metrics.ExternalMetricValue, active bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			values, active, err = nil, false, fmt.Errorf("the scaler panicked while reading metric %s: %v", metricName, r)
		}
	}()
	return s.GetMetricsAndActivity(ctx, metricName)
}

package engine

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/metrics/pkg/apis/external_metrics"

	"github.com/kedactl/kedactl/scalers"
)

// fakeScaler returns a settable value and counts polls.
type fakeScaler struct {
	name   string
	value  atomic.Int64
	fail   atomic.Bool
	polls  atomic.Int32
	closed atomic.Bool
}

func (f *fakeScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return []autoscalingv2.MetricSpec{{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: f.name},
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: resource.NewQuantity(5, resource.DecimalSI)},
	}}}
}

func (f *fakeScaler) GetMetricsAndActivity(_ context.Context, metric string) ([]external_metrics.ExternalMetricValue, bool, error) {
	f.polls.Add(1)
	if f.fail.Load() {
		return nil, false, errors.New("source down")
	}
	v := f.value.Load()
	return []external_metrics.ExternalMetricValue{{MetricName: metric, Value: *resource.NewQuantity(v, resource.DecimalSI)}}, v > 0, nil
}

func (f *fakeScaler) Close(context.Context) error { f.closed.Store(true); return nil }

// factory builds one fakeScaler per distinct list name and records them.
type factory struct {
	mu      sync.Mutex
	created []*fakeScaler
}

func (fa *factory) new(_ context.Context, cfg *scalers.Config) (scalers.Scaler, error) {
	if cfg.TriggerMetadata["bad"] != "" {
		return nil, errors.New("bad metadata")
	}
	s := &fakeScaler{name: "s" + string(rune('0'+cfg.TriggerIndex)) + "-fake-" + cfg.TriggerMetadata["list"]}
	fa.mu.Lock()
	fa.created = append(fa.created, s)
	fa.mu.Unlock()
	return s, nil
}

func trigger(index int, list string) scalers.Config {
	return scalers.Config{ScalableObjectNamespace: "ns", TriggerIndex: index, TriggerType: "fake", TriggerMetadata: map[string]string{"list": list}}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func startEngine(t *testing.T, fa *factory, polled chan<- Key) *Engine {
	t.Helper()
	e := New(Options{NewScaler: fa.new, OnPolled: func(k Key) {
		if polled != nil {
			select {
			case polled <- k:
			default:
			}
		}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = e.Start(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return e
}

func TestEngineSharesIdenticalTriggers(t *testing.T) {
	fa := &factory{}
	e := startEngine(t, fa, nil)
	a := Key{Kind: KindScaledObject, Namespace: "ns", Name: "a"}
	b := Key{Kind: KindScaledObject, Namespace: "ns", Name: "b"}
	infoA := e.Register(context.Background(), a, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "jobs")}})
	infoB := e.Register(context.Background(), b, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "other"), trigger(1, "jobs")}})
	if len(fa.created) != 2 {
		t.Fatalf("built %d scalers, want 2 (the jobs trigger is shared)", len(fa.created))
	}
	if got := infoA[0].MetricSpecs[0].External.Metric.Name; got != "s0-fake-jobs" {
		t.Errorf("a's metric = %s", got)
	}
	if got := infoB[1].MetricSpecs[0].External.Metric.Name; got != "s1-fake-jobs" {
		t.Errorf("b's shared metric is named %s, want it renamed for its own index s1-fake-jobs", got)
	}
	waitFor(t, "first polls", func() bool {
		sa, _ := e.State(a)
		sb, _ := e.State(b)
		return sa.Polled() && sb.Polled()
	})
	if n := fa.created[0].polls.Load(); n != 1 {
		t.Errorf("shared scaler polled %d times, want 1", n)
	}
	sb, _ := e.State(b)
	if sb.Metric("s1-fake-jobs") == nil {
		t.Errorf("b has no sample under its own metric name: %+v", sb.Triggers)
	}

	e.Unregister(context.Background(), a)
	if fa.created[0].closed.Load() {
		t.Fatal("shared scaler closed while b still uses it")
	}
	e.Unregister(context.Background(), b)
	for i, s := range fa.created {
		if !s.closed.Load() {
			t.Errorf("scaler %d not closed after every user went away", i)
		}
	}
}

// TestScaledJobAndScaledObjectOfOneNameAreTwoObjects: both kinds share the engine (an identical
// trigger is polled once for both) but the kind keeps their registrations apart.
func TestScaledJobAndScaledObjectOfOneNameAreTwoObjects(t *testing.T) {
	fa := &factory{}
	e := startEngine(t, fa, nil)
	so := Key{Kind: KindScaledObject, Namespace: "ns", Name: "worker"}
	sj := Key{Kind: KindScaledJob, Namespace: "ns", Name: "worker"}
	e.Register(context.Background(), so, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "jobs")}})
	e.Register(context.Background(), sj, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "jobs"), trigger(1, "more")}})
	if len(fa.created) != 2 {
		t.Fatalf("built %d scalers, want 2 (the jobs trigger is shared across kinds)", len(fa.created))
	}
	if keys := e.Keys(); len(keys) != 2 {
		t.Fatalf("keys = %v, want the ScaledObject and the ScaledJob", keys)
	}
	e.Unregister(context.Background(), so)
	st, ok := e.State(sj)
	if !ok || len(st.Triggers) != 2 {
		t.Fatalf("the ScaledJob's registration after unregistering the ScaledObject = %+v, %v", st, ok)
	}
	if _, ok := e.State(so); ok {
		t.Error("the ScaledObject is still registered")
	}
	if fa.created[0].closed.Load() {
		t.Error("the shared scaler was closed while the ScaledJob uses it")
	}
}

func TestEngineKeepsScalerWhenConfigUnchanged(t *testing.T) {
	fa := &factory{}
	e := startEngine(t, fa, nil)
	key := Key{Kind: KindScaledObject, Namespace: "ns", Name: "a"}
	reg := Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "jobs")}}
	e.Register(context.Background(), key, reg)
	e.Register(context.Background(), key, reg)
	if len(fa.created) != 1 {
		t.Fatalf("re-registering an unchanged trigger built %d scalers, want 1", len(fa.created))
	}
	reg.Triggers[0] = trigger(0, "changed")
	e.Register(context.Background(), key, reg)
	if len(fa.created) != 2 || !fa.created[0].closed.Load() {
		t.Fatalf("a changed trigger must replace and close the old scaler (built %d)", len(fa.created))
	}
}

func TestEngineReportsBuildErrors(t *testing.T) {
	fa := &factory{}
	e := startEngine(t, fa, nil)
	bad := trigger(0, "x")
	bad.TriggerMetadata["bad"] = "yes"
	infos := e.Register(context.Background(), Key{Kind: KindScaledObject, Namespace: "ns", Name: "a"}, Registration{Triggers: []scalers.Config{bad}})
	if infos[0].Err == nil {
		t.Fatal("want the build error")
	}
}

func TestEngineCountsFailuresAndRefreshes(t *testing.T) {
	fa := &factory{}
	polled := make(chan Key, 10)
	e := startEngine(t, fa, polled)
	key := Key{Kind: KindScaledObject, Namespace: "ns", Name: "a"}
	e.Register(context.Background(), key, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "jobs")}})
	<-polled
	s := fa.created[0]
	s.fail.Store(true)
	for i := 1; i <= 2; i++ {
		e.Refresh(key)
		<-polled
		st, _ := e.State(key)
		if st.Triggers[0].ConsecutiveFailures != int32(i) || st.Triggers[0].Err == nil {
			t.Fatalf("after %d failures: %+v", i, st.Triggers[0])
		}
	}
	s.fail.Store(false)
	s.value.Store(7)
	e.Refresh(key)
	<-polled
	st, _ := e.State(key)
	tr := st.Triggers[0]
	if tr.ConsecutiveFailures != 0 || tr.Err != nil || !tr.Active || tr.Value.Value() != 7 {
		t.Fatalf("after recovery: %+v", tr)
	}
}

func TestReindex(t *testing.T) {
	for in, want := range map[string]string{"s0-redis-jobs": "s3-redis-jobs", "s12-cron-x": "s3-cron-x", "plain": "plain"} {
		if got := reindex(in, 3); got != want {
			t.Errorf("reindex(%q) = %q, want %q", in, got, want)
		}
	}
}

// pushScaler is a fakeScaler whose source pushes: each value sent on pushes is handed to the
// engine's push callback. runs counts the Run calls under way.
type pushScaler struct {
	fakeScaler
	pushes chan bool
	runs   atomic.Int32
}

func (p *pushScaler) Run(ctx context.Context, push func(active bool)) {
	p.runs.Add(1)
	defer p.runs.Add(-1)
	for {
		select {
		case <-ctx.Done():
			return
		case active := <-p.pushes:
			push(active)
		}
	}
}

// TestEnginePollsAtOnceOnPush: a push from a scaler's source makes the engine poll that trigger
// right away instead of at its next due time an hour later, so the new activity reaches the
// cache (and OnPolled) at once; the push stream ends when the trigger goes away.
func TestEnginePollsAtOnceOnPush(t *testing.T) {
	ps := &pushScaler{fakeScaler: fakeScaler{name: "s0-push"}, pushes: make(chan bool)}
	polled := make(chan Key, 10)
	e := startEngine(t, &factory{}, polled)
	e.opts.NewScaler = func(context.Context, *scalers.Config) (scalers.Scaler, error) { return ps, nil }
	key := Key{Kind: KindScaledObject, Namespace: "ns", Name: "a"}
	e.Register(context.Background(), key, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "jobs")}})
	<-polled
	if st, _ := e.State(key); st.Active() {
		t.Fatal("active before anything was pushed")
	}
	waitFor(t, "the push stream to run", func() bool { return ps.runs.Load() == 1 })

	ps.value.Store(3)
	ps.pushes <- true
	<-polled
	st, _ := e.State(key)
	if !st.Active() || st.Triggers[0].Value.Value() != 3 || ps.polls.Load() != 2 {
		t.Fatalf("after a push: %+v, %d polls; want active with value 3 from a second poll", st.Triggers[0], ps.polls.Load())
	}

	e.Unregister(context.Background(), key)
	waitFor(t, "the push stream to end with its trigger", func() bool { return ps.runs.Load() == 0 })
	if !ps.closed.Load() {
		t.Error("scaler not closed")
	}
}

// TestEngineStartsPushStreamsRegisteredBeforeStart: triggers registered before the engine runs
// get their push stream when it starts, and lose it when it stops.
func TestEngineStartsPushStreamsRegisteredBeforeStart(t *testing.T) {
	ps := &pushScaler{fakeScaler: fakeScaler{name: "s0-push"}, pushes: make(chan bool)}
	e := New(Options{NewScaler: func(context.Context, *scalers.Config) (scalers.Scaler, error) { return ps, nil }})
	e.Register(context.Background(), Key{Kind: KindScaledObject, Namespace: "ns", Name: "a"}, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "jobs")}})
	if ps.runs.Load() != 0 {
		t.Fatal("push stream started before the engine runs")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = e.Start(ctx); close(done) }()
	waitFor(t, "the push stream to run", func() bool { return ps.runs.Load() == 1 })
	cancel()
	<-done
	if ps.runs.Load() != 0 || !ps.closed.Load() {
		t.Fatalf("after stop: %d streams running, closed=%v", ps.runs.Load(), ps.closed.Load())
	}
}

// TestEngineDoesNotPollResourceTriggers: cpu and memory triggers become Resource metrics of the
// HPA; the engine builds them (for their spec) but never polls them, and they count as polled so
// that activation is decided by the other triggers.
func TestEngineDoesNotPollResourceTriggers(t *testing.T) {
	fa := &factory{}
	newScaler := func(ctx context.Context, cfg *scalers.Config) (scalers.Scaler, error) {
		if cfg.TriggerType == "cpu" {
			return scalers.New(ctx, cfg)
		}
		return fa.new(ctx, cfg)
	}
	polled := make(chan Key, 10)
	e := New(Options{NewScaler: newScaler, OnPolled: func(k Key) {
		select {
		case polled <- k:
		default:
		}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = e.Start(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	cpu := scalers.Config{ScalableObjectNamespace: "ns", TriggerIndex: 0, TriggerType: "cpu", MetricType: "Utilization", TriggerMetadata: map[string]string{"value": "50"}}
	onlyCPU := Key{Kind: KindScaledObject, Namespace: "ns", Name: "only-cpu"}
	infos := e.Register(context.Background(), onlyCPU, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{cpu}})
	if infos[0].Err != nil || len(infos[0].MetricSpecs) != 1 || infos[0].MetricSpecs[0].Resource == nil {
		t.Fatalf("cpu trigger info = %+v, want one Resource metric spec", infos[0])
	}
	st, _ := e.State(onlyCPU)
	if !st.Polled() || !st.Triggers[0].Resource || st.Triggers[0].MetricName != "" {
		t.Fatalf("cpu-only state = %+v, want a polled Resource trigger with no external metric", st)
	}
	if !st.Active() {
		t.Error("an object with only cpu/memory triggers is always active")
	}

	mixed := Key{Kind: KindScaledObject, Namespace: "ns", Name: "mixed"}
	e.Register(context.Background(), mixed, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{cpu, trigger(1, "jobs")}})
	<-polled
	st, _ = e.State(mixed)
	if !st.Polled() || st.Active() {
		t.Fatalf("mixed state = %+v, want polled and inactive (the other trigger's value is 0)", st)
	}
	if len(st.NamedValues()) != 0 {
		t.Errorf("resource triggers must not enter the scalingModifiers formula: %v", st.NamedValues())
	}
	fa.created[0].value.Store(3)
	e.Refresh(mixed)
	<-polled
	st, _ = e.State(mixed)
	if !st.Active() {
		t.Errorf("mixed state = %+v, want active with the other trigger", st)
	}
	if len(fa.created) != 1 {
		t.Errorf("built %d fake scalers, want 1", len(fa.created))
	}
}

// TestMetricNamesFollowRegistrations: the metrics API's discovery list is kept between requests
// and follows every registration change; a ScaledJob's metrics are not in it.
func TestMetricNamesFollowRegistrations(t *testing.T) {
	e := startEngine(t, &factory{}, nil)
	ctx := context.Background()
	a := Key{Kind: KindScaledObject, Namespace: "ns", Name: "a"}
	b := Key{Kind: KindScaledObject, Namespace: "ns", Name: "b"}
	sj := Key{Kind: KindScaledJob, Namespace: "ns", Name: "j"}
	e.Register(ctx, a, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "jobs")}})
	e.Register(ctx, b, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "jobs"), trigger(1, "more")}})
	e.Register(ctx, sj, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "other")}})
	steps := []struct {
		what   string
		change func()
		want   []string
	}{
		{"registered", func() {}, []string{"s0-fake-jobs", "s1-fake-more"}},
		{"b's triggers edited", func() {
			e.Register(ctx, b, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "queue")}})
		}, []string{"s0-fake-jobs", "s0-fake-queue"}},
		{"a unregistered", func() { e.Unregister(ctx, a) }, []string{"s0-fake-queue"}},
		{"b unregistered", func() { e.Unregister(ctx, b) }, []string{}},
	}
	for _, s := range steps {
		s.change()
		if got := e.MetricNames(); !slices.Equal(got, s.want) {
			t.Errorf("%s: MetricNames = %q, want %q", s.what, got, s.want)
		}
	}
}

// TestSharedPollIsLabelledWithOneObject: a source shared by several objects reads once for all of
// them; its HTTP requests are counted under the first object by key, the same one at every poll.
func TestSharedPollIsLabelledWithOneObject(t *testing.T) {
	// Not started: no poll runs, the labels are read directly.
	e := New(Options{NewScaler: (&factory{}).new, ObserveRequest: func(scalers.Request, time.Duration, int, error) {}})
	ctx := context.Background()
	b := Key{Kind: KindScaledObject, Namespace: "ns", Name: "b"}
	a := Key{Kind: KindScaledObject, Namespace: "ns", Name: "a"}
	e.Register(ctx, b, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "jobs")}})
	e.Register(ctx, a, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "jobs")}})
	e.mu.Lock()
	job := e.jobOfLocked(b, "s0-fake-jobs")
	req, ok := e.requestLocked(job)
	e.mu.Unlock()
	if !ok || req.ScaledResource != "a" || req.Namespace != "ns" || req.ResourceType != "ScaledObject" || req.MetricName != "s0-fake-jobs" || req.Scaler != "fake" || req.Done == nil {
		t.Errorf("request of the shared poll = %+v, %v; want it labelled with ns/a", req, ok)
	}
}

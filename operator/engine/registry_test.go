package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/metrics/pkg/apis/external_metrics"

	"github.com/kedactl/kedactl/scalers"
)

// gatedFactory is a factory whose builds of list "slow" block until release is closed.
type gatedFactory struct {
	factory
	entered chan struct{}
	release chan struct{}
	builds  atomic.Int32
}

func newGatedFactory() *gatedFactory {
	return &gatedFactory{entered: make(chan struct{}, 10), release: make(chan struct{})}
}

func (g *gatedFactory) new(ctx context.Context, cfg *scalers.Config) (scalers.Scaler, error) {
	if cfg.TriggerMetadata["list"] == "slow" {
		g.builds.Add(1)
		g.entered <- struct{}{}
		<-g.release
	}
	return g.factory.new(ctx, cfg)
}

func within(t *testing.T, what string, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not finish within %s", what, d)
	}
}

// TestRegisterNeverShowsAHalfBuiltRegistration: while a scaler builds, readers see the previous
// registration (or none), never trigger slots without a subscription.
func TestRegisterNeverShowsAHalfBuiltRegistration(t *testing.T) {
	g := newGatedFactory()
	e := New(Options{NewScaler: g.new})
	key := Key{Kind: KindScaledObject, Namespace: "ns", Name: "a"}
	e.Register(context.Background(), key, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "jobs")}})

	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Register(context.Background(), key, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "jobs"), trigger(1, "slow")}})
	}()
	<-g.entered
	within(t, "State during a build", 2*time.Second, func() {
		st, ok := e.State(key)
		if !ok || len(st.Triggers) != 1 || st.Triggers[0].MetricName != "s0-fake-jobs" {
			t.Errorf("during the build State = %+v, %v; want the previous registration whole", st, ok)
		}
	})
	close(g.release)
	<-done
	st, _ := e.State(key)
	if len(st.Triggers) != 2 || st.Triggers[1].MetricName != "s1-fake-slow" {
		t.Fatalf("after the build State = %+v", st)
	}
}

// TestRegisterDoesNotWaitForOtherObjectsBuilds: a build that dials a slow source holds up only the
// triggers that need that scaler, and a second object asking for the same share key meanwhile
// waits for that one build instead of starting its own.
func TestRegisterDoesNotWaitForOtherObjectsBuilds(t *testing.T) {
	g := newGatedFactory()
	e := New(Options{NewScaler: g.new})
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.Register(context.Background(), Key{Kind: KindScaledObject, Namespace: "ns", Name: name}, Registration{Triggers: []scalers.Config{trigger(0, "slow")}})
		}()
	}
	<-g.entered
	within(t, "an unrelated object's Register", 2*time.Second, func() {
		infos := e.Register(context.Background(), Key{Kind: KindScaledObject, Namespace: "ns", Name: "c"}, Registration{Triggers: []scalers.Config{trigger(0, "fast")}})
		if infos[0].Err != nil {
			t.Error(infos[0].Err)
		}
	})
	close(g.release)
	wg.Wait()
	if n := g.builds.Load(); n != 1 {
		t.Errorf("the shared slow scaler was built %d times, want once", n)
	}
	for _, name := range []string{"a", "b"} {
		if st, _ := e.State(Key{Kind: KindScaledObject, Namespace: "ns", Name: name}); len(st.Triggers) != 1 || st.Triggers[0].Err != nil {
			t.Errorf("%s: %+v", name, st)
		}
	}
}

// TestPollingIntervalEditTakesEffect: changing only pollingInterval keeps the scaler but polls at
// the new interval.
func TestPollingIntervalEditTakesEffect(t *testing.T) {
	fa := &factory{}
	e := startEngine(t, fa, nil)
	key := Key{Kind: KindScaledObject, Namespace: "ns", Name: "a"}
	reg := Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "jobs")}}
	e.Register(context.Background(), key, reg)
	waitFor(t, "the first poll", func() bool { st, _ := e.State(key); return st.Polled() })
	reg.PollingInterval = 20 * time.Millisecond
	e.Register(context.Background(), key, reg)
	waitFor(t, "polls at the new interval", func() bool { return fa.created[0].polls.Load() >= 4 })
	if len(fa.created) != 1 {
		t.Errorf("an interval edit built %d scalers, want the one kept", len(fa.created))
	}
}

// TestShareKeyCoversWhatTheScalerReads: identical triggers on targets with different container
// envs share, unless the metadata names an env var whose values differ; external triggers never
// share across objects (the request names the object); no credential is in the key.
func TestShareKeyCoversWhatTheScalerReads(t *testing.T) {
	e := New(Options{})
	base := func() *scalers.Config {
		return &scalers.Config{ScalableObjectName: "a", ScalableObjectNamespace: "ns", TriggerType: "redis",
			TriggerMetadata: map[string]string{"listName": "jobs", "addressFromEnv": "REDIS"},
			AuthParams:      map[string]string{"password": "hunter2-secret"},
			ResolvedEnv:     map[string]string{"REDIS": "127.0.0.1:6379", "UNRELATED": "x"}}
	}
	a := base()
	otherObjectOtherEnv := base()
	otherObjectOtherEnv.ScalableObjectName = "b"
	otherObjectOtherEnv.ResolvedEnv = map[string]string{"REDIS": "127.0.0.1:6379", "UNRELATED": "y", "MORE": "z"}
	if e.shareKey(a) != e.shareKey(otherObjectOtherEnv) {
		t.Error("triggers reading the same list from the same address must share, whatever else the containers' env holds")
	}
	otherAddress := base()
	otherAddress.ResolvedEnv["REDIS"] = "127.0.0.1:6380"
	otherPassword := base()
	otherPassword.AuthParams["password"] = "other"
	for name, c := range map[string]*scalers.Config{"env var the metadata names": otherAddress, "auth value": otherPassword} {
		if e.shareKey(a) == e.shareKey(c) {
			t.Errorf("a different %s must not share", name)
		}
	}
	extA, extB := base(), base()
	extA.TriggerType, extB.TriggerType = "external", "external"
	extB.ScalableObjectName = "b"
	if e.shareKey(extA) == e.shareKey(extB) {
		t.Error("external triggers of two objects must not share: the request names the object")
	}
	if k := e.shareKey(a); len(k) != 64 || New(Options{}).shareKey(a) == k {
		t.Errorf("share key %q: want an HMAC under a per-engine secret", k)
	}
}

// multiScaler names two External metrics, as an external scaler may.
type multiScaler struct {
	fakeScaler
	mu    sync.Mutex
	asked map[string]int
}

func (m *multiScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	spec := func(name string) autoscalingv2.MetricSpec {
		return autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: name},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: resource.NewQuantity(5, resource.DecimalSI)},
		}}
	}
	return []autoscalingv2.MetricSpec{spec("s0-ext-first"), spec("s0-ext-second")}
}

func (m *multiScaler) GetMetricsAndActivity(_ context.Context, metric string) ([]external_metrics.ExternalMetricValue, bool, error) {
	m.mu.Lock()
	m.asked[metric]++
	m.mu.Unlock()
	v := int64(1)
	if metric == "s0-ext-second" {
		v = 2
	}
	return []external_metrics.ExternalMetricValue{{MetricName: metric, Value: *resource.NewQuantity(v, resource.DecimalSI)}}, true, nil
}

// TestEveryMetricOfAMultiMetricScalerIsPolled: each External metric is polled and served under the
// trigger's own index.
func TestEveryMetricOfAMultiMetricScalerIsPolled(t *testing.T) {
	ms := &multiScaler{asked: map[string]int{}}
	e := startEngine(t, &factory{}, nil)
	e.opts.NewScaler = func(context.Context, *scalers.Config) (scalers.Scaler, error) { return ms, nil }
	key := Key{Kind: KindScaledObject, Namespace: "ns", Name: "a"}
	e.Register(context.Background(), key, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "x"), trigger(1, "y")}})
	waitFor(t, "both metrics polled", func() bool { st, _ := e.State(key); return st.Polled() })
	st, _ := e.State(key)
	for name, want := range map[string]int64{"s0-ext-first": 1, "s0-ext-second": 2, "s1-ext-first": 1, "s1-ext-second": 2} {
		if m := st.Metric(name); m == nil || m.Value.Value() != want {
			t.Errorf("metric %s = %+v, want value %d", name, m, want)
		}
	}
}

// panicScaler panics on every read, as a scaler meeting a malformed answer might.
type panicScaler struct{ fakeScaler }

func (p *panicScaler) GetMetricsAndActivity(context.Context, string) ([]external_metrics.ExternalMetricValue, bool, error) {
	p.polls.Add(1)
	var m map[string]int
	m["boom"]++ // assignment to a nil map
	return nil, false, nil
}

// TestPanickingScalerIsAFailedPoll: the panic becomes the trigger's error and failure count; the
// engine keeps polling the others.
func TestPanickingScalerIsAFailedPoll(t *testing.T) {
	ps := &panicScaler{fakeScaler{name: "s0-boom"}}
	fa := &factory{}
	polled := make(chan Key, 10)
	e := startEngine(t, fa, polled)
	e.opts.NewScaler = func(ctx context.Context, cfg *scalers.Config) (scalers.Scaler, error) {
		if cfg.TriggerMetadata["list"] == "boom" {
			return ps, nil
		}
		return fa.new(ctx, cfg)
	}
	key := Key{Kind: KindScaledObject, Namespace: "ns", Name: "a"}
	e.Register(context.Background(), key, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "boom"), trigger(1, "fine")}})
	waitFor(t, "both polled", func() bool { st, _ := e.State(key); return st.Polled() })
	e.Refresh(key)
	waitFor(t, "a second poll", func() bool { return ps.polls.Load() >= 2 })
	waitFor(t, "the second failure counted", func() bool { st, _ := e.State(key); return st.Triggers[0].ConsecutiveFailures == 2 })
	st, _ := e.State(key)
	if st.Triggers[0].Err == nil || !strings.Contains(st.Triggers[0].Err.Error(), "panicked") {
		t.Errorf("panicking trigger: %+v", st.Triggers[0])
	}
	if st.Triggers[1].Err != nil || !st.Triggers[1].Polled {
		t.Errorf("the other trigger: %+v", st.Triggers[1])
	}
}

// slowScaler takes a while to answer and counts reads.
type slowScaler struct {
	fakeScaler
	delay time.Duration
}

func (s *slowScaler) GetMetricsAndActivity(ctx context.Context, metric string) ([]external_metrics.ExternalMetricValue, bool, error) {
	time.Sleep(s.delay)
	return s.fakeScaler.GetMetricsAndActivity(ctx, metric)
}

// TestReadIsSingleFlightAndCountsAsThePoll: concurrent reads for the HPA share one source query,
// see its value, and push the next scheduled poll an interval away.
func TestReadIsSingleFlightAndCountsAsThePoll(t *testing.T) {
	ss := &slowScaler{fakeScaler: fakeScaler{name: "s0-slow"}, delay: 100 * time.Millisecond}
	e := startEngine(t, &factory{}, nil)
	e.opts.NewScaler = func(context.Context, *scalers.Config) (scalers.Scaler, error) { return ss, nil }
	key := Key{Kind: KindScaledObject, Namespace: "ns", Name: "a"}
	e.Register(context.Background(), key, Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "x")}})
	waitFor(t, "the first poll", func() bool { st, _ := e.State(key); return st.Polled() })
	first, _ := e.State(key)

	ss.value.Store(9)
	var wg sync.WaitGroup
	results := make([]TriggerState, 5)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = e.Read(context.Background(), key, "S0-SLOW")
		}()
	}
	wg.Wait()
	if n := ss.polls.Load(); n != 2 {
		t.Errorf("5 concurrent reads made %d source queries after the first poll, want 1", n-1)
	}
	for i, r := range results {
		if r.Value.Value() != 9 || r.Seq <= first.Triggers[0].Seq {
			t.Errorf("read %d = %+v, want the fresh value 9", i, r)
		}
	}
	if _, ok := e.Read(context.Background(), key, "s0-unknown"); ok {
		t.Error("reading an unknown metric must say so")
	}
}

// TestBuildErrorFreesTheShareKey: a failed build is reported and the next Register builds again.
func TestBuildErrorFreesTheShareKey(t *testing.T) {
	var calls atomic.Int32
	e := New(Options{NewScaler: func(ctx context.Context, cfg *scalers.Config) (scalers.Scaler, error) {
		if calls.Add(1) == 1 {
			return nil, errors.New("source unreachable")
		}
		return (&factory{}).new(ctx, cfg)
	}})
	key := Key{Kind: KindScaledObject, Namespace: "ns", Name: "a"}
	reg := Registration{Triggers: []scalers.Config{trigger(0, "jobs")}}
	if infos := e.Register(context.Background(), key, reg); infos[0].Err == nil {
		t.Fatal("want the build error")
	}
	if infos := e.Register(context.Background(), key, reg); infos[0].Err != nil {
		t.Fatalf("second Register: %v", infos[0].Err)
	}
}

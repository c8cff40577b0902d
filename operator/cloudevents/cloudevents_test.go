package cloudevents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	eventingv1alpha1 "github.com/kedactl/kedactl/api/eventing/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/test/servers/eventgrid"
)

func TestTypeFor(t *testing.T) {
	so := &kedav1alpha1.ScaledObject{}
	sj := &kedav1alpha1.ScaledJob{}
	ta := &kedav1alpha1.TriggerAuthentication{}
	cta := &kedav1alpha1.ClusterTriggerAuthentication{}
	tests := []struct {
		obj    runtime.Object
		reason string
		want   CloudEventType // "" for none
	}{
		{so, kedav1alpha1.EventScaledObjectReady, eventingv1alpha1.ScaledObjectReady},
		{so, kedav1alpha1.EventScaledObjectCheckFailed, eventingv1alpha1.ScaledObjectFailed},
		{so, kedav1alpha1.EventScaledObjectUpdateFailed, eventingv1alpha1.ScaledObjectFailed},
		{so, kedav1alpha1.EventScaledObjectDeleted, eventingv1alpha1.ScaledObjectRemoved},
		{so, kedav1alpha1.EventScaledObjectPaused, eventingv1alpha1.ScaledObjectPaused},
		{so, kedav1alpha1.EventScaledObjectUnpaused, eventingv1alpha1.ScaledObjectUnpaused},
		{so, kedav1alpha1.EventKEDAScaleTargetActivated, ""},
		{so, kedav1alpha1.EventKEDAScalersStarted, ""},
		{sj, kedav1alpha1.EventScaledJobReady, eventingv1alpha1.ScaledJobReady},
		{sj, kedav1alpha1.EventScaledJobCheckFailed, eventingv1alpha1.ScaledJobFailed},
		{sj, kedav1alpha1.EventScaledJobUpdateFailed, eventingv1alpha1.ScaledJobFailed},
		{sj, kedav1alpha1.EventScaledJobDeleted, eventingv1alpha1.ScaledJobRemoved},
		{sj, kedav1alpha1.EventScaledJobPaused, eventingv1alpha1.ScaledJobPaused},
		{sj, kedav1alpha1.EventScaledJobUnpaused, eventingv1alpha1.ScaledJobUnpaused},
		{sj, kedav1alpha1.EventScaledJobRolloutCleanupStarted, eventingv1alpha1.ScaledJobRolloutCleanupStarted},
		{sj, kedav1alpha1.EventScaledJobRolloutCleanupCompleted, eventingv1alpha1.ScaledJobRolloutCleanupCompleted},
		{sj, kedav1alpha1.EventScaledJobRolloutCleanupFailed, eventingv1alpha1.ScaledJobRolloutCleanupFailed},
		{sj, kedav1alpha1.EventKEDAJobsCreated, ""},
		{sj, kedav1alpha1.EventScaledObjectReady, ""}, // a reason of the other kind
		{ta, kedav1alpha1.EventTriggerAuthenticationAdded, eventingv1alpha1.TriggerAuthenticationCreated},
		{ta, kedav1alpha1.EventClusterTriggerAuthenticationUpdated, eventingv1alpha1.TriggerAuthenticationUpdated},
		{ta, kedav1alpha1.EventTriggerAuthenticationDeleted, eventingv1alpha1.TriggerAuthenticationRemoved},
		{cta, kedav1alpha1.EventClusterTriggerAuthenticationAdded, eventingv1alpha1.ClusterTriggerAuthenticationCreated},
		{cta, kedav1alpha1.EventClusterTriggerAuthenticationUpdated, eventingv1alpha1.ClusterTriggerAuthenticationUpdated},
		{cta, kedav1alpha1.EventClusterTriggerAuthenticationDeleted, eventingv1alpha1.ClusterTriggerAuthenticationRemoved},
	}
	for _, tt := range tests {
		got, _, ok := TypeFor(tt.obj, tt.reason)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("TypeFor(%T, %s) = %q, %v; want %q", tt.obj, tt.reason, got, ok, tt.want)
		}
	}
	// Every type the API names is sent at some moment.
	sent := map[CloudEventType]bool{}
	for _, typ := range typeByReason {
		sent[typ] = true
	}
	for _, typ := range eventingv1alpha1.EventTypes {
		if !sent[typ] {
			t.Errorf("no recorded event is sent as %s", typ)
		}
	}
}

func TestBuild(t *testing.T) {
	when := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	ev, err := Build(Event{Type: eventingv1alpha1.ScaledObjectFailed, Namespace: "shop", Kind: "ScaledObject", Name: "orders",
		Reason: "ScaledObjectCheckFailed", Message: "ScaledObject doesn't have correct scaleTargetRef specification", Time: when}, "prod-eu", "keda")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"source", ev.Source(), "/prod-eu/keda/keda"},
		{"subject", ev.Subject(), "/prod-eu/shop/scaledobject/orders"},
		{"type", ev.Type(), "keda.scaledobject.failed.v1"},
		{"datacontenttype", ev.DataContentType(), "application/json"},
		{"specversion", ev.SpecVersion(), "1.0"},
		{"time", ev.Time().Format(time.RFC3339), "2025-03-01T12:00:00Z"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	var data Data
	if err := json.Unmarshal(ev.Data(), &data); err != nil || data.Reason != "ScaledObjectCheckFailed" || !strings.HasPrefix(data.Message, "ScaledObject doesn't") {
		t.Errorf("data %s (%v)", ev.Data(), err)
	}
	if err := ev.Validate(); err != nil {
		t.Errorf("not a valid CloudEvent: %v", err)
	}
}

func TestRetryWait(t *testing.T) {
	r := Retry{Retries: 5, Initial: time.Second, Max: 10 * time.Second}
	for n, want := range map[int]time.Duration{0: 0, 1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 40: 10 * time.Second} {
		if got := r.Wait(n); got != want {
			t.Errorf("Wait(%d) = %s, want %s", n, got, want)
		}
	}
	total := time.Duration(0)
	for n := 1; n <= DefaultRetry.Retries; n++ {
		total += DefaultRetry.Wait(n)
	}
	if total != 31*time.Second {
		t.Errorf("the default retries wait %s in all, want 31s", total)
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), true},
		{&StatusError{Code: 503}, true},
		{&StatusError{Code: 500}, true},
		{&StatusError{Code: 429}, true},
		{&StatusError{Code: 408}, true},
		{fmt.Errorf("wrapped: %w", &StatusError{Code: 401}), false},
		{&StatusError{Code: 400}, false},
		{&StatusError{Code: 404}, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := Retryable(tt.err); got != tt.want {
			t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestReceives(t *testing.T) {
	ready := Event{Type: eventingv1alpha1.ScaledObjectReady, Namespace: "a"}
	ctaAdded := Event{Type: eventingv1alpha1.ClusterTriggerAuthenticationCreated}
	onlyFailed := eventingv1alpha1.EventSubscription{IncludedEventTypes: []CloudEventType{eventingv1alpha1.ScaledObjectFailed}}
	tests := []struct {
		name string
		key  Key
		sub  eventingv1alpha1.EventSubscription
		e    Event
		want bool
	}{
		{"namespaced source, its namespace", Key{"a", "s"}, eventingv1alpha1.EventSubscription{}, ready, true},
		{"namespaced source, another namespace", Key{"b", "s"}, eventingv1alpha1.EventSubscription{}, ready, false},
		{"namespaced source, cluster object", Key{"a", "s"}, eventingv1alpha1.EventSubscription{}, ctaAdded, false},
		{"cluster source, any namespace", Key{"", "s"}, eventingv1alpha1.EventSubscription{}, ready, true},
		{"cluster source, cluster object", Key{"", "s"}, eventingv1alpha1.EventSubscription{}, ctaAdded, true},
		{"filtered out", Key{"", "s"}, onlyFailed, ready, false},
	}
	for _, tt := range tests {
		if got := Receives(tt.key, tt.sub, tt.e); got != tt.want {
			t.Errorf("%s: Receives = %v, want %v", tt.name, got, tt.want)
		}
	}
}

const (
	secretToken    = "s3cr3t-bearer-token"
	secretPassword = "s3cr3t-password"
)

func TestHTTPAuthFrom(t *testing.T) {
	tests := []struct {
		name    string
		params  map[string]string
		bearer  string
		user    string
		wantErr string
	}{
		{name: "none", params: nil},
		{name: "bearer", params: map[string]string{"bearerToken": secretToken}, bearer: secretToken},
		{name: "basic", params: map[string]string{"username": "u", "password": secretPassword}, user: "u"},
		{name: "both without authModes", params: map[string]string{"bearerToken": secretToken, "username": "u"}, wantErr: "keep one"},
		{name: "authModes picks basic", params: map[string]string{"authModes": "basic", "bearerToken": secretToken, "username": "u"}, user: "u"},
		{name: "authModes bearer without token", params: map[string]string{"authModes": "bearer"}, wantErr: "bearerToken"},
		{name: "unknown mode", params: map[string]string{"authModes": "oauth"}, wantErr: `"oauth"`},
		{name: "cert without key", params: map[string]string{"cert": "x"}, wantErr: "cert and key"},
		{name: "bad pair", params: map[string]string{"cert": "x", "key": secretPassword}, wantErr: "not a PEM"},
		{name: "bad ca", params: map[string]string{"ca": secretPassword}, wantErr: "parameter ca"},
	}
	for _, tt := range tests {
		a, err := httpAuthFrom(tt.params)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want one saying %q", tt.name, err, tt.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), secretToken) || strings.Contains(err.Error(), secretPassword)) {
				t.Errorf("%s: the error shows a credential: %v", tt.name, err)
			}
			continue
		}
		if err != nil || a.bearer != tt.bearer || a.username != tt.user {
			t.Errorf("%s: got bearer %q user %q err %v", tt.name, a.bearer, a.username, err)
		}
	}
}

// TestHTTPSink sends through the SDK to a receiver decoding with the SDK's own binding.
func TestHTTPSink(t *testing.T) {
	var mu sync.Mutex
	var got []*ce.Event
	var auth []string
	status := http.StatusAccepted
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := cehttp.NewEventFromHTTPRequest(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, ev)
		auth = append(auth, r.Header.Get("Authorization"))
		code := status
		mu.Unlock()
		w.WriteHeader(code)
	}))
	defer srv.Close()
	sink, err := NewSink(eventingv1alpha1.Destination{HTTP: &eventingv1alpha1.CloudEventHTTP{URI: srv.URL}}, map[string]string{"bearerToken": secretToken})
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := Build(Event{Type: eventingv1alpha1.ScaledJobReady, Namespace: "n", Kind: "ScaledJob", Name: "j", Time: time.Now()}, "c", "keda")
	if err := sink.Send(context.Background(), ev); err != nil {
		t.Fatalf("Send: %v", err)
	}
	mu.Lock()
	if len(got) != 1 || got[0].Type() != "keda.scaledjob.ready.v1" || got[0].Subject() != "/c/n/scaledjob/j" || auth[0] != "Bearer "+secretToken {
		t.Errorf("received %v with Authorization %q", got, auth)
	}
	status = http.StatusUnauthorized
	mu.Unlock()
	err = sink.Send(context.Background(), ev)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 401 || Retryable(err) {
		t.Errorf("a 401 answer gave %v, want a StatusError 401 that is not retried", err)
	}
	srv.Close()
	if err := sink.Send(context.Background(), ev); err == nil || !Retryable(err) {
		t.Errorf("a closed receiver gave %v, want a retryable error", err)
	}
}

// TestEventGridContract publishes to the contract fake of an Event Grid topic.
func TestEventGridContract(t *testing.T) {
	const key = "topic-access-key-secret"
	topic := eventgrid.Start(t, key, "")
	dest := eventingv1alpha1.Destination{AzureEventGridTopic: &eventingv1alpha1.AzureEventGridTopicSpec{Endpoint: topic.URL}}
	ev, _ := Build(Event{Type: eventingv1alpha1.ScaledObjectRemoved, Namespace: "n", Kind: "ScaledObject", Name: "o", Reason: "ScaledObjectDeleted", Message: "ScaledObject was deleted", Time: time.Now()}, "c", "keda")

	if _, err := NewSink(dest, nil); err == nil || !strings.Contains(err.Error(), "accessKey") {
		t.Errorf("no credentials: %v, want an error naming accessKey", err)
	}
	sink, err := NewSink(dest, map[string]string{"accessKey": key})
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Send(context.Background(), ev); err != nil {
		t.Fatalf("publish: %v", err)
	}
	events := topic.Events()
	if len(events) != 1 || events[0].Type != "keda.scaledobject.removed.v1" || events[0].Subject != "/c/n/scaledobject/o" || events[0].Source != "/c/keda/keda" {
		t.Fatalf("the topic took %+v", events)
	}
	var data Data
	if err := json.Unmarshal(events[0].Data, &data); err != nil || data.Reason != "ScaledObjectDeleted" {
		t.Errorf("data %s: %v", events[0].Data, err)
	}
	if r := topic.Requests()[0]; r.APIVersion != eventGridAPIVersion || r.Auth != "aeg-sas-key" || !strings.HasPrefix(r.ContentType, "application/cloudevents-batch+json") {
		t.Errorf("request %+v", r)
	}

	topic.Unavailable(1)
	if err := sink.Send(context.Background(), ev); !Retryable(err) {
		t.Errorf("503: %v, want a retryable error", err)
	}
	wrong, _ := NewSink(dest, map[string]string{"accessKey": "wrong"})
	err = wrong.Send(context.Background(), ev)
	if err == nil || Retryable(err) || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("a wrong key gave %v, want a final 401 that shows no key", err)
	}
}

// fakeSink fails its first failures sends, then takes events; block, when set, holds every send.
type fakeSink struct {
	mu       sync.Mutex
	failures int
	err      error
	block    chan struct{}
	got      []ce.Event
}

func (f *fakeSink) Name() string { return SinkHTTP }

func (f *fakeSink) Send(ctx context.Context, ev ce.Event) error {
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures > 0 {
		f.failures--
		return f.err
	}
	f.got = append(f.got, ev)
	return nil
}

func (f *fakeSink) received() []ce.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ce.Event(nil), f.got...)
}

type countMetrics struct {
	mu                sync.Mutex
	emitted, failed   int
	lastQueued, peakQ int
}

func (c *countMetrics) CloudEventSent(_, _, _ string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok {
		c.emitted++
	} else {
		c.failed++
	}
}

func (c *countMetrics) CloudEventsQueued(_ string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastQueued = n
	c.peakQ = max(c.peakQ, n)
}

func (c *countMetrics) counts() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.emitted, c.failed
}

type stateLog struct {
	mu     sync.Mutex
	states []string
}

func (s *stateLog) on(k Key, active bool, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states = append(s.states, fmt.Sprintf("%s active=%v", k.Name, active))
}

func (s *stateLog) get() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.states...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDispatcherRetries(t *testing.T) {
	fast := Retry{Retries: 3, Initial: time.Millisecond, Max: 4 * time.Millisecond}
	ready := Event{Type: eventingv1alpha1.ScaledObjectReady, Namespace: "n", Kind: "ScaledObject", Name: "o"}
	down := errors.New("connection refused")

	t.Run("a receiver back within the retries gets the event once", func(t *testing.T) {
		m, states := &countMetrics{}, &stateLog{}
		d := NewDispatcher(Options{Retry: fast, Metrics: m, OnState: states.on})
		sink := &fakeSink{failures: 3, err: down}
		d.Set(Key{"n", "s"}, Config{Sink: sink, ClusterName: "c"})
		defer d.Remove(Key{"n", "s"})
		d.Emit(ready)
		waitFor(t, "the delivery", func() bool { return len(sink.received()) == 1 })
		if e, f := m.counts(); e != 1 || f != 3 {
			t.Errorf("counted %d emitted, %d failed; want 1 and 3", e, f)
		}
		if s := states.get(); len(s) != 0 {
			t.Errorf("state changes %v, want none (the source stayed active)", s)
		}
	})

	t.Run("retries run out: dropped, failed, then active again", func(t *testing.T) {
		m, states := &countMetrics{}, &stateLog{}
		d := NewDispatcher(Options{Retry: fast, Metrics: m, OnState: states.on})
		sink := &fakeSink{failures: 4, err: down}
		d.Set(Key{"n", "s"}, Config{Sink: sink, ClusterName: "c"})
		defer d.Remove(Key{"n", "s"})
		d.Emit(ready)
		waitFor(t, "the give-up", func() bool { return len(states.get()) == 1 })
		d.Emit(ready)
		waitFor(t, "the next delivery", func() bool { return len(sink.received()) == 1 })
		waitFor(t, "the recovery", func() bool { return len(states.get()) == 2 })
		if s := states.get(); s[0] != "s active=false" || s[1] != "s active=true" {
			t.Errorf("states %v", s)
		}
	})

	t.Run("a refusal is not retried", func(t *testing.T) {
		m, states := &countMetrics{}, &stateLog{}
		d := NewDispatcher(Options{Retry: fast, Metrics: m, OnState: states.on})
		sink := &fakeSink{failures: 1, err: &StatusError{Code: 403}}
		d.Set(Key{"n", "s"}, Config{Sink: sink})
		defer d.Remove(Key{"n", "s"})
		d.Emit(ready)
		waitFor(t, "the give-up", func() bool { return len(states.get()) == 1 })
		if e, f := m.counts(); e != 0 || f != 1 {
			t.Errorf("counted %d emitted, %d failed; want 0 and 1", e, f)
		}
	})
}

// TestEmitNeverBlocks: with the receiver hanging, Emit returns at once and the queue stays bounded.
func TestEmitNeverBlocks(t *testing.T) {
	m := &countMetrics{}
	d := NewDispatcher(Options{QueueSize: 4, Metrics: m})
	sink := &fakeSink{block: make(chan struct{})}
	d.Set(Key{"", "all"}, Config{Sink: sink})
	done := make(chan struct{})
	go func() {
		for i := range 100 {
			d.Emit(Event{Type: eventingv1alpha1.ScaledObjectReady, Namespace: "n", Name: fmt.Sprint(i)})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Emit blocked behind a hanging receiver")
	}
	// One event is with the sink, four wait; the other 95 were dropped and counted.
	if _, f := m.counts(); f < 95 {
		t.Errorf("counted %d failed, want at least 95 dropped", f)
	}
	if m.peakQ > 4 {
		t.Errorf("the queue held %d, more than its bound 4", m.peakQ)
	}
	close(sink.block)
	d.Remove(Key{"", "all"})
}

type recordedEvent struct{ reason, note string }

type fakeRecorder struct{ got []recordedEvent }

func (f *fakeRecorder) Eventf(_ runtime.Object, _ runtime.Object, _, reason, _, note string, args ...interface{}) {
	f.got = append(f.got, recordedEvent{reason, fmt.Sprintf(note, args...)})
}

type captured []Event

func (c *captured) Emit(e Event) { *c = append(*c, e) }

func TestRecorder(t *testing.T) {
	next := &fakeRecorder{}
	var got captured
	when := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &Recorder{Next: next, Emitter: &got, Now: func() time.Time { return when }}
	so := &kedav1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{Namespace: "n", Name: "o"}}
	r.Eventf(so, nil, "Normal", kedav1alpha1.EventScaledObjectReady, "Reconcile", "ScaledObject is ready for scaling")
	r.Eventf(so, nil, "Normal", kedav1alpha1.EventKEDAScaleTargetActivated, "Scale", "Scaled %s from %d to %d", "x", 0, 1)
	r.Eventf(so, nil, "Warning", kedav1alpha1.EventScaledObjectCheckFailed, "Reconcile", "%s", "bad target")
	if len(next.got) != 3 {
		t.Fatalf("recorded %d events, want all 3", len(next.got))
	}
	want := captured{
		{Type: eventingv1alpha1.ScaledObjectReady, Namespace: "n", Kind: "ScaledObject", Name: "o", Reason: "ScaledObjectReady", Message: "ScaledObject is ready for scaling", Time: when},
		{Type: eventingv1alpha1.ScaledObjectFailed, Namespace: "n", Kind: "ScaledObject", Name: "o", Reason: "ScaledObjectCheckFailed", Message: "bad target", Time: when},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("emitted\n%v\nwant\n%v", got, want)
	}
}

package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eventingv1alpha1 "github.com/kedactl/kedactl/api/eventing/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/test/env"
)

// ceReceiver is a CloudEvents HTTP receiver on loopback, the SDK's own, that takes only requests
// bearing its token. It can be stopped and started again on the same address.
type ceReceiver struct {
	addr, token string

	mu      sync.Mutex
	events  []cloudevents.Event
	refused int
	cancel  context.CancelFunc
	done    chan struct{}
}

func startReceiver(t *testing.T, token string) *ceReceiver {
	t.Helper()
	r := &ceReceiver{addr: "127.0.0.1:0", token: token}
	r.start(t)
	t.Cleanup(r.stop)
	return r
}

func (r *ceReceiver) start(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the old listener's port may take a moment to free
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("failed to listen on %s: %v", r.addr, err)
	}
	r.addr = ln.Addr().String()
	p, err := cehttp.New(cehttp.WithListener(ln), cehttp.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.Header.Get("Authorization") != "Bearer "+r.token {
				r.mu.Lock()
				r.refused++
				r.mu.Unlock()
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, req)
		})
	}))
	if err != nil {
		t.Fatal(err)
	}
	c, err := cloudevents.NewClient(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan struct{})
	go func() {
		defer close(r.done)
		_ = c.StartReceiver(ctx, func(ev cloudevents.Event) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.events = append(r.events, ev)
		})
	}()
}

func (r *ceReceiver) stop() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
		r.cancel = nil
	}
}

func (r *ceReceiver) url() string { return "http://" + r.addr + "/" }

// count is how many events of type typ about subject arrived.
func (r *ceReceiver) count(typ eventingv1alpha1.CloudEventType, subject string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events {
		if ev.Type() == string(typ) && ev.Subject() == subject {
			n++
		}
	}
	return n
}

func (r *ceReceiver) describe() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var parts []string
	for _, ev := range r.events {
		parts = append(parts, ev.Type()+" "+ev.Subject())
	}
	return fmt.Sprintf("%d refused; received [%s]", r.refused, strings.Join(parts, ", "))
}

func (r *ceReceiver) waitFor(t *testing.T, timeout time.Duration, typ eventingv1alpha1.CloudEventType, subject string) {
	t.Helper()
	eventually(t, timeout, fmt.Sprintf("CloudEvent %s about %s", typ, subject), func(context.Context) (bool, string) {
		return r.count(typ, subject) > 0, r.describe()
	})
}

// waitActive waits for a CloudEventSource's Active condition, and returns its message.
func (s *suite) waitActive(t *testing.T, ns, name string, want metav1.ConditionStatus) string {
	t.Helper()
	msg := ""
	eventually(t, 60*time.Second, fmt.Sprintf("CloudEventSource %s Active %s", name, want), func(ctx context.Context) (bool, string) {
		ces := &eventingv1alpha1.CloudEventSource{}
		if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, ces); err != nil {
			return false, err.Error()
		}
		c := ces.Status.Conditions.Get(kedav1alpha1.ConditionActive)
		if c == nil {
			return false, "no Active condition"
		}
		msg = c.Message
		return c.Status == want, fmt.Sprintf("%s: %s", c.Status, c.Message)
	})
	return msg
}

func cloudEventSourceYAML(name, uri, auth, subscription string) string {
	doc := fmt.Sprintf(`apiVersion: eventing.keda.sh/v1alpha1
kind: CloudEventSource
metadata:
  name: %s
spec:
  clusterName: e2e-cluster
  destination:
    http:
      uri: %s
`, name, uri)
	if auth != "" {
		doc += fmt.Sprintf("  authenticationRef:\n    name: %s\n", auth)
	}
	if subscription != "" {
		doc += "  eventSubscription:\n" + subscription
	}
	return doc
}

func bearerAuthYAML(name, token string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %[1]s
stringData:
  token: %[2]q
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: %[1]s
spec:
  secretTargetRef:
    - parameter: bearerToken
      name: %[1]s
      key: token
`, name, token)
}

// TestCloudEventSourceDelivery is KEDA's cloudevent_source scenario on the local cluster: a
// CloudEventSource delivers the ready, failed and removed events of a ScaledObject and of a ScaledJob
// to a CloudEvents receiver, each once, with KEDA's source, subject, type and data, through a bearer
// token from a TriggerAuthentication; a second source keeps only the failed types, and the first
// drops the type it excludes; a receiver that is down when an event happens gets it once it is back
// (the retries); a receiver refusing the credentials turns the source's Active condition False; and
// the token appears in no log, event or status.
func TestCloudEventSourceDelivery(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "cloudevents")
	const token = "e2e-ce-bearer-0f3a9c"
	subject := func(kind, name string) string { return fmt.Sprintf("/e2e-cluster/%s/%s/%s", ns, kind, name) }

	main := startReceiver(t, token)
	failures := startReceiver(t, token)
	s.apply(t, ns, bearerAuthYAML("receiver", token))
	s.apply(t, ns, cloudEventSourceYAML("main", main.url(), "receiver",
		"    excludedEventTypes:\n      - keda.authentication.triggerauthentication.created.v1\n"))
	s.apply(t, ns, cloudEventSourceYAML("failures", failures.url(), "receiver",
		"    includedEventTypes:\n      - keda.scaledobject.failed.v1\n      - keda.scaledjob.failed.v1\n"))
	s.waitActive(t, ns, "main", metav1.ConditionTrue)
	s.waitActive(t, ns, "failures", metav1.ConditionTrue)

	t.Run("ScaledObject ready, failed, removed", func(t *testing.T) {
		s.apply(t, ns, deployment("web", 0, nil))
		s.apply(t, ns, workloadScaledObject("web", "monitored", "", ""))
		main.waitFor(t, 60*time.Second, eventingv1alpha1.ScaledObjectReady, subject("scaledobject", "web"))
		s.apply(t, ns, workloadScaledObject("broken", "monitored", "", ""))
		main.waitFor(t, 60*time.Second, eventingv1alpha1.ScaledObjectFailed, subject("scaledobject", "broken"))
		failures.waitFor(t, 60*time.Second, eventingv1alpha1.ScaledObjectFailed, subject("scaledobject", "broken"))
		if err := s.env.Client.Delete(context.Background(), &kedav1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}}); err != nil {
			t.Fatal(err)
		}
		main.waitFor(t, 60*time.Second, eventingv1alpha1.ScaledObjectRemoved, subject("scaledobject", "web"))

		main.mu.Lock()
		var ready cloudevents.Event
		for _, ev := range main.events {
			if ev.Type() == string(eventingv1alpha1.ScaledObjectReady) {
				ready = ev
			}
		}
		main.mu.Unlock()
		if ready.Source() != "/e2e-cluster/"+env.ChartNamespace+"/keda" || ready.DataContentType() != "application/json" ||
			!strings.Contains(string(ready.Data()), `"reason":"ScaledObjectReady"`) {
			t.Errorf("ready event: source %q, datacontenttype %q, data %s", ready.Source(), ready.DataContentType(), ready.Data())
		}
	})

	t.Run("ScaledJob ready after the receiver comes back, failed, removed", func(t *testing.T) {
		main.stop()
		s.apply(t, ns, scaledJobYAML("importer", "1"))
		s.waitEvent(t, ns, "importer", kedav1alpha1.EventScaledJobReady, "ScaledJob is ready for scaling")
		time.Sleep(2 * time.Second) // the first attempts meet a closed port
		main.start(t)
		main.waitFor(t, 60*time.Second, eventingv1alpha1.ScaledJobReady, subject("scaledjob", "importer"))

		s.apply(t, ns, scaledJobYAML("bad", "many"))
		main.waitFor(t, 60*time.Second, eventingv1alpha1.ScaledJobFailed, subject("scaledjob", "bad"))
		failures.waitFor(t, 60*time.Second, eventingv1alpha1.ScaledJobFailed, subject("scaledjob", "bad"))
		if err := s.env.Client.Delete(context.Background(), &kedav1alpha1.ScaledJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "importer"}}); err != nil {
			t.Fatal(err)
		}
		main.waitFor(t, 60*time.Second, eventingv1alpha1.ScaledJobRemoved, subject("scaledjob", "importer"))
	})

	t.Run("filtered types are not delivered", func(t *testing.T) {
		s.apply(t, ns, bearerAuthYAML("other", "unused"))
		s.waitEvent(t, ns, "other", kedav1alpha1.EventTriggerAuthenticationAdded)
		time.Sleep(3 * time.Second) // what would be delivered is delivered by now
		if n := main.count(eventingv1alpha1.TriggerAuthenticationCreated, subject("triggerauthentication", "other")); n != 0 {
			t.Errorf("the excluded type arrived %d times: %s", n, main.describe())
		}
		failures.mu.Lock()
		for _, ev := range failures.events {
			if ev.Type() != string(eventingv1alpha1.ScaledObjectFailed) && ev.Type() != string(eventingv1alpha1.ScaledJobFailed) {
				t.Errorf("the source of failed types only received %s about %s", ev.Type(), ev.Subject())
			}
		}
		failures.mu.Unlock()
	})

	t.Run("each event arrives once", func(t *testing.T) {
		for _, c := range []struct {
			r    *ceReceiver
			typ  eventingv1alpha1.CloudEventType
			subj string
		}{
			{main, eventingv1alpha1.ScaledObjectReady, subject("scaledobject", "web")},
			{main, eventingv1alpha1.ScaledObjectFailed, subject("scaledobject", "broken")},
			{main, eventingv1alpha1.ScaledObjectRemoved, subject("scaledobject", "web")},
			{main, eventingv1alpha1.ScaledJobReady, subject("scaledjob", "importer")},
			{main, eventingv1alpha1.ScaledJobFailed, subject("scaledjob", "bad")},
			{main, eventingv1alpha1.ScaledJobRemoved, subject("scaledjob", "importer")},
			{failures, eventingv1alpha1.ScaledObjectFailed, subject("scaledobject", "broken")},
			{failures, eventingv1alpha1.ScaledJobFailed, subject("scaledjob", "bad")},
		} {
			if n := c.r.count(c.typ, c.subj); n != 1 {
				t.Errorf("%s about %s arrived %d times, want once: %s", c.typ, c.subj, n, c.r.describe())
			}
		}
	})

	t.Run("refused credentials make the source inactive", func(t *testing.T) {
		s.apply(t, ns, bearerAuthYAML("wrong", "e2e-ce-wrong-token-77d1"))
		s.apply(t, ns, cloudEventSourceYAML("refused", main.url(), "wrong", ""))
		// Not waiting for Active True first: a failed object of an earlier case, retried, may
		// emit into the new source before the wait sees it active.
		s.apply(t, ns, workloadScaledObject("nudge", "monitored", "", ""))
		msg := s.waitActive(t, ns, "refused", metav1.ConditionFalse)
		if !strings.Contains(msg, "401") {
			t.Errorf("the Active condition says %q, want the receiver's 401", msg)
		}
	})

	t.Run("the series count deliveries and failures", func(t *testing.T) {
		eventually(t, 30*time.Second, "keda_cloudeventsource_events_emitted_total", func(ctx context.Context) (bool, string) {
			body, err := httpGet(ctx, s.env.PrometheusURL)
			if err != nil {
				return false, err.Error()
			}
			emitted := fmt.Sprintf(`keda_cloudeventsource_events_emitted_total{cloudeventsource="main",eventsink="http",namespace=%q,state="emitted"}`, ns)
			failed := fmt.Sprintf(`keda_cloudeventsource_events_emitted_total{cloudeventsource="main",eventsink="http",namespace=%q,state="failed"}`, ns)
			return strings.Contains(body, emitted) && strings.Contains(body, failed), "no emitted and failed series of main"
		})
	})

	t.Run("credentials appear nowhere", func(t *testing.T) {
		for _, secret := range []string{token, "e2e-ce-wrong-token-77d1"} {
			logs, err := os.ReadFile(s.env.OperatorLog)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(logs), secret) {
				t.Errorf("the operator log shows a token")
			}
			events, err := s.env.Kube.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range events.Items {
				if strings.Contains(ev.Message, secret) {
					t.Errorf("event %s on %s shows a token", ev.Reason, ev.InvolvedObject.Name)
				}
			}
			list := &eventingv1alpha1.CloudEventSourceList{}
			if err := s.env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
				t.Fatal(err)
			}
			for _, ces := range list.Items {
				if strings.Contains(fmt.Sprint(ces.Status), secret) {
					t.Errorf("the status of %s shows a token", ces.Name)
				}
			}
		}
	})
}

func scaledJobYAML(name, value string) string {
	return fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata:
  name: %s
spec:
  pollingInterval: 1
  maxReplicaCount: 2
  jobTargetRef:
    template:
      spec:
        restartPolicy: Never
        containers:
          - name: job
            image: example.com/job:1.0
  triggers:
    - type: kubernetes-workload
      metadata:
        podSelector: app=nothing
        value: %q
`, name, value)
}

func httpGet(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestClusterCloudEventSourceDelivery: a ClusterCloudEventSource delivers the events of every
// namespace, authenticated by a ClusterTriggerAuthentication whose Secret lives in the operator's
// cluster object namespace, and keeps only the types it includes.
func TestClusterCloudEventSourceDelivery(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "clusterce")
	name := "e2e-" + ns // cluster-scoped objects: unique per run
	const token = "e2e-cluster-ce-bearer-7d21"
	receiver := startReceiver(t, token)
	s.apply(t, env.ChartNamespace, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %[1]s
stringData:
  token: %[2]q
---
apiVersion: keda.sh/v1alpha1
kind: ClusterTriggerAuthentication
metadata:
  name: %[1]s
spec:
  secretTargetRef:
    - parameter: bearerToken
      name: %[1]s
      key: token
---
apiVersion: eventing.keda.sh/v1alpha1
kind: ClusterCloudEventSource
metadata:
  name: %[1]s
spec:
  clusterName: e2e-cluster
  destination:
    http:
      uri: %[3]s
  authenticationRef:
    name: %[1]s
    kind: ClusterTriggerAuthentication
  eventSubscription:
    includedEventTypes:
      - keda.scaledobject.ready.v1
`, name, token, receiver.url()))
	t.Cleanup(func() {
		ctx := context.Background()
		_ = s.env.Client.Delete(ctx, &eventingv1alpha1.ClusterCloudEventSource{ObjectMeta: metav1.ObjectMeta{Name: name}})
		_ = s.env.Client.Delete(ctx, &kedav1alpha1.ClusterTriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Name: name}})
	})
	eventually(t, 60*time.Second, "ClusterCloudEventSource "+name+" Active True", func(ctx context.Context) (bool, string) {
		ces := &eventingv1alpha1.ClusterCloudEventSource{}
		if err := s.env.Client.Get(ctx, client.ObjectKey{Name: name}, ces); err != nil {
			return false, err.Error()
		}
		c := ces.Status.Conditions.Get(kedav1alpha1.ConditionActive)
		if c == nil {
			return false, "no Active condition"
		}
		return c.Status == metav1.ConditionTrue, fmt.Sprintf("%s: %s", c.Status, c.Message)
	})

	s.apply(t, ns, deployment("web", 0, nil))
	s.apply(t, ns, workloadScaledObject("web", "monitored", "", ""))
	subject := fmt.Sprintf("/e2e-cluster/%s/scaledobject/web", ns)
	receiver.waitFor(t, 60*time.Second, eventingv1alpha1.ScaledObjectReady, subject)
	s.apply(t, ns, workloadScaledObject("broken", "monitored", "", ""))
	s.waitReady(t, ns, "broken", metav1.ConditionFalse)
	if err := s.env.Client.Delete(context.Background(), &kedav1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}}); err != nil {
		t.Fatal(err)
	}
	s.waitGone(t, "ScaledObject web", func(ctx context.Context) error {
		_, err := s.scaledObject(ctx, ns, "web")
		return err
	})
	// A source delivers in order: once a later ready event has arrived, the failed and removed
	// ones before it would have too, had they not been filtered out.
	s.apply(t, ns, deployment("sentinel", 0, nil))
	s.apply(t, ns, workloadScaledObject("sentinel", "monitored", "", ""))
	receiver.waitFor(t, 60*time.Second, eventingv1alpha1.ScaledObjectReady, fmt.Sprintf("/e2e-cluster/%s/scaledobject/sentinel", ns))
	for _, typ := range []eventingv1alpha1.CloudEventType{eventingv1alpha1.ScaledObjectFailed, eventingv1alpha1.ScaledObjectRemoved} {
		for _, subj := range []string{subject, fmt.Sprintf("/e2e-cluster/%s/scaledobject/broken", ns)} {
			if n := receiver.count(typ, subj); n != 0 {
				t.Errorf("%s about %s, not included, arrived %d times", typ, subj, n)
			}
		}
	}
	if n := receiver.count(eventingv1alpha1.ScaledObjectReady, subject); n != 1 {
		t.Errorf("the ready event arrived %d times, want once: %s", n, receiver.describe())
	}
}

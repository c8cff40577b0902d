package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/kedactl/kedactl/plugin/commands"
	"github.com/kedactl/kedactl/plugin/kedaclient"
	"github.com/kedactl/kedactl/tui"
)

type countingTransport struct {
	next  http.RoundTripper
	count *atomic.Int64
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.count.Add(1)
	return c.next.RoundTrip(r)
}

// TestTUIRequestRate measures the requests the TUI makes with 100 ScaledObjects: a minute of the
// list view (60 refreshes, read from informers) and a minute of the detail view (60 list
// refreshes plus 12 detail reads). Watches are opened once and not counted per minute.
func TestTUIRequestRate(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "tui")
	var docs []string
	for i := range 100 {
		name := fmt.Sprintf("app-%03d", i)
		docs = append(docs, deployment(name, 0, nil), fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: %[1]s
spec:
  scaleTargetRef:
    name: %[1]s
  triggers:
    - type: cron
      metadata:
        timezone: Etc/UTC
        start: 0 0 1 1 *
        end: 0 1 1 1 *
        desiredReplicas: "1"
`, name))
	}
	s.apply(t, ns, strings.Join(docs, "---\n"))

	var count atomic.Int64
	cfg := s.env.Cluster.RestConfig()
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return countingTransport{next: rt, count: &count} }
	cfg.QPS, cfg.Burst = 1000, 1000
	src := newTUISource(t, cfg, ns)
	ctx := context.Background()
	eventually(t, 30*time.Second, "100 ScaledObjects in the informers", func(ctx context.Context) (bool, string) {
		objs, err := src.Objects(ctx, ns)
		return err == nil && len(objs) == 100, fmt.Sprint(len(objs), err)
	})
	startup := count.Load()

	count.Store(0)
	for range 60 {
		if _, err := src.Objects(ctx, ns); err != nil {
			t.Fatal(err)
		}
	}
	listPerMinute := count.Load()

	count.Store(0)
	for i := range 60 {
		if _, err := src.Objects(ctx, ns); err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			if _, err := src.Describe(ctx, commands.KindScaledObject, ns, "app-000"); err != nil {
				t.Fatal(err)
			}
		}
	}
	detailPerMinute := count.Load()
	t.Logf("TUI requests with 100 ScaledObjects: start-up %d (lists, watches, discovery); list view %d/min; detail view %d/min", startup, listPerMinute, detailPerMinute)
	if listPerMinute != 0 {
		t.Errorf("the list view made %d requests in a minute: it must read from the informers only", listPerMinute)
	}
	if detailPerMinute > 200 {
		t.Errorf("the detail view made %d requests in a minute, want at most 200", detailPerMinute)
	}
}

// TestTUIReadsAnIdleTriggersValue: at zero replicas the HPA reads no metric, so the TUI asks the
// external metrics API for the value, as `kubectl keda top` does, instead of showing "?".
func TestTUIReadsAnIdleTriggersValue(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "tuiidle")
	s.apply(t, ns, deployment("idle", 0, nil)+`---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: idle
spec:
  scaleTargetRef:
    name: idle
  triggers:
    - type: cron
      metadata:
        timezone: Etc/UTC
        start: 0 0 1 1 *
        end: 0 1 1 1 *
        desiredReplicas: "3"
`)
	so := s.waitReady(t, ns, "idle", "True")
	if len(so.Status.ExternalMetricNames) != 1 {
		t.Fatalf("status.externalMetricNames = %v, want one", so.Status.ExternalMetricNames)
	}
	cfg := s.env.Cluster.RestConfig()
	src := newTUISource(t, cfg, ns)
	metric := so.Status.ExternalMetricNames[0]
	eventually(t, 60*time.Second, "the idle trigger's value from the external metrics API", func(ctx context.Context) (bool, string) {
		// KEDA's cron trigger reads 1 outside its window (its default desired replicas).
		values, err := src.TriggerValues(ctx, ns, "idle", []string{metric})
		v, ok := values[metric]
		return err == nil && ok && v == 1, fmt.Sprintf("%v, %v", values, err)
	})
}

// newTUISource is the TUI's cluster source on namespace ns, stopped when the test ends.
func newTUISource(t *testing.T, cfg *rest.Config, ns string) *tui.ClusterSource {
	t.Helper()
	c, err := kedaclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	informers, err := tui.NewInformers(rest.CopyConfig(cfg), ns)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	src, err := tui.NewClusterSource(ctx, c, informers)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// valueAPI is the HTTP source of a metrics-api trigger, as KEDA's scenarios use one: it answers
// {"value": N} with the value the test sets, or 503 while it is down (a source that went away).
type valueAPI struct {
	URL   string
	value atomic.Int64
	down  atomic.Bool
}

func startValueAPI(t *testing.T, value int64) *valueAPI {
	t.Helper()
	api := &valueAPI{}
	api.value.Store(value)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if api.down.Load() {
			http.Error(w, "source is down", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, `{"value": %d}`, api.value.Load())
	}))
	t.Cleanup(srv.Close)
	api.URL = srv.URL
	return api
}

func (a *valueAPI) Set(v int64)       { a.value.Store(v) }
func (a *valueAPI) SetDown(down bool) { a.down.Store(down) }

// trigger is a metrics-api trigger on the API; extra holds more lines under metadata (each
// indented eight spaces) and may set targetValue.
func (a *valueAPI) trigger(name, extra string) string {
	named := ""
	if name != "" {
		named = "      name: " + name + "\n"
	}
	return fmt.Sprintf("    - type: metrics-api\n%s      metadata:\n        url: %q\n        valueLocation: value\n%s", named, a.URL, extra)
}

// annotate sets (or, for a nil value, removes) annotations of a ScaledObject with a merge patch, as
// `kubectl annotate` does.
func (s *suite) annotate(t *testing.T, ns, name string, annotations map[string]*string) {
	t.Helper()
	patch := map[string]any{"metadata": map[string]any{"annotations": annotations}}
	raw, err := json.Marshal(patch)
	if err != nil {
		t.Fatal(err)
	}
	so := &kedav1alpha1.ScaledObject{}
	so.Namespace, so.Name = ns, name
	if err := s.env.Client.Patch(context.Background(), so, client.RawPatch(types.MergePatchType, raw)); err != nil {
		t.Fatalf("annotating ScaledObject %s/%s with %v: %v", ns, name, annotations, err)
	}
}

// set and unset are the values of annotate's map.
func set(v string) *string { return &v }

var unset *string

// waitHPA waits for the HPA name to exist (want true) or to be gone (want false).
func (s *suite) waitHPA(t *testing.T, ns, name string, want bool) {
	t.Helper()
	state := "to exist"
	if !want {
		state = "to be gone"
	}
	eventually(t, 60*time.Second, fmt.Sprintf("HPA %s/%s %s", ns, name, state), func(ctx context.Context) (bool, string) {
		_, err := s.hpa(ctx, ns, name)
		return (err == nil) == want, fmt.Sprint(err)
	})
}

// workloadScaledObject is a ScaledObject as KEDA's internal scenarios write it: target name scaled
// on the pods of Deployment monitored (kubernetes-workload, value 1: one replica per pod), polled
// every second. annotations are YAML lines under metadata.annotations (indented four spaces), spec
// extra spec lines (indented two).
func workloadScaledObject(name, monitored, annotations, spec string) string {
	if annotations != "" {
		annotations = "  annotations:\n" + annotations
	}
	return fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: %[1]s
%[3]sspec:
  scaleTargetRef:
    name: %[1]s
  pollingInterval: 1
%[4]s  triggers:
    - type: kubernetes-workload
      metadata:
        podSelector: app=%[2]s
        value: "1"
`, name, monitored, annotations, spec)
}

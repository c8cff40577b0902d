package commands

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/plugin/timeline"
)

func readYAML(t *testing.T, name string, into any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		t.Fatalf("failed to decode %s: %v", name, err)
	}
}

// TestTimelineGolden renders the timeline of a ScaledObject from recorded events and the
// operator's history, and from the events alone (what upstream KEDA gives).
func TestTimelineGolden(t *testing.T) {
	so := &kedav1alpha1.ScaledObject{}
	readYAML(t, "timeline-scaledobject.yaml", so)
	events := &corev1.EventList{}
	readYAML(t, "timeline-events.yaml", events)
	recorded := &historyv1alpha1.ScaledObjectHistory{}
	readYAML(t, "timeline-history.yaml", recorded)

	for _, tc := range []struct {
		name    string
		history *historyv1alpha1.History
		since   time.Time
	}{
		{name: "timeline-history", history: &recorded.History},
		{name: "timeline-events-only"},
		{name: "timeline-since", history: &recorded.History, since: time.Date(2025, 3, 1, 12, 3, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := scaledObjectInput(so, tc.since)
			in.Events, in.History = events.Items, tc.history
			report := &timelineReport{Kind: "ScaledObject", Namespace: so.Namespace, Name: so.Name, HistoryServed: tc.history != nil, Entries: timeline.Build(in)}
			var text, data bytes.Buffer
			if err := writeTimeline(&text, report, "text", time.UTC); err != nil {
				t.Fatal(err)
			}
			goldenFile(t, tc.name+".golden", text.Bytes())
			if err := writeTimeline(&data, report, "yaml", time.UTC); err != nil {
				t.Fatal(err)
			}
			goldenFile(t, tc.name+".yaml.golden", data.Bytes())
		})
	}
}

// TestReadHistoryFallsBack checks the one-line notes that replace the history when the cluster
// does not serve it, and that only real failures are errors.
func TestReadHistoryFallsBack(t *testing.T) {
	served := []*metav1.APIResourceList{{GroupVersion: historyv1alpha1.GroupVersion.String(),
		APIResources: []metav1.APIResource{{Name: "scaledobjects", Namespaced: true, Kind: "ScaledObjectHistory", Verbs: []string{"get"}}}}}
	body := `{"apiVersion":"history.kedactl.dev/v1alpha1","kind":"ScaledObjectHistory","metadata":{"name":"worker"},"since":"2025-03-01T11:59:00Z","sampleCapacity":360,"decisionCapacity":100,"samples":[],"decisions":[{"time":"2025-03-01T12:00:02Z","type":"Activated","trigger":"queue"}]}`
	for _, tc := range []struct {
		name      string
		resources []*metav1.APIResourceList
		answer    func() ([]byte, error)
		wantNote  string
		wantErr   string
		wantFound bool
	}{
		{name: "upstream KEDA: the group is absent", wantNote: "serves no history.kedactl.dev/v1alpha1"},
		{name: "served", resources: served, answer: func() ([]byte, error) { return []byte(body), nil }, wantFound: true},
		{name: "served, nothing kept for the object", resources: served, answer: func() ([]byte, error) {
			return nil, apierrorsNotFound()
		}, wantNote: "keeps no history of scaledobjects/worker"},
		{name: "served, not allowed", resources: served, answer: func() ([]byte, error) { return nil, apierrorsForbidden() }, wantNote: "not allowed to read"},
		{name: "served, garbage", resources: served, answer: func() ([]byte, error) { return []byte("<html>"), nil }, wantErr: "failed to decode the history"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			disc := &fakediscovery.FakeDiscovery{Fake: &k8stesting.Fake{Resources: tc.resources}}
			get := func(context.Context, string) ([]byte, error) {
				if tc.answer == nil {
					t.Fatal("the history was read though discovery does not list it")
				}
				return tc.answer()
			}
			h, note, err := ReadHistory(context.Background(), disc, get, historyv1alpha1.ResourceScaledObjects, "shop", "worker")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (h != nil) != tc.wantFound {
				t.Fatalf("history = %v, want found %v", h, tc.wantFound)
			}
			if tc.wantFound && (len(h.Decisions) != 1 || h.Decisions[0].Trigger != "queue") {
				t.Errorf("decoded history = %+v", h)
			}
			if tc.wantNote == "" && note != "" || !strings.Contains(note, tc.wantNote) || strings.Contains(note, "\n") {
				t.Errorf("note = %q, want one line with %q", note, tc.wantNote)
			}
		})
	}
}

func apierrorsNotFound() error {
	return apierrors.NewNotFound(schema.GroupResource{Group: historyv1alpha1.GroupName, Resource: "scaledobjects"}, "worker")
}

func apierrorsForbidden() error {
	return apierrors.NewForbidden(schema.GroupResource{Group: historyv1alpha1.GroupName, Resource: "scaledobjects"}, "worker", nil)
}

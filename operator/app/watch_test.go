package app

import (
	"reflect"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

func TestWatchNamespaces(t *testing.T) {
	for _, tt := range []struct {
		env  string
		want []string
	}{
		{"", nil},
		{`""`, nil},
		{"apps", []string{"apps"}},
		{"apps,jobs", []string{"apps", "jobs"}},
		{" apps , jobs ,", []string{"apps", "jobs"}},
	} {
		opts, err := cacheOptions(Watch{Namespaces: tt.env})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for ns := range opts.DefaultNamespaces {
			got = append(got, ns)
		}
		if len(got) != len(tt.want) {
			t.Errorf("WATCH_NAMESPACE=%q watches %v, want %v", tt.env, got, tt.want)
		}
		for _, ns := range tt.want {
			if _, ok := opts.DefaultNamespaces[ns]; !ok {
				t.Errorf("WATCH_NAMESPACE=%q does not watch %s", tt.env, ns)
			}
		}
	}
}

func TestWatchLabelSelectors(t *testing.T) {
	opts, err := cacheOptions(Watch{LabelSelector: "team=payments", LabelSelectorForTriggerAuth: "shared in (yes)"})
	if err != nil {
		t.Fatal(err)
	}
	selected := map[string]string{}
	for obj, by := range opts.ByObject {
		if by.Label != nil {
			selected[reflect.TypeOf(obj).Elem().Name()] = by.Label.String()
		}
	}
	want := map[string]string{
		reflect.TypeOf(kedav1alpha1.ScaledObject{}).Name():                 "team=payments",
		reflect.TypeOf(kedav1alpha1.ScaledJob{}).Name():                    "team=payments",
		reflect.TypeOf(autoscalingv2.HorizontalPodAutoscaler{}).Name():     "team=payments",
		reflect.TypeOf(kedav1alpha1.TriggerAuthentication{}).Name():        "shared in (yes)",
		reflect.TypeOf(kedav1alpha1.ClusterTriggerAuthentication{}).Name(): "shared in (yes)",
		// The Jobs of ScaledJobs keep their own selector.
		reflect.TypeOf(batchv1.Job{}).Name(): "scaledjob.keda.sh/name",
	}
	if !reflect.DeepEqual(selected, want) {
		t.Errorf("label selectors by kind %v, want %v", selected, want)
	}

	_, err = cacheOptions(Watch{LabelSelector: "team in (a"})
	if err == nil || !strings.Contains(err.Error(), `WATCH_LABEL_SELECTOR "team in (a"`) || !strings.Contains(err.Error(), "e.g. team=payments") {
		t.Errorf("a selector that does not parse gave %v", err)
	}
}

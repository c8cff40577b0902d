package app

import (
	"fmt"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// Watch is what the operator handles, as KEDA's environment scopes it.
type Watch struct {
	// Namespaces is WATCH_NAMESPACE: one namespace or several separated by commas; empty (or
	// KEDA's `""`) means all.
	Namespaces string
	// LabelSelector is WATCH_LABEL_SELECTOR: only ScaledObjects, ScaledJobs and HPAs it selects
	// are handled, so that several operators can share a cluster.
	LabelSelector string
	// LabelSelectorForTriggerAuth is WATCH_LABEL_SELECTOR_FOR_TRIGGERAUTH, the same for
	// TriggerAuthentications and ClusterTriggerAuthentications (apart, so that a
	// ClusterTriggerAuthentication can serve operators of different label selectors).
	LabelSelectorForTriggerAuth string
}

// namespaces lists the watched namespaces; nil means all.
func (w Watch) namespaces() []string {
	if v := strings.TrimSpace(w.Namespaces); v == "" || v == `""` {
		return nil
	}
	var out []string
	for _, ns := range strings.Split(w.Namespaces, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			out = append(out, ns)
		}
	}
	return out
}

// scope limits opts to the watched namespaces and labels: the cache holds nothing else, so
// neither the controllers nor the metrics server see it. A selector that does not parse is an
// error naming its variable.
func (w Watch) scope(opts *cache.Options) error {
	if nss := w.namespaces(); len(nss) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range nss {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	for _, sel := range []struct {
		name, value string
		objs        []client.Object
	}{
		{"WATCH_LABEL_SELECTOR", w.LabelSelector, []client.Object{&kedav1alpha1.ScaledObject{}, &kedav1alpha1.ScaledJob{}, &autoscalingv2.HorizontalPodAutoscaler{}}},
		{"WATCH_LABEL_SELECTOR_FOR_TRIGGERAUTH", w.LabelSelectorForTriggerAuth, []client.Object{&kedav1alpha1.TriggerAuthentication{}, &kedav1alpha1.ClusterTriggerAuthentication{}}},
	} {
		v := strings.TrimSpace(sel.value)
		if v == "" || v == `""` {
			continue
		}
		selector, err := labels.Parse(v)
		if err != nil {
			return fmt.Errorf("%s %q is not a label selector (%v): write it as kubectl -l takes it, e.g. team=payments", sel.name, v, err)
		}
		for _, o := range sel.objs {
			by := opts.ByObject[o]
			by.Label = selector
			opts.ByObject[o] = by
		}
	}
	return nil
}

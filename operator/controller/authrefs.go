package controller

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// syncAuthReferences keeps status.scaledobjects of every (Cluster)TriggerAuthentication that so
// refers to listing so, and drops so from them when it is being deleted. Names are listed as KEDA
// lists them: comma separated, sorted.
func (r *ScaledObjectReconciler) syncAuthReferences(ctx context.Context, so *kedav1alpha1.ScaledObject, remove bool) error {
	seen := map[string]bool{}
	for _, t := range so.Spec.Triggers {
		ref := t.AuthenticationRef
		if ref == nil || seen[ref.TriggerAuthKind()+"/"+ref.Name] {
			continue
		}
		seen[ref.TriggerAuthKind()+"/"+ref.Name] = true
		var obj client.Object
		var status *kedav1alpha1.TriggerAuthenticationStatus
		name := so.Name
		switch ref.TriggerAuthKind() {
		case "ClusterTriggerAuthentication":
			cta := &kedav1alpha1.ClusterTriggerAuthentication{}
			obj, status = cta, &cta.Status
			name = so.Namespace + "/" + so.Name
			if err := r.Client.Get(ctx, types.NamespacedName{Name: ref.Name}, cta); err != nil {
				continue
			}
		default:
			ta := &kedav1alpha1.TriggerAuthentication{}
			obj, status = ta, &ta.Status
			if err := r.Client.Get(ctx, types.NamespacedName{Namespace: so.Namespace, Name: ref.Name}, ta); err != nil {
				continue
			}
		}
		updated := editList(status.ScaledObjectNamesStr, name, remove)
		if updated == status.ScaledObjectNamesStr {
			continue
		}
		status.ScaledObjectNamesStr = updated
		if err := r.Client.Status().Update(ctx, obj); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("failed to update the status of %s %s: %w", ref.TriggerAuthKind(), ref.Name, err)
		}
	}
	return nil
}

// editList adds or removes name in a sorted comma-separated list.
func editList(list, name string, remove bool) string {
	set := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			set[n] = true
		}
	}
	if remove {
		delete(set, name)
	} else {
		set[name] = true
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

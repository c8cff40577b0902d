package ownership

import (
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

func TestOwnedBy(t *testing.T) {
	so := &kedav1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{Name: "worker", UID: "new-uid"}}
	ref := func(kind, name, uid string) metav1.OwnerReference {
		return metav1.OwnerReference{APIVersion: "keda.sh/v1alpha1", Kind: kind, Name: name, UID: types.UID("uid-" + uid)}
	}
	for _, tc := range []struct {
		name   string
		owners []metav1.OwnerReference
		want   bool
	}{
		{"no owner", nil, false},
		{"this ScaledObject", []metav1.OwnerReference{ref("ScaledObject", "worker", "new")}, true},
		{"its predecessor under the same name", []metav1.OwnerReference{ref("ScaledObject", "worker", "old")}, true},
		{"another ScaledObject", []metav1.OwnerReference{ref("ScaledObject", "other", "new")}, false},
		{"a Deployment of the same name", []metav1.OwnerReference{ref("Deployment", "worker", "new")}, false},
		{"among other owners", []metav1.OwnerReference{ref("Deployment", "x", "a"), ref("ScaledObject", "worker", "b")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "keda-hpa-worker", OwnerReferences: tc.owners}}
			if got := ownedBy(h, so); got != tc.want {
				t.Errorf("ownedBy = %v, want %v", got, tc.want)
			}
		})
	}
}

package v1alpha1_test

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kedactl/kedactl/api/v1alpha1"
)

func cond(t v1alpha1.ConditionType, s metav1.ConditionStatus, reason string) v1alpha1.Condition {
	return v1alpha1.Condition{Type: t, Status: s, Reason: reason, Message: reason + " message"}
}

func TestConditionsGetAndIsTrue(t *testing.T) {
	conds := v1alpha1.Conditions{
		cond(v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonScaledObjectReady),
		cond(v1alpha1.ConditionActive, metav1.ConditionFalse, v1alpha1.ReasonScalerNotActive),
		cond(v1alpha1.ConditionFallback, metav1.ConditionUnknown, v1alpha1.ReasonUnknown),
	}
	tests := []struct {
		typ        v1alpha1.ConditionType
		wantReason string // "" means absent
		wantTrue   bool
	}{
		{v1alpha1.ConditionReady, v1alpha1.ReasonScaledObjectReady, true},
		{v1alpha1.ConditionActive, v1alpha1.ReasonScalerNotActive, false},
		{v1alpha1.ConditionFallback, v1alpha1.ReasonUnknown, false},
		{v1alpha1.ConditionPaused, "", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ), func(t *testing.T) {
			got := conds.Get(tt.typ)
			switch {
			case tt.wantReason == "" && got != nil:
				t.Errorf("Get(%s) = %+v, want nil", tt.typ, got)
			case tt.wantReason != "" && (got == nil || got.Reason != tt.wantReason):
				t.Errorf("Get(%s) = %+v, want reason %s", tt.typ, got, tt.wantReason)
			}
			if conds.IsTrue(tt.typ) != tt.wantTrue {
				t.Errorf("IsTrue(%s) = %v, want %v", tt.typ, !tt.wantTrue, tt.wantTrue)
			}
		})
	}

	var none v1alpha1.Conditions
	if none.Get(v1alpha1.ConditionReady) != nil || none.IsTrue(v1alpha1.ConditionReady) {
		t.Error("a nil Conditions has no conditions")
	}
}

func TestConditionsGetReturnsElement(t *testing.T) {
	conds := v1alpha1.Conditions{cond(v1alpha1.ConditionReady, metav1.ConditionFalse, "")}
	conds.Get(v1alpha1.ConditionReady).Status = metav1.ConditionTrue
	if !conds.IsTrue(v1alpha1.ConditionReady) {
		t.Error("Get must point into the list, not at a copy")
	}
}

func TestConditionsSet(t *testing.T) {
	ready := cond(v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonScaledObjectReady)
	active := cond(v1alpha1.ConditionActive, metav1.ConditionTrue, v1alpha1.ReasonScalerActive)
	tests := []struct {
		name        string
		start       v1alpha1.Conditions
		set         v1alpha1.Condition
		wantChanged bool
		want        v1alpha1.Conditions
	}{
		{
			name: "adds to an empty list", set: ready, wantChanged: true,
			want: v1alpha1.Conditions{ready},
		},
		{
			name: "appends a new type after the existing ones", start: v1alpha1.Conditions{ready}, set: active, wantChanged: true,
			want: v1alpha1.Conditions{ready, active},
		},
		{
			name: "identical condition: no change", start: v1alpha1.Conditions{ready, active}, set: ready, wantChanged: false,
			want: v1alpha1.Conditions{ready, active},
		},
		{
			name: "status change replaces in place", start: v1alpha1.Conditions{ready, active},
			set:         cond(v1alpha1.ConditionActive, metav1.ConditionFalse, v1alpha1.ReasonScalerNotActive),
			wantChanged: true,
			want:        v1alpha1.Conditions{ready, cond(v1alpha1.ConditionActive, metav1.ConditionFalse, v1alpha1.ReasonScalerNotActive)},
		},
		{
			name: "message-only change counts as a change", start: v1alpha1.Conditions{ready},
			set:         v1alpha1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonScaledObjectReady, Message: "other"},
			wantChanged: true,
			want:        v1alpha1.Conditions{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonScaledObjectReady, Message: "other"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conds := append(v1alpha1.Conditions(nil), tt.start...)
			if changed := conds.Set(tt.set); changed != tt.wantChanged {
				t.Errorf("Set() changed = %v, want %v", changed, tt.wantChanged)
			}
			if !slices.Equal(conds, tt.want) {
				t.Errorf("conditions = %+v, want %+v", conds, tt.want)
			}
		})
	}
}

// TestConditionsDeepCopy: a status copied for an update must not share the conditions' array.
func TestConditionsDeepCopy(t *testing.T) {
	orig := &v1alpha1.ScaledJobStatus{Conditions: v1alpha1.Conditions{cond(v1alpha1.ConditionReady, metav1.ConditionTrue, "")}}
	cp := orig.DeepCopy()
	cp.Conditions.Set(cond(v1alpha1.ConditionReady, metav1.ConditionFalse, ""))
	if !orig.Conditions.IsTrue(v1alpha1.ConditionReady) {
		t.Error("changing the copy changed the original")
	}
}

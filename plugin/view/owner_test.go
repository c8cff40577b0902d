package view

import (
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kedactl/kedactl/internal/shard"
)

func memberLease(group, id string, renewed time.Time) coordinationv1.Lease {
	return coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{shard.LabelGroup: group}},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To(id), LeaseDurationSeconds: ptr.To(int32(15)), RenewTime: ptr.To(metav1.NewMicroTime(renewed))},
	}
}

func TestMembershipOwner(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	fresh, expired := now.Add(-time.Second), now.Add(-20*time.Second)
	ids := []string{"keda-operator-a_1", "keda-operator-b_2", "keda-operator-c_3"}
	// A name whose owner among all three is c, so that c's expiry moves it.
	var name string
	for i := 0; name == ""; i++ {
		if n := "app-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26); shard.Owner(shard.Key("ScaledObject", "ns", n), ids) == ids[2] {
			name = n
		}
	}
	survivor := shard.Owner(shard.Key("ScaledObject", "ns", name), ids[:2])
	for _, tc := range []struct {
		name      string
		leases    []coordinationv1.Lease
		wantOwner string
		wantNote  string
	}{
		{name: "no membership: one replica or KEDA's operator", wantOwner: "", wantNote: ""},
		{name: "three live members", leases: []coordinationv1.Lease{memberLease("operator.keda.sh", ids[0], fresh), memberLease("operator.keda.sh", ids[1], fresh), memberLease("operator.keda.sh", ids[2], fresh)},
			wantOwner: ids[2], wantNote: ids[2]},
		{name: "the owner's Lease expired", leases: []coordinationv1.Lease{memberLease("operator.keda.sh", ids[0], fresh), memberLease("operator.keda.sh", ids[1], fresh), memberLease("operator.keda.sh", ids[2], expired)},
			wantOwner: survivor, wantNote: ids[2] + " is unreachable (its membership Lease expired 5s ago); " + survivor + " polls it now"},
		{name: "a Lease of no group is not a member", leases: []coordinationv1.Lease{{Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("leader")}}}},
		{name: "of two groups, the one with more live members", leases: []coordinationv1.Lease{memberLease("other", "lonely_9", fresh), memberLease("operator.keda.sh", ids[0], fresh), memberLease("operator.keda.sh", ids[1], fresh)},
			wantOwner: survivor, wantNote: survivor},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMembership(tc.leases, now)
			if got := m.Owner("ScaledObject", "ns", name); got != tc.wantOwner {
				t.Errorf("Owner = %q, want %q", got, tc.wantOwner)
			}
			if got := m.OwnerNote("ScaledObject", "ns", name, now); got != tc.wantNote {
				t.Errorf("OwnerNote = %q, want %q", got, tc.wantNote)
			}
		})
	}
}

func TestShortOwner(t *testing.T) {
	for in, want := range map[string]string{"": "-", "keda-operator-7c9f-abcde_0f1e2d3c-aaaa": "keda-operator-7c9f-abcde", "plain": "plain"} {
		if got := ShortOwner(in); got != want {
			t.Errorf("ShortOwner(%q) = %q, want %q", in, got, want)
		}
	}
}

package view

import (
	"fmt"
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
	fresh, silent, expired := now.Add(-time.Second), now.Add(-9*time.Second), now.Add(-20*time.Second)
	ids := []string{"keda-operator-a_1", "keda-operator-b_2", "keda-operator-c_3"}
	// A name whose owner among all three is c.
	var name string
	for i := 0; name == ""; i++ {
		if n := fmt.Sprintf("app-%d", i); shard.Owner(shard.Key("ScaledObject", "ns", n), ids) == ids[2] {
			name = n
		}
	}
	survivor := shard.Owner(shard.Key("ScaledObject", "ns", name), ids[:2])
	group := "operator.keda.sh"
	for _, tc := range []struct {
		name      string
		leases    []coordinationv1.Lease
		wantOwner string
		wantNote  string
	}{
		{name: "no membership: one replica or KEDA's operator"},
		{name: "three live members", leases: []coordinationv1.Lease{memberLease(group, ids[0], fresh), memberLease(group, ids[1], fresh), memberLease(group, ids[2], fresh)},
			wantOwner: ids[2], wantNote: ids[2]},
		{name: "the owner stopped renewing: killed or cut off, its Lease not yet over",
			leases:    []coordinationv1.Lease{memberLease(group, ids[0], fresh), memberLease(group, ids[1], fresh), memberLease(group, ids[2], silent)},
			wantOwner: ids[2],
			wantNote:  ids[2] + ", which may be unreachable: it has not renewed its membership Lease for 9s (the other replicas take its objects when the Lease ends in 6s)"},
		{name: "the owner's Lease expired: the object is another's",
			leases:    []coordinationv1.Lease{memberLease(group, ids[0], fresh), memberLease(group, ids[1], fresh), memberLease(group, ids[2], expired)},
			wantOwner: survivor, wantNote: survivor},
		{name: "every Lease expired", leases: []coordinationv1.Lease{memberLease(group, ids[2], expired)},
			wantNote: "no replica: " + ids[2] + ", which would, is unreachable (its membership Lease expired 5s ago) and no replica holds a live one"},
		{name: "a Lease of no group is not a member", leases: []coordinationv1.Lease{{Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("leader")}}}},
		{name: "of two groups, the one with more live members", leases: []coordinationv1.Lease{memberLease("other", "lonely_9", fresh), memberLease(group, ids[0], fresh), memberLease(group, ids[1], fresh)},
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

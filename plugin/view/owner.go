package view

import (
	"fmt"
	"sort"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"

	"github.com/kedactl/kedactl/internal/shard"
)

// Membership is the operator replicas as their membership Leases show them: which one polls
// each object is computed as the operator computes it (internal/shard), so no status field or
// annotation is needed.
type Membership struct {
	// Live are the members whose Lease is held; Expired those whose Lease ran out and that the
	// leader has not deleted yet (a replica killed or cut off a little while ago).
	Live, Expired map[string]LeaseTimes
}

// LeaseTimes is when a member last renewed its Lease and when the Lease ends unless renewed.
type LeaseTimes struct {
	Renewed, Ends time.Time
}

// NewMembership reads the membership Leases of one group as of now. Leases of several groups
// (several operators) keep the group with the most live members.
func NewMembership(leases []coordinationv1.Lease, now time.Time) Membership {
	groups := map[string]*Membership{}
	for i := range leases {
		l := &leases[i]
		group, ok := l.Labels[shard.LabelGroup]
		if !ok || l.Spec.HolderIdentity == nil || l.Spec.RenewTime == nil {
			continue
		}
		m := groups[group]
		if m == nil {
			m = &Membership{Live: map[string]LeaseTimes{}, Expired: map[string]LeaseTimes{}}
			groups[group] = m
		}
		end, _ := shard.Expiry(l)
		times := LeaseTimes{Renewed: l.Spec.RenewTime.Time, Ends: end}
		if shard.Live(l, now) {
			m.Live[*l.Spec.HolderIdentity] = times
		} else {
			m.Expired[*l.Spec.HolderIdentity] = times
		}
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	best := Membership{}
	for _, g := range names {
		if best.Live == nil || len(groups[g].Live) > len(best.Live) {
			best = *groups[g]
		}
	}
	return best
}

// Owner is the live replica that polls the object, or "" when no replica holds a live
// membership Lease (one replica without peering, KEDA's own operator, or every replica gone).
func (m Membership) Owner(kind, namespace, name string) string {
	return shard.Owner(shard.Key(kind, namespace, name), keys(m.Live))
}

// OwnerNote says which replica polls the object, and when that replica looks unreachable: it
// has not renewed its Lease for more than a third of its duration (replicas renew several times
// a duration), so it was likely killed or cut off and the others take its objects once the Lease
// ends; or no replica holds a live Lease and the one that would own the object has expired. Empty
// when there is no membership at all.
func (m Membership) OwnerNote(kind, namespace, name string, now time.Time) string {
	if owner := m.Owner(kind, namespace, name); owner != "" {
		t := m.Live[owner]
		if silent := now.Sub(t.Renewed); silent > t.Ends.Sub(t.Renewed)/3 {
			return fmt.Sprintf("%s, which may be unreachable: it has not renewed its membership Lease for %s (the other replicas take its objects when the Lease ends in %s)",
				owner, silent.Round(time.Second), t.Ends.Sub(now).Round(time.Second))
		}
		return owner
	}
	if was := shard.Owner(shard.Key(kind, namespace, name), keys(m.Expired)); was != "" {
		return fmt.Sprintf("no replica: %s, which would, is unreachable (its membership Lease expired %s ago) and no replica holds a live one",
			was, now.Sub(m.Expired[was].Ends).Round(time.Second))
	}
	return ""
}

func keys(m map[string]LeaseTimes) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ShortOwner drops the random suffix a replica's ID carries (pod name, then _ and a UUID): the
// pod name is what a reader looks for.
func ShortOwner(id string) string {
	if id == "" {
		return "-"
	}
	if i := strings.LastIndexByte(id, '_'); i > 0 {
		return id[:i]
	}
	return id
}

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
	// leader has not deleted yet (a replica killed or cut off moments ago).
	Live, Expired map[string]time.Time
}

// NewMembership reads the membership Leases of one group as of now. Leases of several groups
// (several operators) keep the group with the most live members.
func NewMembership(leases []coordinationv1.Lease, now time.Time) Membership {
	groups := map[string]*Membership{}
	for i := range leases {
		l := &leases[i]
		group, ok := l.Labels[shard.LabelGroup]
		if !ok || l.Spec.HolderIdentity == nil {
			continue
		}
		m := groups[group]
		if m == nil {
			m = &Membership{Live: map[string]time.Time{}, Expired: map[string]time.Time{}}
			groups[group] = m
		}
		end, _ := shard.Expiry(l)
		if shard.Live(l, now) {
			m.Live[*l.Spec.HolderIdentity] = end
		} else {
			m.Expired[*l.Spec.HolderIdentity] = end
		}
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	best := Membership{}
	for _, g := range names {
		if len(groups[g].Live) > len(best.Live) {
			best = *groups[g]
		}
	}
	return best
}

// Owner is the live replica that polls the object, or "" when no replica holds a membership
// Lease (one replica without peering, or KEDA's own operator).
func (m Membership) Owner(kind, namespace, name string) string {
	return shard.Owner(shard.Key(kind, namespace, name), keys(m.Live))
}

// OwnerNote says who polls the object, and whether a replica that held it until moments ago is
// unreachable: the owner among every member still listed, live or not, is one whose Lease
// expired. Empty when no replica holds a membership Lease.
func (m Membership) OwnerNote(kind, namespace, name string, now time.Time) string {
	owner := m.Owner(kind, namespace, name)
	all := keys(m.Live)
	all = append(all, keys(m.Expired)...)
	was := shard.Owner(shard.Key(kind, namespace, name), all)
	if end, gone := m.Expired[was]; gone {
		next := owner
		if next == "" {
			next = "no live replica"
		}
		return fmt.Sprintf("%s is unreachable (its membership Lease expired %s ago); %s polls it now", was, now.Sub(end).Round(time.Second), next)
	}
	return owner
}

func keys(m map[string]time.Time) []string {
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

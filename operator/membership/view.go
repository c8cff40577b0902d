// Package membership knows the operator's replicas and which of them polls each object. Every
// replica holds a membership Lease (coordination.k8s.io) that it renews and that advertises where
// its peers reach it; the owner of an object is the live member with the highest rendezvous weight
// for its key (internal/shard), so every replica polls a share and a change of members moves only
// the share of the member that came or went.
package membership

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"

	"github.com/kedactl/kedactl/internal/shard"
	"github.com/kedactl/kedactl/operator/engine"
)

const (
	// LabelGroup marks a membership Lease with the group (the leader election id) it belongs to.
	LabelGroup = shard.LabelGroup
	// AnnotationPeerAddress is the host:port where the member's peer endpoint listens.
	AnnotationPeerAddress = shard.AnnotationPeerAddress
)

// Member is one replica of the operator.
type Member struct {
	// ID is the replica's identity: its membership Lease's and the leader Lease's holder.
	ID string
	// Address is the host:port of the replica's peer endpoint.
	Address string
}

// Owners says which replica polls an object, and so answers its metrics.
type Owners interface {
	// Owner returns the member that owns key, and whether it is this replica. An error says why the
	// owner cannot be reached (it advertises no peer address).
	Owner(key engine.Key) (owner Member, self bool, err error)
}

// View is what one replica knows of the group at one moment.
type View struct {
	Self Member
	// Members are the live members (their Lease not expired), by ID.
	Members map[string]Member
	// Leader is the holder of an unexpired leader Lease; empty when there is none.
	Leader string
}

// NewView builds the view from the membership Leases and the leader Lease (nil when absent) as read
// at now. A Lease counts while now is before its renewTime plus its duration.
func NewView(self Member, members []coordinationv1.Lease, leader *coordinationv1.Lease, now time.Time) View {
	v := View{Self: self, Members: map[string]Member{}}
	for i := range members {
		l := &members[i]
		if !live(l, now) || l.Spec.HolderIdentity == nil {
			continue
		}
		id := *l.Spec.HolderIdentity
		v.Members[id] = Member{ID: id, Address: l.Annotations[AnnotationPeerAddress]}
	}
	// This replica is a member whether or not its own Lease has been read back yet.
	v.Members[self.ID] = self
	if leader != nil && leader.Spec.HolderIdentity != nil && live(leader, now) {
		v.Leader = *leader.Spec.HolderIdentity
	}
	return v
}

func live(l *coordinationv1.Lease, now time.Time) bool { return shard.Live(l, now) }

// ShardKey is the string key is hashed by; the plugin computes the same from a ScaledObject.
func ShardKey(key engine.Key) string { return shard.Key(string(key.Kind), key.Namespace, key.Name) }

// Owner is the live member with the highest rendezvous weight for key. The view always holds this
// replica, so there is always an owner.
func (v View) Owner(key engine.Key) (Member, bool, error) {
	id := shard.Owner(ShardKey(key), v.IDs())
	if id == v.Self.ID {
		return v.Self, true, nil
	}
	m := v.Members[id]
	if m.Address == "" {
		return m, false, fmt.Errorf("the owning replica %s advertises no peer address in its membership Lease", id)
	}
	return m, false, nil
}

// Owns reports whether this replica owns key in this view.
func (v View) Owns(key engine.Key) bool {
	return shard.Owner(ShardKey(key), v.IDs()) == v.Self.ID
}

// IDs returns the live members' IDs, sorted.
func (v View) IDs() []string {
	out := make([]string, 0, len(v.Members))
	for id := range v.Members {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

var notLeaseName = regexp.MustCompile(`[^a-z0-9.-]+`)

// LeaseName is the name of a member's Lease: the group's, then the member's ID made a valid
// object name.
func LeaseName(group, id string) string {
	name := group + "-member-" + strings.Trim(notLeaseName.ReplaceAllString(strings.ToLower(id), "-"), "-.")
	if len(name) > 253 {
		name = name[:253]
	}
	return strings.TrimRight(name, "-.")
}

package membership

import (
	"fmt"
	"time"

	"github.com/kedactl/kedactl/internal/shard"
)

// Epoch is one membership as this replica saw it, from Since until the next epoch's Since.
type Epoch struct {
	Since   time.Time
	Members []string
}

// Tenure is what a replica knows of its own standing when it asks whether it may act.
type Tenure struct {
	Self string
	// LeaseValidUntil is when this replica's own membership Lease expires unless renewed: the
	// renewTime it last wrote successfully plus the lease duration. Zero before the first renewal
	// and after the Lease is given up.
	LeaseValidUntil time.Time
	// ReadAt is when the latest view was read (the start of its request). Zero before the first.
	ReadAt time.Time
	// Epochs are the memberships seen recently, oldest first; the last is the current view.
	Epochs []Epoch
}

// FenceTimes are the margins of MayAct.
type FenceTimes struct {
	// Margin is how long before its own Lease expires a replica stops acting: time for a write
	// under way to land, and for the clocks of the replicas to differ.
	Margin time.Duration
	// Handover is how long an old owner may go on acting on a view it read before it learns of a
	// change, and so how long a new owner waits after gaining an object. A replica whose view is
	// older than Handover less Margin stops acting (Margin for a write under way to land).
	Handover time.Duration
}

// MayAct decides whether this replica may act on the object hashed by key at now: write its
// target's /scale, or create its Jobs. It may while its own Lease outlives now by Margin, its
// view is fresh, and it has owned key in every view of the last Handover (and has seen a
// Handover's worth of views: a replica that just started waits). The error says why not.
//
// Why this is enough for two replicas never to act on one object at once: an old owner stops at
// the latest Handover after the read that showed it the object (views go stale), or Margin before
// its Lease ends (which comes before anyone else sees it end); a new owner's first view showing it
// the object was read after the change happened, and it waits a further Handover.
func MayAct(key string, t Tenure, now time.Time, f FenceTimes) error {
	if t.LeaseValidUntil.IsZero() {
		return fmt.Errorf("this replica holds no membership Lease yet")
	}
	if !now.Add(f.Margin).Before(t.LeaseValidUntil) {
		return fmt.Errorf("this replica's membership Lease expires at %s and could not be renewed in time", t.LeaseValidUntil.UTC().Format(time.RFC3339))
	}
	if t.ReadAt.IsZero() || len(t.Epochs) == 0 {
		return fmt.Errorf("this replica has not read the membership yet")
	}
	// The margin again: a write checked just before the view turns stale lands a little later.
	if age := now.Sub(t.ReadAt); age >= f.Handover-f.Margin {
		return fmt.Errorf("this replica's view of the membership is %s old (it cannot read the Leases)", age.Round(time.Second))
	}
	if owner := shard.Owner(key, t.Epochs[len(t.Epochs)-1].Members); owner != t.Self {
		return fmt.Errorf("replica %s owns it", owner)
	}
	from := now.Add(-f.Handover)
	if t.Epochs[0].Since.After(from) {
		return fmt.Errorf("this replica has known the membership for less than %s (handover)", f.Handover)
	}
	for i := len(t.Epochs) - 2; i >= 0; i-- {
		if !t.Epochs[i+1].Since.After(from) {
			break // this epoch ended before the handover window
		}
		if owner := shard.Owner(key, t.Epochs[i].Members); owner != t.Self {
			return fmt.Errorf("it moved here from replica %s at %s; waiting %s for the handover", owner, t.Epochs[i+1].Since.UTC().Format(time.RFC3339), f.Handover)
		}
	}
	return nil
}

// trim drops the epochs that ended before the handover window, keeping one that covers its start.
func trim(epochs []Epoch, now time.Time, handover time.Duration) []Epoch {
	from := now.Add(-handover)
	first := 0
	for i := 1; i < len(epochs); i++ {
		if !epochs[i].Since.After(from) {
			first = i
		}
	}
	return epochs[first:]
}

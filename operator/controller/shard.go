package controller

import (
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/kedactl/kedactl/operator/engine"
)

// Owners says which objects this replica handles when the replicas split them (membership's
// Registry).
type Owners interface {
	// Owns reports whether this replica owns key now.
	Owns(key engine.Key) bool
}

// Sharding splits ScaledObjects and ScaledJobs among the replicas: each replica's controller runs
// (no leader election) and fully handles the objects it owns (finalizer, HPA, status, polling),
// and drops the others. The zero value handles every object, on the leader only.
type Sharding struct {
	Owners Owners
	// Moved delivers the objects whose owner changed, to be taken up or dropped.
	Moved <-chan event.GenericEvent
}

// owns reports whether this replica handles key.
func (s Sharding) owns(key engine.Key) bool { return s.Owners == nil || s.Owners.Owns(key) }

// apply sets up the controller for sharding: every replica runs it, and it watches Moved.
func (s Sharding) apply(b *builder.Builder, opts crcontroller.Options) *builder.Builder {
	if s.Owners == nil {
		return b.WithOptions(opts)
	}
	opts.NeedLeaderElection = ptr.To(false)
	b = b.WithOptions(opts)
	if s.Moved != nil {
		b = b.WatchesRawSource(source.Channel(s.Moved, &handler.EnqueueRequestForObject{}))
	}
	return b
}

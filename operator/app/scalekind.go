package app

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/scale"
	"k8s.io/utils/clock"
)

// rediscoverEvery bounds how often a resource missing from discovery makes the operator read
// discovery again.
const rediscoverEvery = 30 * time.Second

// refreshingScaleKindResolver reads discovery again when a resource is not in the cached copy: a
// CRD with a /scale subresource installed after the operator started is then scalable without a
// restart. A resource that stays missing (a typo in scaleTargetRef) re-reads discovery at most
// once per rediscoverEvery, and only for itself: a thousand ScaledObjects naming a missing kind
// must not turn every poll into a full discovery walk.
type refreshingScaleKindResolver struct {
	next  scale.ScaleKindResolver
	cache discovery.CachedDiscoveryInterface
	clock clock.PassiveClock

	mu          sync.Mutex
	lastRefresh map[schema.GroupVersionResource]time.Time
}

func newRefreshingScaleKindResolver(next scale.ScaleKindResolver, cache discovery.CachedDiscoveryInterface, clk clock.PassiveClock) *refreshingScaleKindResolver {
	return &refreshingScaleKindResolver{next: next, cache: cache, clock: clk, lastRefresh: map[schema.GroupVersionResource]time.Time{}}
}

func (r *refreshingScaleKindResolver) ScaleForResource(resource schema.GroupVersionResource) (schema.GroupVersionKind, error) {
	gvk, err := r.next.ScaleForResource(resource)
	if err == nil || !r.mayRefresh(resource) {
		return gvk, err
	}
	r.cache.Invalidate()
	return r.next.ScaleForResource(resource)
}

// mayRefresh reports whether a miss on resource may invalidate discovery now, and records it.
func (r *refreshingScaleKindResolver) mayRefresh(resource schema.GroupVersionResource) bool {
	now := r.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if last, ok := r.lastRefresh[resource]; ok && now.Sub(last) < rediscoverEvery {
		return false
	}
	r.lastRefresh[resource] = now
	return true
}

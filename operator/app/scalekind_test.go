package app

import (
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	clocktesting "k8s.io/utils/clock/testing"
)

// fakeKinds knows a resource once discovery has been refreshed `after` times.
type fakeKinds struct {
	discovery.CachedDiscoveryInterface
	invalidations int
	knownAfter    int
}

func (f *fakeKinds) Invalidate() { f.invalidations++ }

func (f *fakeKinds) ScaleForResource(r schema.GroupVersionResource) (schema.GroupVersionKind, error) {
	if r.Resource == "widgets" && f.invalidations >= f.knownAfter {
		return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: "Widget"}, nil
	}
	return schema.GroupVersionKind{}, errors.New("not found in discovery")
}

func TestMissingResourceRereadsDiscoveryAtMostOncePerInterval(t *testing.T) {
	kinds := &fakeKinds{knownAfter: 2}
	clk := clocktesting.NewFakePassiveClock(time.Unix(1000, 0))
	r := newRefreshingScaleKindResolver(kinds, kinds, clk)
	widgets := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	typo := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgetz"}

	for range 100 {
		if _, err := r.ScaleForResource(typo); err == nil {
			t.Fatal("a missing resource resolved")
		}
	}
	if kinds.invalidations != 1 {
		t.Fatalf("100 misses on one resource re-read discovery %d times, want 1", kinds.invalidations)
	}
	// Another resource is not held back by the first one's misses: a CRD installed later.
	if _, err := r.ScaleForResource(widgets); err != nil {
		t.Fatalf("a resource that discovery now has: %v", err)
	}
	if kinds.invalidations != 2 {
		t.Errorf("invalidations = %d, want 2", kinds.invalidations)
	}
	clk.SetTime(clk.Now().Add(rediscoverEvery))
	_, _ = r.ScaleForResource(typo)
	if kinds.invalidations != 3 {
		t.Errorf("after the interval a miss re-reads discovery again: invalidations = %d, want 3", kinds.invalidations)
	}
}

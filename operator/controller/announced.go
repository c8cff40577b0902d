package controller

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// announced remembers the readiness each object's events last announced (ready, or not ready with
// a message), so that one change is announced once. The object's own status says the same, but
// through the cache: a reconcile that a reconcile's own patch started reads the object before its
// status write arrives, and would announce the change a second time (and deliver a second
// CloudEvent).
type announced struct {
	mu   sync.Mutex
	last map[types.NamespacedName]string
}

// announce reports whether state differs from what was announced last for key, and records it.
func (a *announced) announce(key types.NamespacedName, state string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.last[key] == state {
		return false
	}
	if a.last == nil {
		a.last = map[types.NamespacedName]string{}
	}
	a.last[key] = state
	return true
}

// forget drops key (the object is gone).
func (a *announced) forget(key types.NamespacedName) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.last, key)
}

const announcedReady = "ready"

func announcedNotReady(msg string) string { return "not ready: " + msg }

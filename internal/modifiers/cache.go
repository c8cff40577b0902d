package modifiers

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// Cache holds each ScaledObject's compiled formula for its generation, so that activation and the
// metrics server compile a formula once per spec change rather than on every evaluation and every
// HPA request. A zero Cache is ready; it is safe for concurrent use.
type Cache struct {
	mu      sync.Mutex
	entries map[types.NamespacedName]compiled
}

type compiled struct {
	uid        types.UID
	generation int64
	composite  *Composite
	errs       field.ErrorList
}

// Compile is Compile(&so.Spec), from the cache when so's generation was compiled before.
func (c *Cache) Compile(so *kedav1alpha1.ScaledObject) (*Composite, field.ErrorList) {
	if c == nil || so.UID == "" {
		return Compile(&so.Spec)
	}
	key := types.NamespacedName{Namespace: so.Namespace, Name: so.Name}
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && e.uid == so.UID && e.generation == so.Generation {
		return e.composite, e.errs
	}
	composite, errs := Compile(&so.Spec)
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[types.NamespacedName]compiled{}
	}
	c.entries[key] = compiled{uid: so.UID, generation: so.Generation, composite: composite, errs: errs}
	c.mu.Unlock()
	return composite, errs
}

// Forget drops a deleted object's formula.
func (c *Cache) Forget(key types.NamespacedName) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.entries, key)
	c.mu.Unlock()
}

package resolve

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"
)

// clientIdle is how long a secret-store client is kept unused. An authentication resolves at every
// resync, far more often; one deleted, or whose credentials changed, leaves nothing behind after
// that.
const clientIdle = 15 * time.Minute

// pool keeps one client per source identity (where, and as whom), so that the resyncs of many
// triggers that share credentials share one client and its connections. Keys are HMACs under a
// random key, so no credential is kept in clear as a key. A client unused for clientIdle is
// dropped and its close function called.
type pool[T any] struct {
	now func() time.Time

	mu      sync.Mutex
	key     []byte
	entries map[string]*poolEntry[T]
}

type poolEntry[T any] struct {
	client T
	close  func()
	used   time.Time
}

// identity hashes parts, length-prefixed so that no two lists of parts write the same bytes.
func (p *pool[T]) identity(parts ...string) string {
	if p.key == nil {
		p.key = make([]byte, 32)
		// crypto/rand.Read does not fail on supported platforms.
		_, _ = rand.Read(p.key)
	}
	mac := hmac.New(sha256.New, p.key)
	for _, s := range parts {
		fmt.Fprintf(mac, "%d:%s", len(s), s)
	}
	return hex.EncodeToString(mac.Sum(nil))
}

// get returns the client of the identity made of parts, making it with build the first time.
// build runs under the pool's lock: it must not block on the network.
func (p *pool[T]) get(parts []string, build func() (T, func(), error)) (T, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.now != nil {
		now = p.now()
	}
	if p.entries == nil {
		p.entries = map[string]*poolEntry[T]{}
	}
	for k, e := range p.entries {
		if now.Sub(e.used) > clientIdle {
			if e.close != nil {
				e.close()
			}
			delete(p.entries, k)
		}
	}
	id := p.identity(parts...)
	if e, ok := p.entries[id]; ok {
		e.used = now
		return e.client, nil
	}
	c, closeFn, err := build()
	if err != nil {
		var zero T
		return zero, err
	}
	p.entries[id] = &poolEntry[T]{client: c, close: closeFn, used: now}
	return c, nil
}

// size is the number of clients kept.
func (p *pool[T]) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.entries)
}

package scalers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
)

// ClientPool shares one connection (an HTTP transport, a Redis or Kafka client, a *sql.DB, an
// AMQP connection) between every trigger that reaches the same source with the same identity:
// an operator with thousands of triggers on a few servers keeps a few connections, not one per
// trigger. Entries are reference counted; the last trigger to release one closes it.
//
// The operator creates one pool and passes it in every Config. A nil *ClientPool is valid and
// shares nothing: each trigger builds and closes its own client, as tests and `kubectl keda check`
// want.
type ClientPool struct {
	// key makes identities HMACs: credentials that are part of an identity are never kept, or
	// shown, in clear.
	key []byte

	mu      sync.Mutex
	entries map[string]*poolEntry
}

type poolEntry struct {
	refs  int
	value any
	close func()
}

// NewClientPool returns an empty pool.
func NewClientPool() *ClientPool {
	key := make([]byte, 32)
	// crypto/rand.Read does not fail on supported platforms.
	_, _ = rand.Read(key)
	return &ClientPool{key: key, entries: map[string]*poolEntry{}}
}

// identity hashes kind and the parts of an identity (strings, numbers, slices: anything
// encoding/json writes the same way every time) into the entry's key.
func (p *ClientPool) identity(kind string, parts ...any) (string, error) {
	mac := hmac.New(sha256.New, p.key)
	if err := json.NewEncoder(mac).Encode(append([]any{kind}, parts...)); err != nil {
		return "", fmt.Errorf("could not encode the identity of a %s connection: %w", kind, err)
	}
	return kind + ":" + hex.EncodeToString(mac.Sum(nil)), nil
}

// Len is the number of open shared clients, for tests and metrics.
func (p *ClientPool) Len() int {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.entries)
}

// Close closes every client still held; the operator calls it on shutdown, after the engine has
// closed its scalers, so it normally finds nothing.
func (p *ClientPool) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	entries := p.entries
	p.entries = map[string]*poolEntry{}
	p.mu.Unlock()
	for _, e := range entries {
		e.close()
	}
}

// acquirePooled returns the client of identity (kind, parts), building it with build when the
// pool has none, and the function that releases it; the client is closed when its last user
// releases it. Releasing twice is harmless. build must not do I/O: it runs under the pool's lock
// (every client here dials lazily, at its first request). With a nil pool the client is built
// for the caller alone.
func acquirePooled[T any](p *ClientPool, kind string, parts []any, build func() (T, func(), error)) (T, func(), error) {
	if p == nil {
		v, closeFn, err := build()
		if err != nil {
			return v, nil, err
		}
		return v, onceFunc(closeFn), nil
	}
	id, err := p.identity(kind, parts...)
	if err != nil {
		var zero T
		return zero, nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.entries[id]
	if !ok {
		v, closeFn, err := build()
		if err != nil {
			return v, nil, err
		}
		if closeFn == nil {
			closeFn = func() {}
		}
		e = &poolEntry{value: v, close: closeFn}
		p.entries[id] = e
	}
	e.refs++
	return e.value.(T), onceFunc(func() { p.release(id, e) }), nil
}

// release drops one reference to e and closes it after the last.
func (p *ClientPool) release(id string, e *poolEntry) {
	p.mu.Lock()
	e.refs--
	last := e.refs == 0 && p.entries[id] == e
	if last {
		delete(p.entries, id)
	}
	p.mu.Unlock()
	// Outside the lock: closing may wait for the server (an AMQP close handshake).
	if last {
		e.close()
	}
}

// onceFunc is sync.OnceFunc for a possibly nil f.
func onceFunc(f func()) func() {
	if f == nil {
		return func() {}
	}
	return sync.OnceFunc(f)
}

package resolve

import (
	"errors"
	"testing"
	"time"
)

// TestPool: one client per identity, reused; a client unused for clientIdle is closed and
// dropped at the next get; a failed build keeps nothing.
func TestPool(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	p := &pool[int]{now: func() time.Time { return now }}
	built, closed := 0, 0
	build := func() (int, func(), error) {
		built++
		return built, func() { closed++ }, nil
	}
	get := func(parts ...string) int {
		t.Helper()
		c, err := p.get(parts, build)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := get("eu-west-1", "AKID", "secret")
	if b := get("eu-west-1", "AKID", "secret"); b != a {
		t.Errorf("the same identity got client %d then %d", a, b)
	}
	// Length-prefixed parts: moving a boundary makes another identity.
	if c := get("eu-west-1A", "KID", "secret"); c == a {
		t.Error("two identities share a client")
	}
	if _, err := p.get([]string{"bad"}, func() (int, func(), error) { return 0, nil, errors.New("no") }); err == nil || p.size() != 2 {
		t.Errorf("failed build: err %v, %d clients kept", err, p.size())
	}
	now = now.Add(clientIdle / 2)
	get("eu-west-1", "AKID", "secret") // keeps the first one in use
	now = now.Add(clientIdle/2 + time.Second)
	get("eu-west-1", "AKID", "secret")
	if p.size() != 1 || closed != 1 {
		t.Errorf("after the idle period: %d clients kept, %d closed; want 1 and 1", p.size(), closed)
	}
	for k := range p.entries {
		if len(k) != 64 {
			t.Errorf("key %q is not an HMAC", k)
		}
	}
}

package vault

import (
	"context"
	"os"
	"testing"
)

// TestStartStop: a dev server starts on 127.0.0.1, serves KV version 2 at secret/ to the root
// token, refuses other tokens, and leaves nothing behind.
func TestStartStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts vault")
	}
	s := Start(t)
	ctx := context.Background()
	if err := s.Write(ctx, "secret/data/app", map[string]any{"data": map[string]any{"password": "pw"}}); err != nil {
		t.Fatal(err)
	}
	c, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Logical().ReadWithContext(ctx, "secret/data/app")
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := got.Data["data"].(map[string]any); data["password"] != "pw" {
		t.Errorf("read back %v", got.Data)
	}
	c.SetToken("not-the-root-token")
	if _, err := c.Logical().ReadWithContext(ctx, "secret/data/app"); err == nil {
		t.Error("a wrong token read the secret")
	}
	s.Stop()
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Stop: %v", s.dir, err)
	}
}

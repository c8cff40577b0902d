package azurite

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestServer: the account's key signs requests Azurite accepts (queues, messages, containers,
// blobs), and another key is refused.
func TestServer(t *testing.T) {
	s := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.CreateQueue(ctx, "jobs"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMessages(ctx, "jobs", 3); err != nil {
		t.Fatal(err)
	}
	if err := s.Hide(ctx, "jobs", 2, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearMessages(ctx, "jobs"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateContainer(ctx, "inbox"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutBlobs(ctx, "inbox", "a.json", "dir/b.json", "dir with space/c+d.csv"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBlobs(ctx, "inbox", "dir with space/c+d.csv"); err != nil {
		t.Fatal(err)
	}
	other := *s
	other.Key = "AAAA" + s.Key[4:]
	if err := other.CreateQueue(ctx, "refused"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("a request signed with another key: got %v, want a 403", err)
	}
}

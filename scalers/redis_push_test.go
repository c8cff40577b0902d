package scalers

import (
	"context"
	"testing"
	"time"
)

func TestListKeyspaceEvents(t *testing.T) {
	for flags, want := range map[string]bool{
		"":       false, // Redis's default: no notifications
		"Kl":     true,
		"lK":     true, // as Redis reports it back
		"AK":     true, // A includes l
		"KEA":    true,
		"El":     false, // keyevent channels only: the scaler listens on keyspace channels
		"Kg$":    false, // no list events
		"Kszxet": false,
	} {
		if got := listKeyspaceEvents(flags); got != want {
			t.Errorf("listKeyspaceEvents(%q) = %v, want %v", flags, got, want)
		}
	}
}

// TestRedisStreamsDoNotPush: the streams triggers share the list triggers' scaler type; their
// push stream returns at once, without connecting anywhere.
func TestRedisStreamsDoNotPush(t *testing.T) {
	s, err := New(context.Background(), &Config{TriggerType: "redis-streams", Timeout: time.Second,
		TriggerMetadata: map[string]string{"address": "127.0.0.1:1", "stream": "s", "consumerGroup": "g"}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.(PushScaler).Run(context.Background(), func(bool) { t.Error("pushed") }); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the streams trigger's Run does not return")
	}
}

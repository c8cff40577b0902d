package controller

import (
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

func TestAnnounced(t *testing.T) {
	var a announced
	key := types.NamespacedName{Namespace: "ns", Name: "so"}
	for i, step := range []struct {
		state string
		want  bool
	}{
		{announcedNotReady("target missing"), true},
		{announcedNotReady("target missing"), false}, // a second reconcile on a stale cache
		{announcedNotReady("bad trigger"), true},
		{announcedReady, true},
		{announcedReady, false},
		{announcedNotReady("target missing"), true},
	} {
		if got := a.announce(key, step.state); got != step.want {
			t.Errorf("step %d: announce(%q) = %v, want %v", i, step.state, got, step.want)
		}
	}
	a.forget(key)
	if !a.announce(key, announcedNotReady("target missing")) {
		t.Error("after forget: the next state is not announced")
	}
}

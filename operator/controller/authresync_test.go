package controller

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

func TestAuthResyncDelay(t *testing.T) {
	cases := []struct {
		name      string
		period    time.Duration
		users     int
		perSecond float64
		jitter    float64
		want      time.Duration
	}{
		{"few objects: the period", 30 * time.Second, 10, 1, 0, 30 * time.Second},
		{"many objects: spread to the rate", 30 * time.Second, 1000, 1, 0, 1000 * time.Second},
		{"no rate: the period", 30 * time.Second, 100000, 0, 0, 30 * time.Second},
		{"jitter adds up to a tenth", 30 * time.Second, 10, 1, 1, 33 * time.Second},
		{"jitter out of range is clamped", 30 * time.Second, 10, 1, 7, 33 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := authResyncDelay(c.period, c.users, c.perSecond, c.jitter); got != c.want {
				t.Errorf("authResyncDelay = %s, want %s", got, c.want)
			}
		})
	}
}

func TestSeenObjectsTotal(t *testing.T) {
	var s seenObjects
	a, b := types.NamespacedName{Namespace: "x", Name: "a"}, types.NamespacedName{Namespace: "y", Name: "b"}
	s.set(a, true)
	s.set(b, true)
	s.set(a, true)
	if got := s.total(); got != 2 {
		t.Errorf("total = %d, want 2", got)
	}
	s.set(a, false)
	if got := s.total(); got != 1 {
		t.Errorf("total after a delete = %d, want 1", got)
	}
}

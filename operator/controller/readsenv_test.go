package controller

import (
	"testing"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

func TestReadsEnv(t *testing.T) {
	trig := func(md map[string]string) []kedav1alpha1.ScaleTriggers {
		return []kedav1alpha1.ScaleTriggers{{Type: "metrics-api", Metadata: map[string]string{"url": "http://x"}}, {Type: "redis", Metadata: md}}
	}
	for _, c := range []struct {
		name     string
		triggers []kedav1alpha1.ScaleTriggers
		want     bool
	}{
		{"no FromEnv key", trig(map[string]string{"address": "redis:6379"}), false},
		{"a FromEnv key on the second trigger", trig(map[string]string{"addressFromEnv": "REDIS_ADDR"}), true},
		{"no triggers", nil, false},
	} {
		if got := readsEnv(c.triggers); got != c.want {
			t.Errorf("%s: readsEnv = %v, want %v", c.name, got, c.want)
		}
	}
}

package controller

import (
	"testing"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

func TestAuthEvent(t *testing.T) {
	ta, cta := kedav1alpha1.KindTriggerAuthentication, kedav1alpha1.KindClusterTriggerAuthentication
	for _, tt := range []struct {
		name              string
		kind              string
		seen              bool
		previous, current int64
		reason            string
	}{
		{"a new TriggerAuthentication", ta, false, 0, 1, "TriggerAuthenticationAdded"},
		{"a new ClusterTriggerAuthentication", cta, false, 0, 1, "ClusterTriggerAuthenticationAdded"},
		{"first seen after an edit (a restart)", ta, false, 0, 3, "ClusterTriggerAuthenticationUpdated"},
		{"its spec changed", ta, true, 1, 2, "ClusterTriggerAuthenticationUpdated"},
		{"a cluster one's spec changed", cta, true, 4, 5, "ClusterTriggerAuthenticationUpdated"},
		{"only its users changed", ta, true, 2, 2, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reason, msg := authEvent(tt.kind, tt.seen, tt.previous, tt.current)
			if reason != tt.reason || (reason != "" && msg == "") {
				t.Errorf("event %q %q, want reason %q", reason, msg, tt.reason)
			}
		})
	}
}

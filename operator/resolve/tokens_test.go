package resolve

import (
	"context"
	"fmt"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestTokensAreReusedUntilNearExpiry: re-resolving an authentication must hand out the same token
// (a new one would rebuild the scaler every resync) until a third of its lifetime is left.
func TestTokensAreReusedUntilNearExpiry(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	kube := fake.NewClientset()
	requests := 0
	kube.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "token" {
			return false, nil, nil
		}
		requests++
		return true, &authenticationv1.TokenRequest{Status: authenticationv1.TokenRequestStatus{
			Token: fmt.Sprintf("token-%d", requests), ExpirationTimestamp: metav1.NewTime(now.Add(TokenLifetime)),
		}}, nil
	})
	tokens := &Tokens{Kube: kube, Now: func() time.Time { return now }}
	for _, step := range []struct {
		advance time.Duration
		want    string
	}{
		{0, "token-1"},
		{10 * time.Minute, "token-1"},
		{25 * time.Minute, "token-1"}, // 35 min in: 25 min left, more than a third
		{10 * time.Minute, "token-2"}, // 45 min in: 15 min left
	} {
		now = now.Add(step.advance)
		got, err := tokens.Token(context.Background(), "apps", "reader")
		if err != nil {
			t.Fatal(err)
		}
		if got != step.want {
			t.Errorf("at +%s: token %q, want %q", step.advance, got, step.want)
		}
	}
}

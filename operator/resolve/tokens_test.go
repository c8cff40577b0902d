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

// TestTokensPerAudience: a token for Vault carries the audience Vault's role expects, and is kept
// apart from the apiserver-audience token of the same ServiceAccount.
func TestTokensPerAudience(t *testing.T) {
	kube := fake.NewClientset()
	var audiences [][]string
	kube.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		tr := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenRequest)
		audiences = append(audiences, tr.Spec.Audiences)
		return true, &authenticationv1.TokenRequest{Status: authenticationv1.TokenRequestStatus{
			Token: fmt.Sprintf("token-%d", len(audiences)), ExpirationTimestamp: metav1.NewTime(time.Now().Add(TokenLifetime)),
		}}, nil
	})
	tokens := &Tokens{Kube: kube}
	ctx := context.Background()
	api, _ := tokens.Token(ctx, "apps", "reader")
	vault, _ := tokens.TokenFor(ctx, "apps", "reader", "vault")
	again, _ := tokens.TokenFor(ctx, "apps", "reader", "vault")
	if api == vault || vault != again {
		t.Errorf("tokens: apiserver %q, vault %q then %q: want one per audience, reused", api, vault, again)
	}
	if len(audiences) != 2 || len(audiences[0]) != 0 || len(audiences[1]) != 1 || audiences[1][0] != "vault" {
		t.Errorf("requested audiences %v, want [] then [vault]", audiences)
	}
}

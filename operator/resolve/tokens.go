package resolve

import (
	"context"
	"fmt"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TokenLifetime is how long a boundServiceAccountToken token is requested for; it is renewed when
// a third of it is left.
const TokenLifetime = time.Hour

// Tokens requests ServiceAccount tokens through the TokenRequest API for boundServiceAccountToken and
// keeps each until it nears expiry, so that re-resolving an authentication (every --auth-resync-period)
// hands the scaler the same token instead of a new one, which would rebuild the scaler each time.
type Tokens struct {
	Kube kubernetes.Interface
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu     sync.Mutex
	tokens map[string]token
}

type token struct {
	value   string
	expires time.Time
}

// Token returns a token of ServiceAccount namespace/name valid for at least a third of
// TokenLifetime.
func (t *Tokens) Token(ctx context.Context, namespace, name string) (string, error) {
	return t.TokenFor(ctx, namespace, name, "")
}

// TokenFor is Token for one audience (empty: the apiserver's own), kept apart from the tokens of
// other audiences.
func (t *Tokens) TokenFor(ctx context.Context, namespace, name, audience string) (string, error) {
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	key := namespace + "/" + name
	cacheKey := key + "\x00" + audience
	t.mu.Lock()
	cached, ok := t.tokens[cacheKey]
	t.mu.Unlock()
	if ok && now().Add(TokenLifetime/3).Before(cached.expires) {
		return cached.value, nil
	}
	seconds := int64(TokenLifetime / time.Second)
	spec := authenticationv1.TokenRequestSpec{ExpirationSeconds: &seconds}
	if audience != "" {
		spec.Audiences = []string{audience}
	}
	tr, err := t.Kube.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("failed to request a token for ServiceAccount %s: %w", key, err)
	}
	t.mu.Lock()
	if t.tokens == nil {
		t.tokens = map[string]token{}
	}
	t.tokens[cacheKey] = token{value: tr.Status.Token, expires: tr.Status.ExpirationTimestamp.Time}
	t.mu.Unlock()
	return tr.Status.Token, nil
}

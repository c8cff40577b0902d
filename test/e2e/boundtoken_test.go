package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestBoundServiceAccountToken: a TriggerAuthentication's boundServiceAccountToken hands the scaler
// a token of the named ServiceAccount from the TokenRequest API. The metrics-api source here accepts
// only a bearer token that the apiserver's TokenReview says belongs to that ServiceAccount.
func TestBoundServiceAccountToken(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "boundtoken")
	want := "system:serviceaccount:" + ns + ":reader"
	var depth, accepted, refused atomic.Int64
	var lastToken atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		review, err := s.env.Kube.AuthenticationV1().TokenReviews().Create(r.Context(),
			&authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
		if err != nil || !review.Status.Authenticated || review.Status.User.Username != want {
			refused.Add(1)
			http.Error(w, "not the reader ServiceAccount", http.StatusUnauthorized)
			return
		}
		accepted.Add(1)
		lastToken.Store(token)
		fmt.Fprintf(w, `{"queue": {"depth": %d}}`, depth.Load())
	}))
	defer srv.Close()

	s.apply(t, ns, "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: reader\n")
	s.apply(t, ns, deployment("consumer", 0, nil))
	s.apply(t, ns, `apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: reader-token
spec:
  boundServiceAccountToken:
    - parameter: bearerToken
      serviceAccountName: reader
`)
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: consumer
spec:
  scaleTargetRef:
    name: consumer
  pollingInterval: 1
  cooldownPeriod: 5
  maxReplicaCount: 5
  triggers:
    - type: metrics-api
      metadata:
        url: %s
        valueLocation: queue.depth
        targetValue: "2"
        authMode: bearer
      authenticationRef:
        name: reader-token
`, srv.URL))
	s.waitReady(t, ns, "consumer", metav1.ConditionTrue)
	s.holdReplicas(t, ns, "consumer", 0, 2*time.Second)
	depth.Store(6)
	s.waitReplicas(t, ns, "consumer", 3, 60*time.Second)
	if accepted.Load() == 0 || refused.Load() > 0 {
		t.Errorf("the source accepted %d and refused %d requests; every request must carry the reader's token", accepted.Load(), refused.Load())
	}
	depth.Store(0)
	s.waitReplicas(t, ns, "consumer", 0, 60*time.Second)
	token, _ := lastToken.Load().(string)
	s.checkNoLeak(t, ns, []string{"consumer"}, map[string]string{"ServiceAccount token": token})
}

package resolve

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/scalers"
	oauth2server "github.com/kedactl/kedactl/test/servers/oauth2"
)

const oauthSecret = "oauth-client-s3cret"

// TestOAuth2: spec.oauth2 hands a metrics-api trigger with authMode oauth the client credentials
// under KEDA's parameter names; the scaler gets a token from a real token server (scopes and
// tokenUrlParams checked by it), reads an API that requires the token, and reuses the token
// across polls instead of asking for one per poll.
func TestOAuth2(t *testing.T) {
	auth := oauth2server.Start(t, oauth2server.Options{ClientID: "keda", ClientSecret: oauthSecret,
		Scopes: []string{"metrics.read", "queue.read"}, EndpointParams: map[string]string{"audience": "metrics-api"}})
	api := httptest.NewServer(auth.Require(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"queue": {"depth": 7}}`)
	})))
	defer api.Close()

	spec := func(secretKey string) kedav1alpha1.TriggerAuthenticationSpec {
		return kedav1alpha1.TriggerAuthenticationSpec{OAuth2: &kedav1alpha1.OAuth2{Type: "clientCredentials", ClientID: "keda", TokenURL: auth.TokenURL,
			ClientSecret:   &kedav1alpha1.SecretValue{ValueFrom: kedav1alpha1.ValueFromSecret{SecretKeyRef: kedav1alpha1.SecretKeyRef{Name: "oauth", Key: secretKey}}},
			Scopes:         []string{"metrics.read", "queue.read"},
			TokenURLParams: map[string]string{"audience": "metrics-api"}}}
	}
	reader := fakeReader(t,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "oauth"}, Data: map[string][]byte{"secret": []byte(oauthSecret), "wrong": []byte("wrong-" + oauthSecret)}},
		&kedav1alpha1.TriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "oauth"}, Spec: spec("secret")},
		&kedav1alpha1.TriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "wrong"}, Spec: spec("wrong")},
		&kedav1alpha1.TriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "nokey"}, Spec: spec("nokey")},
	)
	r := &Resolver{Reader: reader, ClusterObjectNamespace: "keda"}
	ctx := context.Background()

	params, err := r.AuthParams(ctx, "app", &kedav1alpha1.AuthenticationRef{Name: "oauth"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"oauthTokenURI": auth.TokenURL, "clientID": "keda", "clientSecret": oauthSecret,
		"scopes": "metrics.read,queue.read", "endpointParams": "audience=metrics-api"} {
		if params[k] != want {
			t.Errorf("parameter %s is not what KEDA gives the scalers", k)
		}
	}

	scaler := func(params map[string]string) scalers.Scaler {
		t.Helper()
		s, err := scalers.New(ctx, &scalers.Config{ScalableObjectName: "consumer", ScalableObjectNamespace: "app", ScalableObjectType: "ScaledObject",
			TriggerType: "metrics-api", AuthParams: params, Timeout: 5 * time.Second,
			TriggerMetadata: map[string]string{"url": api.URL, "valueLocation": "queue.depth", "targetValue": "2", "authMode": "oauth"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(ctx) })
		return s
	}
	s := scaler(params)
	metric := s.GetMetricSpecForScaling(ctx)[0].External.Metric.Name
	for i := range 3 {
		values, active, err := s.GetMetricsAndActivity(ctx, metric)
		if err != nil {
			t.Fatalf("poll %d: %v", i, err)
		}
		if !active || values[0].Value.Value() != 7 {
			t.Fatalf("poll %d: value %v active %v, want 7 and active", i, values[0].Value.Value(), active)
		}
	}
	if auth.Issued() != 1 {
		t.Errorf("the token server issued %d tokens for 3 polls, want 1 reused until it nears expiry", auth.Issued())
	}

	// A wrong client secret: the token server refuses, and the error shows neither secret.
	params, err = r.AuthParams(ctx, "app", &kedav1alpha1.AuthenticationRef{Name: "wrong"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = scaler(params).GetMetricsAndActivity(ctx, metric)
	if err == nil || !strings.Contains(err.Error(), "refused a token (401)") {
		t.Errorf("wrong client secret: error = %v, want the token server's refusal", err)
	}
	if err != nil && strings.Contains(err.Error(), oauthSecret) {
		t.Errorf("the error shows the client secret: %v", err)
	}

	_, err = r.AuthParams(ctx, "app", &kedav1alpha1.AuthenticationRef{Name: "nokey"}, noEnv)
	if err == nil || !strings.Contains(err.Error(), `oauth2: clientSecret: Secret app/oauth has no key "nokey"`) {
		t.Errorf("missing key: error = %v", err)
	}
}

package e2e

import (
	"context"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kedactl/kedactl/test/env"
)

// TestOperatorRunsAsChartServiceAccount shows that every other test of this package ran the operator
// with the chart's ServiceAccount and RBAC only: the operator's kubeconfig authenticates as that
// ServiceAccount, which may not list Secrets or touch Deployments beyond reading them.
func TestOperatorRunsAsChartServiceAccount(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ctx := context.Background()
	cfg, err := clientcmd.BuildConfigFromFlags("", s.env.OperatorKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	review, err := kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := "system:serviceaccount:" + env.ChartNamespace + ":" + env.ChartServiceAccount
	if got := review.Status.UserInfo.Username; got != want {
		t.Fatalf("the operator authenticates as %q, want %q", got, want)
	}
	if _, err := kube.CoreV1().Secrets("").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the operator's ServiceAccount may list Secrets cluster-wide (err=%v); the chart grants get only", err)
	}
	if err := kube.AppsV1().Deployments("default").Delete(ctx, "anything", metav1.DeleteOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the operator's ServiceAccount may delete Deployments (err=%v); it needs only get and /scale", err)
	}
}

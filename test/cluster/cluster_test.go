package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// TestClusterE2E starts the whole control plane once and checks that each part does its job: the
// scheduler and kwok run pods, the Job controller completes Jobs, TokenRequest mints tokens the
// apiserver accepts, the aggregator routes an APIService to a server on localhost (authenticating
// with the front-proxy certificate), and the HPA controller reconciles HPAs. Stop leaves no
// process behind.
func TestClusterE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	c := StartForTest(t, Options{Out: testWriter{t}})
	t.Logf("start to ready: %s", c.StartupDuration())
	kube := kubernetes.NewForConfigOrDie(c.RestConfig())
	ctx := t.Context()

	t.Run("deployment pods run on kwok nodes", func(t *testing.T) {
		labels := map[string]string{"app": "web"}
		dep := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](2),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "example.com/web:1"}}},
				},
			},
		}
		if _, err := kube.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		nodes, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		kwokNodes := map[string]bool{}
		for _, n := range nodes.Items {
			kwokNodes[n.Name] = n.Annotations["kwok.x-k8s.io/node"] == "fake"
		}
		waitUntil(t, "2 Running and Ready pods on kwok nodes", func(ctx context.Context) bool {
			pods, err := kube.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
			if err != nil {
				return false
			}
			ready := 0
			for _, p := range pods.Items {
				if p.Status.Phase == corev1.PodRunning && podReady(&p) && kwokNodes[p.Spec.NodeName] {
					ready++
				}
			}
			return ready == 2
		})
	})

	t.Run("jobs complete", func(t *testing.T) {
		job := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "once", Namespace: "default"},
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers:    []corev1.Container{{Name: "c", Image: "example.com/job:1"}},
			}}},
		}
		if _, err := kube.BatchV1().Jobs("default").Create(ctx, job, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "job Complete", func(ctx context.Context) bool {
			j, err := kube.BatchV1().Jobs("default").Get(ctx, "once", metav1.GetOptions{})
			if err != nil {
				return false
			}
			return slices.ContainsFunc(j.Status.Conditions, func(c batchv1.JobCondition) bool {
				return c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue
			})
		})
	})

	t.Run("service account tokens authenticate", func(t *testing.T) {
		tr, err := kube.CoreV1().ServiceAccounts("default").CreateToken(ctx, "default",
			&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		admin := c.RestConfig()
		cfg := &rest.Config{Host: admin.Host, TLSClientConfig: rest.TLSClientConfig{CAData: admin.CAData}, BearerToken: tr.Status.Token}
		review, err := kubernetes.NewForConfigOrDie(cfg).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := review.Status.UserInfo.Username; got != "system:serviceaccount:default:default" {
			t.Errorf("token authenticates as %q", got)
		}
		// RBAC is enforced: the default ServiceAccount may not list Secrets.
		if _, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Secrets("default").List(ctx, metav1.ListOptions{}); err == nil {
			t.Error("the default ServiceAccount could list secrets: RBAC is not enforced")
		}
	})

	t.Run("the aggregator routes an APIService to localhost", func(t *testing.T) {
		testAggregation(t, c, kube)
	})

	t.Run("the HPA controller reconciles", func(t *testing.T) {
		hpa := &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
				MinReplicas:    ptr.To[int32](1),
				MaxReplicas:    3,
				Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
					Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](50)},
				}}},
			},
		}
		if _, err := kube.AutoscalingV2().HorizontalPodAutoscalers("default").Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// No metrics server: the controller can read /scale (AbleToScale) but not CPU (ScalingActive=False).
		var conds []autoscalingv2.HorizontalPodAutoscalerCondition
		waitUntil(t, "HPA conditions AbleToScale and ScalingActive", func(ctx context.Context) bool {
			h, err := kube.AutoscalingV2().HorizontalPodAutoscalers("default").Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return false
			}
			conds = h.Status.Conditions
			has := func(typ autoscalingv2.HorizontalPodAutoscalerConditionType) bool {
				return slices.ContainsFunc(conds, func(c autoscalingv2.HorizontalPodAutoscalerCondition) bool { return c.Type == typ })
			}
			return has(autoscalingv2.AbleToScale) && has(autoscalingv2.ScalingActive)
		})
		for _, cond := range conds {
			t.Logf("HPA condition %s=%s %s", cond.Type, cond.Status, cond.Reason)
		}
	})

	pids := c.PIDs()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	for _, pid := range pids {
		// Each process leads its own group: nothing may be left in it.
		if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process group %d still has processes after Stop (kill -0: %v)", pid, err)
		}
	}
	if _, err := os.Stat(c.Dir()); !os.IsNotExist(err) {
		t.Errorf("cluster dir %s left behind", c.Dir())
	}
}

// testAggregation serves a discovery document on 127.0.0.1 over TLS, accepting only clients with
// a certificate from the requestheader CA that the apiserver publishes (as an aggregated API built
// on k8s.io/apiserver does), registers it as an APIService and reads it through the apiserver.
func testAggregation(t *testing.T, c *Cluster, kube kubernetes.Interface) {
	ctx := t.Context()
	const group, version = "probe.kedactl.dev", "v1alpha1"
	certPEM, keyPEM, caPEM, err := c.ServingCert("localhost", "127.0.0.1", APIServiceHost(group, version))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := kube.CoreV1().ConfigMaps("kube-system").Get(ctx, "extension-apiserver-authentication", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	frontProxyCA := x509.NewCertPool()
	if !frontProxyCA.AppendCertsFromPEM([]byte(auth.Data["requestheader-client-ca-file"])) {
		t.Fatalf("extension-apiserver-authentication has no requestheader-client-ca-file: %v", auth.Data)
	}
	doc, err := json.Marshal(metav1.APIResourceList{
		TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
		GroupVersion: group + "/" + version,
		APIResources: []metav1.APIResource{{Name: "probes", Namespaced: true, Kind: "Probe", Verbs: metav1.Verbs{"get"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var users, clientCNs []string
	mux := http.NewServeMux()
	mux.HandleFunc("/apis/"+group+"/"+version, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		users = append(users, r.Header.Get("X-Remote-User"))
		clientCNs = append(clientCNs, r.TLS.PeerCertificates[0].Subject.CommonName)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{cert},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    frontProxyCA,
		},
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })

	if err := c.RegisterAPIService(ctx, group, version, ln.Addr().(*net.TCPAddr).Port, caPEM); err != nil {
		t.Fatal(err)
	}
	got, err := kube.Discovery().RESTClient().Get().AbsPath("/apis/" + group + "/" + version).DoRaw(ctx)
	if err != nil {
		t.Fatalf("GET /apis/%s/%s through the apiserver: %v", group, version, err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), doc) {
		t.Errorf("the apiserver answered\n%s\nwant the local server's document\n%s", got, doc)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(users, "kubernetes-admin") {
		t.Errorf("the local server never saw X-Remote-User kubernetes-admin, got %q", users)
	}
	for _, cn := range clientCNs {
		if cn != "front-proxy-client" {
			t.Errorf("the aggregator presented client certificate %q, want front-proxy-client", cn)
		}
	}
}

func TestServingCertDefaults(t *testing.T) {
	ca, err := newAuthority("test-ca")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{ca: ca}
	certPEM, keyPEM, caPEM, err := c.ServingCert()
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"localhost", "127.0.0.1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: pool}); err != nil {
			t.Errorf("serving cert does not verify for %s: %v", host, err)
		}
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if !isModuleRoot(root) {
		t.Errorf("moduleRoot() = %s, which holds no %s go.mod and hack/tools.sh", root, modulePath)
	}
}

func podReady(p *corev1.Pod) bool {
	return slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
		return c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
	})
}

func waitUntil(t *testing.T, what string, cond func(ctx context.Context) bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		return cond(ctx), nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

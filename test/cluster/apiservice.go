package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	aggregator "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"
	"k8s.io/utils/ptr"
)

// APIServiceNamespace holds the ExternalName Services that route aggregated APIs to localhost.
const APIServiceNamespace = "keda"

// RegisterAPIService routes group/version to a server on localhost:port: an ExternalName Service
// pointing at localhost (Endpoints may not hold loopback addresses) and an APIService with
// caBundle (nil leaves the caBundle to the server, which injects its own). It waits until the aggregator reports the APIService Available.
func (c *Cluster) RegisterAPIService(ctx context.Context, group, version string, port int, caBundle []byte) error {
	kube, err := kubernetes.NewForConfig(c.restConfig)
	if err != nil {
		return fmt.Errorf("failed to create a clientset: %w", err)
	}
	agg, err := aggregator.NewForConfig(c.restConfig)
	if err != nil {
		return fmt.Errorf("failed to create an aggregator client: %w", err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: APIServiceNamespace}}
	if _, err := kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create namespace %s: %w", APIServiceNamespace, err)
	}
	svcName := apiServiceServiceName(group, version)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: svcName, Namespace: APIServiceNamespace},
		Spec: corev1.ServiceSpec{
			Type:         corev1.ServiceTypeExternalName,
			ExternalName: "localhost",
			Ports:        []corev1.ServicePort{{Name: "https", Port: int32(port), TargetPort: intstr.FromInt32(int32(port))}},
		},
	}
	if existing, err := kube.CoreV1().Services(APIServiceNamespace).Get(ctx, svcName, metav1.GetOptions{}); err == nil {
		existing.Spec.Ports = svc.Spec.Ports
		if _, err := kube.CoreV1().Services(APIServiceNamespace).Update(ctx, existing, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("failed to update service %s: %w", svcName, err)
		}
	} else if _, err := kube.CoreV1().Services(APIServiceNamespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("failed to create service %s: %w", svcName, err)
	}
	name := version + "." + group
	desired := &apiregistrationv1.APIService{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: apiregistrationv1.APIServiceSpec{
			Group:                group,
			Version:              version,
			Service:              &apiregistrationv1.ServiceReference{Namespace: APIServiceNamespace, Name: svcName, Port: ptr.To(int32(port))},
			CABundle:             caBundle,
			GroupPriorityMinimum: 100,
			VersionPriority:      100,
		},
	}
	// The aggregator writes the APIService's status while it checks the service: an update made
	// on a copy read a moment before conflicts, and is made again on a fresh read.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		existing, err := agg.ApiregistrationV1().APIServices().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err = agg.ApiregistrationV1().APIServices().Create(ctx, desired, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		spec := desired.Spec
		if caBundle == nil {
			// The server injects its own CA (a self-managed certificate): keep what it wrote.
			spec.CABundle = existing.Spec.CABundle
		}
		existing.Spec = spec
		_, err = agg.ApiregistrationV1().APIServices().Update(ctx, existing, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("failed to create or update APIService %s: %w", name, err)
	}
	last := "none yet"
	err = c.poll(ctx, "APIService "+name+" Available", 60*time.Second, func(ctx context.Context) (bool, error) {
		svc, err := agg.ApiregistrationV1().APIServices().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		last = formatConditions(svc.Status.Conditions)
		for _, cond := range svc.Status.Conditions {
			if cond.Type == apiregistrationv1.Available {
				return cond.Status == apiregistrationv1.ConditionTrue, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("failed to register APIService %s (conditions: %s): %w", name, last, err)
	}
	return nil
}

func formatConditions(conds []apiregistrationv1.APIServiceCondition) string {
	if len(conds) == 0 {
		return "none yet"
	}
	parts := make([]string, len(conds))
	for i, c := range conds {
		parts[i] = fmt.Sprintf("%s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message)
	}
	return strings.Join(parts, "; ")
}

// APIServiceHost is the name the aggregator verifies the serving certificate of group/version
// against (<service>.<namespace>.svc): the certificate passed to RegisterAPIService must hold it.
func APIServiceHost(group, version string) string {
	return apiServiceServiceName(group, version) + "." + APIServiceNamespace + ".svc"
}

func apiServiceServiceName(group, version string) string {
	name := dnsLabel(version + "-" + group)
	if len(name) > 63 {
		name = name[:63]
	}
	return name
}

func dnsLabel(s string) string {
	out := []byte(s)
	for i, ch := range out {
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-') {
			out[i] = '-'
		}
	}
	return string(out)
}

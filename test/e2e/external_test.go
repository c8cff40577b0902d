package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	extserver "github.com/kedactl/kedactl/test/servers/externalscaler"
)

// indent prefixes every line of a PEM text for a YAML block scalar.
func indent(text, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimSpace(text), "\n", "\n"+prefix)
}

// TestExternalScalesZeroToMaxToZero: an external trigger on a gRPC external scaler that requires
// a client certificate, with caCert, tlsClientCert and tlsClientKey from a Secret through a
// TriggerAuthentication, follows the values the scaler reports: 0 keeps the worker at 0, 1
// activates it, a backlog lets the real HPA scale it to max, and 0 returns it to 0 after the
// cooldown. The scaler receives the trigger's metadata and the ScaledObject's name.
func TestExternalScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	pki, err := extserver.NewMutualTLS()
	if err != nil {
		t.Fatal(err)
	}
	srv := extserver.Start(t, extserver.Options{MetricName: "orders-waiting", Target: 2, TLS: pki.Server})
	srv.Set(0, false)

	ns := s.newNamespace(t, "external")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: external-tls
stringData:
  ca.crt: |
%s
  tls.crt: |
%s
  tls.key: |
%s
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: external-auth
spec:
  secretTargetRef:
    - parameter: caCert
      name: external-tls
      key: ca.crt
    - parameter: tlsClientCert
      name: external-tls
      key: tls.crt
    - parameter: tlsClientKey
      name: external-tls
      key: tls.key
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  cooldownPeriod: 5
  maxReplicaCount: 4
  triggers:
    - type: external
      authenticationRef:
        name: external-auth
      metadata:
        scalerAddress: %s
        queue: orders
`, indent(pki.CAPEM, "    "), indent(pki.ClientCertPEM, "    "), indent(pki.ClientKeyPEM, "    "), srv.Addr))

	const metric = "s0-orders-waiting"
	// Before the journey the scaler saw the ScaledObject's reference and its metadata.
	s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	ref := srv.LastRef()
	if ref.GetName() != "worker" || ref.GetNamespace() != ns || ref.GetScalerMetadata()["queue"] != "orders" || ref.GetScalerMetadata()["scalerAddress"] != srv.Addr {
		t.Errorf("the external scaler got %+v", ref)
	}
	s.walkZeroToMaxToZero(t, ns, journey{metric: metric, fill: func(n int) { srv.Set(float64(n), true) }, drain: func() { srv.Set(0, false) }, slack: time.Second})
}

// TestExternalPushActivatesFromZeroOnPush: an external-push trigger polled only every 300
// seconds activates its worker from zero when the scaler pushes active=true on the
// StreamIsActive stream the operator keeps open: the push, not a poll, brings it to one replica.
func TestExternalPushActivatesFromZeroOnPush(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	srv := extserver.Start(t, extserver.Options{MetricName: "orders-waiting", Target: 2})
	srv.Set(0, false)

	ns := s.newNamespace(t, "external-push")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 300
  cooldownPeriod: 300
  maxReplicaCount: 4
  triggers:
    - type: external-push
      metadata:
        scalerAddress: %s
`, srv.Addr))
	s.waitReady(t, ns, "worker", metav1.ConditionTrue)

	// The first poll has seen nothing to do and the stream is open; the next poll is minutes away.
	eventually(t, 30*time.Second, "the first poll and an open StreamIsActive stream", func(context.Context) (bool, string) {
		return srv.Calls("IsActive") >= 1 && srv.Streams() == 1, fmt.Sprintf("%d IsActive calls, %d streams", srv.Calls("IsActive"), srv.Streams())
	})
	s.holdReplicas(t, ns, "worker", 0, 2*time.Second)

	// Work arrives and the scaler pushes it.
	srv.Set(3, true)
	if n := srv.Push(true); n != 1 {
		t.Fatalf("the push reached %d streams, want 1", n)
	}
	s.waitReplicas(t, ns, "worker", 1, 60*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
}

package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/test/servers/fakegcs"
)

// serviceAccountKey is a service account's JSON key as Google issues it, with a fresh RSA key,
// and a line of its private key to look for in logs.
func serviceAccountKey(t *testing.T) (keyJSON, keyLine string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	b, err := json.Marshal(map[string]string{"type": "service_account", "project_id": "kedactl-e2e", "private_key_id": "0123456789abcdef",
		"private_key": pemText, "client_email": "keda@kedactl-e2e.iam.gserviceaccount.com", "client_id": "1",
		"auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token"})
	if err != nil {
		t.Fatal(err)
	}
	return string(b), strings.Split(pemText, "\n")[1]
}

// TestGCPStorageScalesZeroToMaxToZero: a gcp-storage trigger on fake-gcs-server (the operator's
// STORAGE_EMULATOR_HOST names the suite's front, pointed at this test's emulator), its service
// account key from a Secret through a TriggerAuthentication (GoogleApplicationCredentials; on an
// emulator it is required but not used, as with Google's clients). Objects elsewhere in the
// bucket and the size-0 folder placeholder never count; one object under incoming/ activates the
// worker; thirty take the real HPA to the maximum of 4; once they are processed (deleted) the
// worker goes back to 0 after the cooldown. The key appears in no log, event or status.
func TestGCPStorageScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	srv := fakegcs.Start(t)
	// The suite's front is shared: only this test points it.
	s.gcsFront.Point(srv)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := srv.CreateBucket(ctx, "uploads"); err != nil {
		t.Fatal(err)
	}
	if err := srv.PutObjects(ctx, "uploads", "", "incoming/"); err != nil {
		t.Fatal(err)
	}
	if err := srv.PutObjects(ctx, "uploads", "done", "done/a.csv"); err != nil {
		t.Fatal(err)
	}
	keyJSON, keyLine := serviceAccountKey(t)

	ns := s.newNamespace(t, "gcp-storage")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: gcp-storage-secret
stringData:
  GOOGLE_APPLICATION_CREDENTIALS_JSON: %q
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: gcp-credentials
spec:
  secretTargetRef:
    - parameter: GoogleApplicationCredentials
      name: gcp-storage-secret
      key: GOOGLE_APPLICATION_CREDENTIALS_JSON
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
    - type: gcp-storage
      authenticationRef:
        name: gcp-credentials
      metadata:
        bucketName: uploads
        blobPrefix: incoming/
        targetObjectCount: "5"
`, keyJSON))
	const metric = "s0-gcp-storage-uploads"
	s.checkAzureHPA(t, ns, metric, 5)

	s.holdReplicas(t, ns, "worker", 0, 3*time.Second)
	if so, err := s.scaledObject(ctx, ns, "worker"); err != nil || so.Status.Conditions.IsTrue(kedav1alpha1.ConditionActive) {
		t.Fatalf("no object under incoming/ but its folder placeholder: the ScaledObject is active (%v)", err)
	}

	// One object: 0 -> 1.
	if err := srv.PutObjects(ctx, "uploads", "row", "incoming/0.csv"); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "worker", 1, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")

	// Thirty objects: 30 / 5 = 6 workers, more than the maximum of 4.
	names := make([]string, 29)
	for i := range names {
		names[i] = fmt.Sprintf("incoming/%d.csv", i+1)
	}
	if err := srv.PutObjects(ctx, "uploads", "row", names...); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	if v := s.externalMetric(t, ns, metric, "worker"); v != 30 {
		t.Errorf("external metric %s = %d, want 30", metric, v)
	}

	// Every object processed: back to 0 after the cooldown.
	if err := srv.DeleteObjects(ctx, "uploads", append(names, "incoming/0.csv")...); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")
	s.checkNoLeak(t, ns, []string{"worker"}, map[string]string{"service account private key": keyLine})
}

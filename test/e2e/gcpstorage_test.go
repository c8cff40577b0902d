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

	objects := func(from, to int) []string {
		var names []string
		for i := from; i < to; i++ {
			names = append(names, fmt.Sprintf("incoming/%d.csv", i))
		}
		return names
	}
	held := 0
	ns := s.runScalerJourney(t, scalerJourney{
		namespace:   "gcp-storage",
		secret:      "gcp-storage-secret",
		auth:        "gcp-credentials",
		params:      []secretParam{{"GoogleApplicationCredentials", "GOOGLE_APPLICATION_CREDENTIALS_JSON", keyJSON}},
		triggerType: "gcp-storage",
		metadata: `bucketName: uploads
			blobPrefix: incoming/
			targetObjectCount: "5"`,
		metric:       "s0-gcp-storage-uploads",
		averageValue: 5,
		set: func(t *testing.T, n int) {
			t.Helper()
			if err := srv.PutObjects(ctx, "uploads", "row", objects(held, n)...); err != nil {
				t.Fatal(err)
			}
			held = n
		},
		// Every object processed.
		drain: func(t *testing.T) {
			if err := srv.DeleteObjects(ctx, "uploads", objects(0, held)...); err != nil {
				t.Fatal(err)
			}
		},
		// No object under incoming/ but its folder placeholder; one; 30 / 5 = 6 workers, more
		// than the maximum of 4.
		idleHold: 3 * time.Second,
		one:      1, max: 30,
	})
	s.checkNoLeak(t, ns, []string{"worker"}, map[string]string{"service account private key": keyLine})
}

package scalers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	fakegcs "github.com/kedactl/kedactl/test/servers/fakegcs"
)

// gcsKey stands for a service account key from a TriggerAuthentication: with
// STORAGE_EMULATOR_HOST set it is required, as in KEDA, but neither read nor sent.
const gcsKey = `{"type":"service_account","client_email":"keda@kedactl-test.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\nnot-read\n-----END PRIVATE KEY-----\n"}`

func gcsScaler(t *testing.T, pool *scalers.ClientPool, meta map[string]string) scalers.Scaler {
	t.Helper()
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "gcp-storage", TriggerMetadata: meta,
		AuthParams: map[string]string{"GoogleApplicationCredentials": gcsKey}, Clients: pool, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// TestGCPStorageScalerAgainstFakeGCSServer follows a bucket on fake-gcs-server, reached through
// STORAGE_EMULATOR_HOST as KEDA users reach an emulator: objects under blobPrefix count, the size-0
// "folder" placeholder does not; with blobDelimiter "/" the objects of sub-folders do not either;
// maxBucketItemsToScan caps the count; a bucket that does not exist counts 0 (as in KEDA); the
// triggers share one transport; a stopped emulator fails the poll naming the trigger and the
// address, never the key.
func TestGCPStorageScalerAgainstFakeGCSServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts fake-gcs-server")
	}
	srv := fakegcs.Start(t)
	t.Setenv("STORAGE_EMULATOR_HOST", srv.Host)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := srv.CreateBucket(ctx, "uploads"); err != nil {
		t.Fatal(err)
	}
	pool := scalers.NewClientPool()
	defer pool.Close()
	flat := gcsScaler(t, pool, map[string]string{"bucketName": "uploads", "blobPrefix": "incoming/", "targetObjectCount": "5", "activationTargetObjectCount": "1"})
	folder := gcsScaler(t, pool, map[string]string{"bucketName": "uploads", "blobPrefix": "incoming/", "blobDelimiter": "/"})
	capped := gcsScaler(t, pool, map[string]string{"bucketName": "uploads", "maxBucketItemsToScan": "7"})
	missing := gcsScaler(t, pool, map[string]string{"bucketName": "no-such-bucket"})
	if pool.Len() != 1 {
		t.Errorf("four triggers on the emulator hold %d pooled clients, want 1 (the transport; no tokens)", pool.Len())
	}
	if name := flat.GetMetricSpecForScaling(ctx)[0].External.Metric.Name; name != "s0-gcp-storage-uploads" {
		t.Errorf("metric %s, want s0-gcp-storage-uploads (KEDA's)", name)
	}

	azureCheck(t, "an empty bucket", flat, 0, false)
	if err := srv.PutObjects(ctx, "uploads", "", "incoming/"); err != nil {
		t.Fatal(err)
	}
	if err := srv.PutObjects(ctx, "uploads", "done", "done/a.csv"); err != nil {
		t.Fatal(err)
	}
	azureCheck(t, "the folder placeholder and an object elsewhere", flat, 0, false)
	if err := srv.PutObjects(ctx, "uploads", "row", "incoming/0.csv"); err != nil {
		t.Fatal(err)
	}
	azureCheck(t, "one object, not above activationTargetObjectCount 1", flat, 1, false)
	names := make([]string, 9)
	for i := range names {
		names[i] = fmt.Sprintf("incoming/%d.csv", i+1)
	}
	if err := srv.PutObjects(ctx, "uploads", "row", append(names, "incoming/archive/old.csv")...); err != nil {
		t.Fatal(err)
	}
	azureCheck(t, "eleven objects under incoming/, one in a sub-folder", flat, 11, true)
	azureCheck(t, "with blobDelimiter /, the sub-folder's object left out", folder, 10, true)
	azureCheck(t, "twelve objects in the bucket, maxBucketItemsToScan 7", capped, 7, true)
	azureCheck(t, "a bucket that does not exist", missing, 0, false)

	if err := srv.DeleteObjects(ctx, "uploads", append(names, "incoming/0.csv", "incoming/archive/old.csv")...); err != nil {
		t.Fatal(err)
	}
	azureCheck(t, "every object processed", flat, 0, false)

	srv.Stop()
	_, _, err := flat.GetMetricsAndActivity(ctx, "s0-gcp-storage-uploads")
	if err == nil {
		t.Fatal("a stopped emulator: no error")
	}
	for _, want := range []string{"trigger 0 (gcp-storage)", srv.Host, "/storage/v1/b/uploads/o"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Errorf("error %q shows the key", err)
	}
}

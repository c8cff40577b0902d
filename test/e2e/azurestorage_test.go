package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	azuriteserver "github.com/kedactl/kedactl/test/servers/azurite"
)

// azureStorageJourney is j with srv's connection string in a Secret, passed as the connection
// parameter through a TriggerAuthentication.
func azureStorageJourney(srv *azuriteserver.Server, j scalerJourney) scalerJourney {
	j.secret, j.auth = "storage-secret", "storage-auth"
	j.params = []secretParam{{"connection", "connection", srv.ConnectionString()}}
	return j
}

// TestAzureQueueScalesZeroToMaxToZero: an azure-queue trigger on Azurite, the account's
// connection string from a Secret through a TriggerAuthentication. An empty queue leaves the
// workers at 0; one message activates them; thirty (some being processed, invisible, which the
// default strategy counts) take the real HPA to the maximum of 4; once the queue is empty the
// workers go back to 0 after the cooldown. The account key appears in no log, event or status.
func TestAzureQueueScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	srv := azuriteserver.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := srv.CreateQueue(ctx, "orders"); err != nil {
		t.Fatal(err)
	}

	held := 0
	ns := s.runScalerJourney(t, azureStorageJourney(srv, scalerJourney{
		namespace:   "azure-queue",
		triggerType: "azure-queue",
		metadata: `queueName: orders
			queueLength: "5"`,
		metric:       "s0-azure-queue-orders",
		averageValue: 5,
		set: func(t *testing.T, n int) {
			t.Helper()
			if err := srv.PutMessages(ctx, "orders", n-held); err != nil {
				t.Fatal(err)
			}
			held = n
			if n == 30 {
				// Ten of the thirty taken by workers (invisible, still in the queue).
				if err := srv.Hide(ctx, "orders", 10, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
		},
		drain: func(t *testing.T) {
			if err := srv.ClearMessages(ctx, "orders"); err != nil {
				t.Fatal(err)
			}
		},
		// An empty queue; one message; 30 / 5 = 6 workers, more than the maximum of 4.
		idleHold: 3 * time.Second,
		one:      1, max: 30,
	}))
	s.checkNoLeak(t, ns, []string{"worker"}, map[string]string{"account key": srv.Key, "connection string": srv.ConnectionString()})
}

// TestAzureBlobScalesZeroToMaxToZero: an azure-blob trigger on Azurite, the account's connection
// string from a Secret through a TriggerAuthentication, counting the blobs directly under
// incoming/. Blobs elsewhere, and in sub-directories, never count; one blob activates the
// workers; twenty take the real HPA to the maximum of 4; once they are processed (deleted) the
// workers go back to 0 after the cooldown.
func TestAzureBlobScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	srv := azuriteserver.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := srv.CreateContainer(ctx, "uploads"); err != nil {
		t.Fatal(err)
	}
	if err := srv.PutBlobs(ctx, "uploads", "done/a.csv", "incoming/archive/b.csv"); err != nil {
		t.Fatal(err)
	}

	blobs := func(from, to int) []string {
		var names []string
		for i := from; i < to; i++ {
			names = append(names, fmt.Sprintf("incoming/%d.csv", i))
		}
		return names
	}
	held := 0
	ns := s.runScalerJourney(t, azureStorageJourney(srv, scalerJourney{
		namespace:   "azure-blob",
		triggerType: "azure-blob",
		metadata: `blobContainerName: uploads
			blobPrefix: incoming
			blobCount: "5"`,
		metric:       "s0-azure-blob-uploads",
		averageValue: 5,
		set: func(t *testing.T, n int) {
			t.Helper()
			if err := srv.PutBlobs(ctx, "uploads", blobs(held, n)...); err != nil {
				t.Fatal(err)
			}
			held = n
		},
		drain: func(t *testing.T) {
			if err := srv.DeleteBlobs(ctx, "uploads", blobs(0, held)...); err != nil {
				t.Fatal(err)
			}
		},
		// No blob directly under incoming/; one; 30 / 5 = 6 workers, more than the maximum of 4.
		idleHold: 3 * time.Second,
		one:      1, max: 30,
	}))
	s.checkNoLeak(t, ns, []string{"worker"}, map[string]string{"account key": srv.Key, "connection string": srv.ConnectionString()})
}

package scalers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	azuriteserver "github.com/kedactl/kedactl/test/servers/azurite"
)

// azureScaler builds a trigger of typ on srv's account, its connection string from authParams
// as a TriggerAuthentication gives it.
func azureScaler(t *testing.T, pool *scalers.ClientPool, typ, conn string, meta map[string]string) scalers.Scaler {
	t.Helper()
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: typ, TriggerMetadata: meta,
		AuthParams: map[string]string{"connection": conn}, Clients: pool, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// azureCheck polls s once and compares the value and the activity.
func azureCheck(t *testing.T, step string, s scalers.Scaler, want int64, wantActive bool) {
	t.Helper()
	name := s.GetMetricSpecForScaling(context.Background())[0].External.Metric.Name
	m, active, err := s.GetMetricsAndActivity(context.Background(), name)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	if got := m[0].Value.Value(); got != want || active != wantActive {
		t.Errorf("%s: %d (active %v), want %d (active %v)", step, got, active, want, wantActive)
	}
}

// TestAzureQueueScalerAgainstAzurite follows a queue on Azurite: the approximate count holds the
// messages workers are processing (invisible), queueLengthStrategy visibleonly peeks and leaves
// them out until the queue holds 32 visible ones or more, then counts them all as KEDA does; the
// triggers of one account share one transport; a queue that does not exist, a refused key and a
// stopped server fail the poll naming the queue or the account, never the key.
func TestAzureQueueScalerAgainstAzurite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts azurite")
	}
	srv := azuriteserver.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := srv.CreateQueue(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	pool := scalers.NewClientPool()
	defer pool.Close()
	all := azureScaler(t, pool, "azure-queue", srv.ConnectionString(), map[string]string{"queueName": "orders", "queueLength": "5", "activationQueueLength": "1"})
	visible := azureScaler(t, pool, "azure-queue", srv.ConnectionString(), map[string]string{"queueName": "orders", "queueLengthStrategy": "visibleonly"})
	if pool.Len() != 1 {
		t.Errorf("two triggers of one account hold %d transports, want 1", pool.Len())
	}
	if name := all.GetMetricSpecForScaling(ctx)[0].External.Metric.Name; name != "s0-azure-queue-orders" {
		t.Errorf("metric %s, want s0-azure-queue-orders (KEDA's)", name)
	}

	azureCheck(t, "an empty queue", all, 0, false)
	if err := srv.PutMessages(ctx, "orders", 1); err != nil {
		t.Fatal(err)
	}
	azureCheck(t, "one message, not above activationQueueLength 1", all, 1, false)
	if err := srv.PutMessages(ctx, "orders", 9); err != nil {
		t.Fatal(err)
	}
	if err := srv.Hide(ctx, "orders", 4, time.Hour); err != nil {
		t.Fatal(err)
	}
	azureCheck(t, "ten messages, four being processed", all, 10, true)
	azureCheck(t, "ten messages, four being processed, visibleonly", visible, 6, true)
	if err := srv.PutMessages(ctx, "orders", 30); err != nil {
		t.Fatal(err)
	}
	azureCheck(t, "36 visible messages and 4 hidden, visibleonly falls back to the approximate count", visible, 40, true)
	if err := srv.ClearMessages(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	azureCheck(t, "cleared", all, 0, false)
	azureCheck(t, "cleared, visibleonly", visible, 0, false)

	missing := azureScaler(t, pool, "azure-queue", srv.ConnectionString(), map[string]string{"queueName": "nosuchqueue"})
	_, _, err := missing.GetMetricsAndActivity(ctx, "s0-azure-queue-nosuchqueue")
	azureWantErr(t, "a queue that does not exist", err, srv.Key, "404", "QueueNotFound", `queue "nosuchqueue" (metadata.queueName) does not exist`)

	wrongKey := strings.Replace(srv.ConnectionString(), srv.Key, "AAAA"+srv.Key[4:], 1)
	refused := azureScaler(t, pool, "azure-queue", wrongKey, map[string]string{"queueName": "orders"})
	_, _, err = refused.GetMetricsAndActivity(ctx, "s0-azure-queue-orders")
	azureWantErr(t, "another key", err, "AAAA"+srv.Key[4:], "403", "check AccountName and AccountKey")

	srv.Stop()
	_, _, err = all.GetMetricsAndActivity(ctx, "s0-azure-queue-orders")
	azureWantErr(t, "a stopped server", err, srv.Key, "could not reach the storage account", srv.QueueEndpoint)
}

// TestAzureBlobScalerAgainstAzurite counts a container's blobs on Azurite as KEDA does: directly
// under blobPrefix with the "/" delimiter (virtual directories do not count), everything under it
// with recursive, the names matching globPattern; pages of a thousand are followed; a container
// that does not exist fails naming it.
func TestAzureBlobScalerAgainstAzurite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts azurite")
	}
	srv := azuriteserver.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := srv.CreateContainer(ctx, "inbox"); err != nil {
		t.Fatal(err)
	}
	pool := scalers.NewClientPool()
	defer pool.Close()
	build := func(kv ...string) scalers.Scaler {
		meta := map[string]string{"blobContainerName": "inbox", "blobCount": "3", "activationBlobCount": "1"}
		for i := 0; i+1 < len(kv); i += 2 {
			meta[kv[i]] = kv[i+1]
		}
		return azureScaler(t, pool, "azure-blob", srv.ConnectionString(), meta)
	}
	top, under, recursive := build(), build("blobPrefix", "2024"), build("blobPrefix", "2024", "recursive", "true")
	globbed := build("globPattern", "/2024/**.json")
	if name := top.GetMetricSpecForScaling(ctx)[0].External.Metric.Name; name != "s0-azure-blob-inbox" {
		t.Errorf("metric %s, want s0-azure-blob-inbox (KEDA's)", name)
	}
	azureCheck(t, "an empty container", top, 0, false)
	if err := srv.PutBlobs(ctx, "inbox", "readme.txt"); err != nil {
		t.Fatal(err)
	}
	azureCheck(t, "one blob, not above activationBlobCount 1", top, 1, false)
	if err := srv.PutBlobs(ctx, "inbox", "a.json", "2024/jan.json", "2024/feb.csv", "2024/q1/mar.json", "2024/q1/apr.json", "2024x/may.json"); err != nil {
		t.Fatal(err)
	}
	azureCheck(t, "two blobs at the top, directories 2024/ and 2024x/ left out", top, 2, true)
	azureCheck(t, "blobPrefix 2024: the two blobs directly in 2024/", under, 2, true)
	azureCheck(t, "blobPrefix 2024, recursive: every blob whose name starts with 2024", recursive, 5, true)
	azureCheck(t, "globPattern /2024/**.json", globbed, 3, true)

	// 1,001 blobs take two pages.
	names := make([]string, 1001)
	for i := range names {
		names[i] = fmt.Sprintf("batch/%04d", i)
	}
	if err := srv.PutBlobs(ctx, "inbox", names...); err != nil {
		t.Fatal(err)
	}
	azureCheck(t, "1,001 blobs in batch/, on two pages", build("blobPrefix", "batch"), 1001, true)
	if err := srv.DeleteBlobs(ctx, "inbox", names...); err != nil {
		t.Fatal(err)
	}
	azureCheck(t, "batch/ emptied", build("blobPrefix", "batch"), 0, false)

	missing := build("blobContainerName", "nosuchcontainer")
	_, _, err := missing.GetMetricsAndActivity(ctx, "s0-azure-blob-nosuchcontainer")
	azureWantErr(t, "a container that does not exist", err, srv.Key, "404", "ContainerNotFound", `container "nosuchcontainer" (metadata.blobContainerName) does not exist`)
}

// azureWantErr checks that err holds each of want and not the secret.
func azureWantErr(t *testing.T, step string, err error, secret string, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", step)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not say %q", step, err, w)
		}
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("%s: error shows the key: %q", step, err)
	}
}

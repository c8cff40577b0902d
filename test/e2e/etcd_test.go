package e2e

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	etcdserver "github.com/kedactl/kedactl/test/servers/etcd"
)

// TestEtcdScalesZeroToMaxToZero: an etcd trigger on a member of its own with authentication on
// (not the cluster's etcd), logging in as a user that may read /queues/ only, with the username and
// password from a Secret through a TriggerAuthentication. A value at activationValue leaves the
// workload at 0; above it, 0 -> 1; a value ten times the target takes the real HPA to the maximum
// of 4; back to 0 after the cooldown once the value is 0 again.
func TestEtcdScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ctx := context.Background()
	const password = "e2e-etcd-reader-password"
	srv := etcdserver.Start(t, etcdserver.Options{RootPassword: "e2e-etcd-root-password"})
	if err := srv.AddReader(ctx, "keda", password, "/queues/"); err != nil {
		t.Fatal(err)
	}
	put := func(t *testing.T, n int) {
		t.Helper()
		if err := srv.Put(ctx, "/queues/jobs", strconv.Itoa(n)); err != nil {
			t.Fatal(err)
		}
	}
	put(t, 1)

	s.runScalerJourney(t, scalerJourney{
		namespace: "etcd",
		secret:    "etcd-secret",
		auth:      "etcd-auth",
		params: []secretParam{
			{"username", "username", "keda"},
			{"password", "password", password},
		},
		triggerType: "etcd",
		metadata: fmt.Sprintf(`endpoints: %s
			watchKey: /queues/jobs
			value: "2"
			activationValue: "1"`, srv.Endpoint),
		metric:       "s0-etcd--queues-jobs",
		averageValue: 2,
		set:          put,
		// 1 is not above activationValue 1: the workload stays at 0 while the operator polls.
		idleHold: 5 * time.Second,
		// 2 is above it; 20 / 2 per replica = 10.
		idle: 1, one: 2, max: 20,
	})
}

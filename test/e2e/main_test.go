// Package e2e runs the operator against the local cluster (real apiserver, etcd, HPA controller,
// scheduler, kwok nodes) and real event sources.
package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kedactl/kedactl/test/cluster"
	"github.com/kedactl/kedactl/test/env"
	asbserver "github.com/kedactl/kedactl/test/servers/azureservicebus"
	"github.com/kedactl/kedactl/test/servers/fakegcs"
	gcpserver "github.com/kedactl/kedactl/test/servers/gcpmonitoring"
	gsmserver "github.com/kedactl/kedactl/test/servers/gcpsecretmanager"
	nrserver "github.com/kedactl/kedactl/test/servers/newrelic"
	redisserver "github.com/kedactl/kedactl/test/servers/redis"
	smserver "github.com/kedactl/kedactl/test/servers/secretsmanager"
)

// suite is what every test of this package shares: one cluster, one operator, one Redis, and the
// servers whose address is fixed in the operator's environment, so that they live as long as the
// operator: NerdGraph for the new-relic triggers, Cloud Monitoring for the gcp-* triggers that
// read it, and the front the gcp-storage triggers reach (the Cloud Storage emulator behind it is
// started by the test that needs it).
type suite struct {
	env           *env.Env
	redis         *redisserver.Server
	newRelic      *nrserver.Server
	gcpMonitoring *gcpserver.Server
	gcsFront      *fakegcs.Front
	// secretsManager is the AWS Secrets Manager fake of the awsSecretManager tests, reached
	// through AWS_ENDPOINT_URL_SECRETS_MANAGER; it accepts secretsManagerKeyID and
	// secretsManagerSecret only.
	secretsManager *smserver.Server
	// gcpSecrets is the Google Secret Manager fake of the gcpSecretManager tests, reached through
	// CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER.
	gcpSecrets *gsmserver.Server
	// serviceBusCA signs the certificates of the Service Bus fakes; the operator trusts it
	// through its --ca-dir, as a trigger without a ca parameter needs.
	serviceBusCA *asbserver.TLSFiles
}

// The one AWS identity the Secrets Manager fake accepts.
const (
	secretsManagerKeyID  = "AKIDE2ESECRETSMGR"
	secretsManagerSecret = "e2e-aws-secret-access-key"
)

const redisPassword = "e2e-redis-secret"

var shared *suite

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	if testing.Short() {
		fmt.Println("e2e: skipped in -short mode")
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	nr := nrserver.Start(nil)
	defer nr.Close()
	gm := gcpserver.Start(nil)
	defer gm.Close()
	gcs, err := fakegcs.NewFront()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer gcs.Close()
	sm := smserver.Start(smserver.Options{Region: "us-east-1", AccessKeyID: secretsManagerKeyID, SecretAccessKey: secretsManagerSecret})
	defer sm.Close()
	gsm := gsmserver.Start()
	defer gsm.Close()
	sbCA, caDir, err := asbserver.NewCADir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(caDir)
	e, err := env.Start(ctx, env.Options{Out: os.Stdout, Cluster: cluster.Options{MetricsServer: true}, OperatorArgs: []string{"--ca-dir=" + caDir},
		OperatorEnv: []string{"NEW_RELIC_NERDGRAPH_BASE_URL=" + nr.URL, "CLOUDSDK_API_ENDPOINT_OVERRIDES_MONITORING=" + gm.URL, "STORAGE_EMULATOR_HOST=" + gcs.Host,
			"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + sm.URL, "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER=" + gsm.URL + "/"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: failed to start the environment:", err)
		return 1
	}
	defer e.Stop()
	fmt.Printf("e2e: cluster and operator ready in %s\n", time.Since(start).Round(100*time.Millisecond))
	rs, err := redisserver.StartProcess(ctx, redisserver.Options{Password: redisPassword})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: failed to start redis-server:", err)
		return 1
	}
	defer rs.Stop()
	shared = &suite{env: e, redis: rs, newRelic: nr, gcpMonitoring: gm, gcsFront: gcs, secretsManager: sm, gcpSecrets: gsm, serviceBusCA: sbCA}
	code := m.Run()
	// The operator ran as the chart's ServiceAccount: any request the apiserver refused is a rule
	// the chart's RBAC lacks, even when the test that caused it passed.
	if forbidden, err := e.ForbiddenLogLines(); err != nil || len(forbidden) > 0 {
		fmt.Printf("e2e: the chart's RBAC refused the operator (%v):\n%s\n", err, strings.Join(forbidden, "\n"))
		code = 1
	}
	if code != 0 {
		fmt.Println("---- operator log (tail) ----")
		fmt.Println(e.TailOperatorLog(80))
		// The cluster's directory goes away with the run: keep the whole log for a post-mortem.
		if data, err := os.ReadFile(e.OperatorLog); err == nil {
			kept := filepath.Join(os.TempDir(), fmt.Sprintf("kedactl-e2e-operator-%d.log", os.Getpid()))
			if os.WriteFile(kept, data, 0o600) == nil {
				fmt.Println("the whole operator log is kept in", kept)
			}
		}
	}
	return code
}

func requireSuite(t *testing.T) *suite {
	t.Helper()
	if shared == nil {
		t.Skip("e2e environment not started (-short)")
	}
	return shared
}

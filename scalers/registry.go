package scalers

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

// DefaultTimeout bounds calls to an event source when Config.Timeout is zero.
const DefaultTimeout = 3 * time.Second

// entry is a registered scaler type: its constructor and a zero value of its metadata struct (for
// the schema).
type entry struct {
	build    func(ctx context.Context, cfg *Config) (Scaler, error)
	metadata any
	// check is what only the driver's own parser refuses in metadata that meta accepted (a
	// connection string pgx cannot use): meta checks the syntax without linking the driver, so
	// that kubectl keda check does not link it either, and the webhook and the operator, which
	// link it anyway, run this too. It is given a pointer to the parsed metadata struct. Nil when
	// meta's checks are all there is.
	check func(metadata any) error
	// tested says what the scaler's tests run against, for scalers/schema.yaml, when that is not
	// the source's real server.
	tested string
}

// What a scaler's tests run against, when it is not the real server: an emulator of a cloud
// service, or a fake speaking the service's documented API (a contract test).
const (
	testedEmulator = "emulator"
	testedContract = "contract"
)

// registry is read-only: the scaler types this build supports.
var registry = map[string]entry{
	"redis":      {build: newRedisScaler, metadata: meta.RedisMetadata{}},
	"cron":       {build: newCronScaler, metadata: meta.CronMetadata{}},
	"postgresql": {build: newPostgreSQLScaler, metadata: meta.PostgresqlMetadata{}, check: postgresqlDriverCheck},
	"mysql":      {build: newMySQLScaler, metadata: meta.MysqlMetadata{}, check: mysqlDriverCheck},

	"prometheus":  {build: newPrometheusScaler, metadata: meta.PrometheusMetadata{}},
	"loki":        {build: newLokiScaler, metadata: meta.LokiMetadata{}, tested: testedContract},
	"metrics-api": {build: newMetricsAPIScaler, metadata: meta.MetricsAPIMetadata{}},
	"new-relic":   {build: newNewRelicScaler, metadata: meta.NewRelicMetadata{}, tested: testedContract},

	"github-runner": {build: newGitHubRunnerScaler, metadata: meta.GithubRunnerMetadata{}, tested: testedContract},

	"dynatrace": {build: newDynatraceScaler, metadata: meta.DynatraceMetadata{}, tested: testedContract},
	"datadog":   {build: newDatadogScaler, metadata: meta.DatadogMetadata{}, tested: testedContract},

	"graphite": {build: newGraphiteScaler, metadata: meta.GraphiteMetadata{}},

	"elasticsearch": {build: newElasticsearchScaler, metadata: meta.ElasticsearchMetadata{}, tested: testedContract},
	"opensearch":    {build: newOpenSearchScaler, metadata: meta.OpensearchMetadata{}, tested: testedContract},

	"nats-jetstream": {build: newNATSJetStreamScaler, metadata: meta.NatsJetStreamMetadata{}},

	"beanstalkd": {build: newBeanstalkdScaler, metadata: meta.BeanstalkdMetadata{}},

	"nsq": {build: newNSQScaler, metadata: meta.NSQMetadata{}},

	"aws-sqs-queue": {build: newAWSSQSQueueScaler, metadata: meta.AWSSQSQueueMetadata{}, tested: testedContract},

	"external":      {build: newExternalScaler, metadata: meta.ExternalMetadata{}},
	"external-push": {build: newExternalPushScaler, metadata: meta.ExternalMetadata{}},

	"rabbitmq": {build: newRabbitMQScaler, metadata: meta.RabbitMQMetadata{}, check: rabbitDriverCheck},

	"redis-cluster":          {build: newRedisClusterScaler, metadata: meta.RedisClusterMetadata{}},
	"redis-sentinel":         {build: newRedisSentinelScaler, metadata: meta.RedisSentinelMetadata{}},
	"redis-streams":          {build: newRedisStreamsScaler, metadata: meta.RedisStreamsMetadata{}},
	"redis-cluster-streams":  {build: newRedisClusterStreamsScaler, metadata: meta.RedisClusterStreamsMetadata{}},
	"redis-sentinel-streams": {build: newRedisSentinelStreamsScaler, metadata: meta.RedisSentinelStreamsMetadata{}},

	"kafka":        {build: newKafkaScaler, metadata: meta.KafkaMetadata{}, check: kafkaDriverCheck},
	"apache-kafka": {build: newApacheKafkaScaler, metadata: meta.ApacheKafkaMetadata{}, check: kafkaDriverCheck},

	"cpu":    {build: newResourceScaler, metadata: meta.ResourceMetadata{}},
	"memory": {build: newResourceScaler, metadata: meta.ResourceMetadata{}},

	"kubernetes-workload": {build: newKubernetesWorkloadScaler, metadata: meta.KubernetesWorkloadMetadata{}},

	"etcd": {build: newEtcdScaler, metadata: meta.EtcdMetadata{}},

	"azure-queue": {build: newAzureQueueScaler, metadata: meta.AzureQueueMetadata{}, tested: testedEmulator},
	"azure-blob":  {build: newAzureBlobScaler, metadata: meta.AzureBlobMetadata{}, tested: testedEmulator},

	"gcp-storage":     {build: newGCPStorageScaler, metadata: meta.GCPStorageMetadata{}, tested: testedEmulator},
	"gcp-stackdriver": {build: newGCPStackdriverScaler, metadata: meta.GCPStackdriverMetadata{}, tested: testedContract},
	"gcp-pubsub":      {build: newGCPPubSubScaler, metadata: meta.GCPPubSubMetadata{}, tested: testedContract},
	"gcp-cloudtasks":  {build: newGCPCloudTasksScaler, metadata: meta.GCPCloudTasksMetadata{}, tested: testedContract},
}

// Types returns the supported trigger types, sorted.
func Types() []string {
	types := make([]string, 0, len(registry))
	for t := range registry {
		types = append(types, t)
	}
	sort.Strings(types)
	return types
}

// New builds the scaler for cfg.TriggerType.
func New(ctx context.Context, cfg *Config) (Scaler, error) {
	e, ok := registry[cfg.TriggerType]
	if !ok {
		return nil, unknownType(cfg)
	}
	if cfg.Timeout <= 0 {
		c := *cfg
		c.Timeout = DefaultTimeout
		cfg = &c
	}
	return e.build(ctx, cfg)
}

// ValidateTrigger parses a trigger's metadata without building its scaler (nothing is dialled), for
// the admission webhook and `kubectl keda check`.
func ValidateTrigger(cfg *Config) error {
	e, ok := registry[cfg.TriggerType]
	if !ok {
		return unknownType(cfg)
	}
	m := reflect.New(reflect.TypeOf(e.metadata)).Interface()
	if err := ParseMetadata(cfg, m); err != nil {
		return err
	}
	return checkDriver(cfg, m)
}

func unknownType(cfg *Config) error {
	return fmt.Errorf("trigger %d: spec.triggers[%d].type %q is not a known scaler type: use one of %s",
		cfg.TriggerIndex, cfg.TriggerIndex, cfg.TriggerType, strings.Join(Types(), ", "))
}

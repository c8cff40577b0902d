package scalers

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
)

// DefaultTimeout bounds calls to an event source when Config.Timeout is zero.
const DefaultTimeout = 3 * time.Second

// entry is a registered scaler type: its constructor and a zero value of its metadata struct (for
// the schema).
type entry struct {
	build    func(ctx context.Context, cfg *Config) (Scaler, error)
	metadata any
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
	"redis":      {build: newRedisScaler, metadata: redisMetadata{}},
	"cron":       {build: newCronScaler, metadata: cronMetadata{}},
	"postgresql": {build: newPostgreSQLScaler, metadata: postgresqlMetadata{}},
	"mysql":      {build: newMySQLScaler, metadata: mysqlMetadata{}},

	"prometheus":  {build: newPrometheusScaler, metadata: prometheusMetadata{}},
	"loki":        {build: newLokiScaler, metadata: lokiMetadata{}, tested: testedContract},
	"metrics-api": {build: newMetricsAPIScaler, metadata: metricsAPIMetadata{}},
	"new-relic":   {build: newNewRelicScaler, metadata: newRelicMetadata{}, tested: testedContract},

	"github-runner": {build: newGitHubRunnerScaler, metadata: githubRunnerMetadata{}, tested: testedContract},

	"dynatrace": {build: newDynatraceScaler, metadata: dynatraceMetadata{}, tested: testedContract},
	"datadog":   {build: newDatadogScaler, metadata: datadogMetadata{}, tested: testedContract},

	"graphite": {build: newGraphiteScaler, metadata: graphiteMetadata{}},

	"elasticsearch": {build: newElasticsearchScaler, metadata: elasticsearchMetadata{}, tested: testedContract},
	"opensearch":    {build: newOpenSearchScaler, metadata: opensearchMetadata{}, tested: testedContract},

	"nats-jetstream": {build: newNATSJetStreamScaler, metadata: natsJetStreamMetadata{}},

	"beanstalkd": {build: newBeanstalkdScaler, metadata: beanstalkdMetadata{}},

	"nsq": {build: newNSQScaler, metadata: nsqMetadata{}},

	"aws-sqs-queue": {build: newAWSSQSQueueScaler, metadata: awsSQSQueueMetadata{}, tested: testedContract},

	"external":      {build: newExternalScaler, metadata: externalMetadata{}},
	"external-push": {build: newExternalPushScaler, metadata: externalMetadata{}},

	"rabbitmq": {build: newRabbitMQScaler, metadata: rabbitMQMetadata{}},

	"redis-cluster":          {build: newRedisClusterScaler, metadata: redisClusterMetadata{}},
	"redis-sentinel":         {build: newRedisSentinelScaler, metadata: redisSentinelMetadata{}},
	"redis-streams":          {build: newRedisStreamsScaler, metadata: redisStreamsMetadata{}},
	"redis-cluster-streams":  {build: newRedisClusterStreamsScaler, metadata: redisClusterStreamsMetadata{}},
	"redis-sentinel-streams": {build: newRedisSentinelStreamsScaler, metadata: redisSentinelStreamsMetadata{}},

	"kafka":        {build: newKafkaScaler, metadata: kafkaMetadata{}},
	"apache-kafka": {build: newApacheKafkaScaler, metadata: apacheKafkaMetadata{}},

	"cpu":    {build: newResourceScaler, metadata: resourceMetadata{}},
	"memory": {build: newResourceScaler, metadata: resourceMetadata{}},

	"kubernetes-workload": {build: newKubernetesWorkloadScaler, metadata: kubernetesWorkloadMetadata{}},

	"etcd": {build: newEtcdScaler, metadata: etcdMetadata{}},

	"azure-queue": {build: newAzureQueueScaler, metadata: azureQueueMetadata{}, tested: testedEmulator},
	"azure-blob":  {build: newAzureBlobScaler, metadata: azureBlobMetadata{}, tested: testedEmulator},

	"gcp-storage":     {build: newGCPStorageScaler, metadata: gcpStorageMetadata{}, tested: testedEmulator},
	"gcp-stackdriver": {build: newGCPStackdriverScaler, metadata: gcpStackdriverMetadata{}, tested: testedContract},
	"gcp-pubsub":      {build: newGCPPubSubScaler, metadata: gcpPubSubMetadata{}, tested: testedContract},
	"gcp-cloudtasks":  {build: newGCPCloudTasksScaler, metadata: gcpCloudTasksMetadata{}, tested: testedContract},
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
	meta := reflect.New(reflect.TypeOf(e.metadata)).Interface()
	return ParseMetadata(cfg, meta)
}

func unknownType(cfg *Config) error {
	return fmt.Errorf("trigger %d: spec.triggers[%d].type %q is not a known scaler type: use one of %s",
		cfg.TriggerIndex, cfg.TriggerIndex, cfg.TriggerType, strings.Join(Types(), ", "))
}

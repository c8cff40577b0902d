package scalers

import (
	"context"
	"sort"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

// DefaultTimeout bounds calls to an event source when Config.Timeout is zero.
const DefaultTimeout = 3 * time.Second

// entry is a registered scaler type: its constructor, and its driver's checks. Its metadata
// struct is meta's (meta.Metadata), so that checking a trigger needs no driver.
type entry struct {
	build func(ctx context.Context, cfg *Config) (Scaler, error)
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
	"redis":      {build: newRedisScaler},
	"cron":       {build: newCronScaler},
	"postgresql": {build: newPostgreSQLScaler, check: postgresqlDriverCheck},
	"mysql":      {build: newMySQLScaler},

	"prometheus":  {build: newPrometheusScaler},
	"loki":        {build: newLokiScaler, tested: testedContract},
	"metrics-api": {build: newMetricsAPIScaler},
	"new-relic":   {build: newNewRelicScaler, tested: testedContract},

	"github-runner": {build: newGitHubRunnerScaler, tested: testedContract},

	"dynatrace": {build: newDynatraceScaler, tested: testedContract},
	"datadog":   {build: newDatadogScaler, tested: testedContract},

	"graphite": {build: newGraphiteScaler},

	"elasticsearch": {build: newElasticsearchScaler, tested: testedContract},
	"opensearch":    {build: newOpenSearchScaler, tested: testedContract},

	"nats-jetstream": {build: newNATSJetStreamScaler},

	"beanstalkd": {build: newBeanstalkdScaler},

	"nsq": {build: newNSQScaler},

	"aws-sqs-queue":      {build: newAWSSQSQueueScaler, tested: testedContract},
	"aws-kinesis-stream": {build: newAWSKinesisStreamScaler, tested: testedEmulator},
	"aws-dynamodb":       {build: newAWSDynamoDBScaler, tested: testedEmulator},
	"aws-cloudwatch":     {build: newAWSCloudWatchScaler, tested: testedContract},

	"aws-dynamodb-streams": {build: newAWSDynamoDBStreamsScaler, tested: testedContract},

	"external":      {build: newExternalScaler},
	"external-push": {build: newExternalPushScaler},

	"rabbitmq": {build: newRabbitMQScaler, check: rabbitDriverCheck},

	"redis-cluster":          {build: newRedisClusterScaler},
	"redis-sentinel":         {build: newRedisSentinelScaler},
	"redis-streams":          {build: newRedisStreamsScaler},
	"redis-cluster-streams":  {build: newRedisClusterStreamsScaler},
	"redis-sentinel-streams": {build: newRedisSentinelStreamsScaler},

	"kafka":        {build: newKafkaScaler, check: kafkaDriverCheck},
	"apache-kafka": {build: newApacheKafkaScaler, check: kafkaDriverCheck},

	"cpu":    {build: newResourceScaler},
	"memory": {build: newResourceScaler},

	"kubernetes-workload": {build: newKubernetesWorkloadScaler},

	"etcd": {build: newEtcdScaler},

	"azure-queue": {build: newAzureQueueScaler, tested: testedEmulator},
	"azure-blob":  {build: newAzureBlobScaler, tested: testedEmulator},

	"azure-pipelines": {build: newAzurePipelinesScaler, tested: testedContract},

	"azure-servicebus": {build: newAzureServiceBusScaler, tested: testedContract},

	"gcp-storage":     {build: newGCPStorageScaler, tested: testedEmulator},
	"gcp-stackdriver": {build: newGCPStackdriverScaler, tested: testedContract},
	"gcp-pubsub":      {build: newGCPPubSubScaler, tested: testedContract},
	"gcp-cloudtasks":  {build: newGCPCloudTasksScaler, tested: testedContract},

	"artemis-queue": {build: newArtemisQueueScaler, tested: testedContract},
	"activemq":      {build: newActiveMQScaler, tested: testedContract},

	"ibmmq": {build: newIBMMQScaler, tested: testedContract},

	"solr":    {build: newSolrScaler, tested: testedContract},
	"couchdb": {build: newCouchDBScaler, tested: testedEmulator},
	"pulsar":  {build: newPulsarScaler, tested: testedContract},
	"mongodb": {build: newMongoDBScaler, tested: testedEmulator},
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

// ValidateTrigger parses a trigger's metadata without building its scaler (nothing is dialled):
// meta's checks, then those of the trigger's driver (see entry.check).
func ValidateTrigger(cfg *Config) error {
	return CheckTrigger(cfg.trigger())
}

// CheckTrigger is ValidateTrigger for the trigger as meta describes it, for the admission webhook
// and the controller, which link the drivers anyway. kubectl keda check runs meta.CheckTrigger,
// which links none.
func CheckTrigger(t *meta.Trigger) error {
	m, err := meta.ParseTrigger(t)
	if err != nil {
		return err
	}
	if e, ok := registry[t.Type]; ok && e.check != nil {
		return t.Identify(e.check(m))
	}
	return nil
}

func unknownType(cfg *Config) error {
	return meta.UnknownTypeError(cfg.trigger())
}

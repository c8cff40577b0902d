package meta

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// registry maps every trigger type this build supports to a zero value of its metadata struct.
// It is read-only. Package scalers maps the same types to the scalers that read them.
var registry = map[string]any{
	"redis":                  RedisMetadata{},
	"cron":                   CronMetadata{},
	"postgresql":             PostgresqlMetadata{},
	"mysql":                  MysqlMetadata{},
	"prometheus":             PrometheusMetadata{},
	"loki":                   LokiMetadata{},
	"metrics-api":            MetricsAPIMetadata{},
	"new-relic":              NewRelicMetadata{},
	"github-runner":          GithubRunnerMetadata{},
	"dynatrace":              DynatraceMetadata{},
	"datadog":                DatadogMetadata{},
	"graphite":               GraphiteMetadata{},
	"elasticsearch":          ElasticsearchMetadata{},
	"opensearch":             OpensearchMetadata{},
	"nats-jetstream":         NatsJetStreamMetadata{},
	"beanstalkd":             BeanstalkdMetadata{},
	"nsq":                    NSQMetadata{},
	"aws-sqs-queue":          AWSSQSQueueMetadata{},
	"aws-kinesis-stream":     AWSKinesisStreamMetadata{},
	"aws-dynamodb":           AWSDynamoDBMetadata{},
	"aws-cloudwatch":         AWSCloudWatchMetadata{},
	"aws-dynamodb-streams":   AWSDynamoDBStreamsMetadata{},
	"external":               ExternalMetadata{},
	"external-push":          ExternalMetadata{},
	"rabbitmq":               RabbitMQMetadata{},
	"redis-cluster":          RedisClusterMetadata{},
	"redis-sentinel":         RedisSentinelMetadata{},
	"redis-streams":          RedisStreamsMetadata{},
	"redis-cluster-streams":  RedisClusterStreamsMetadata{},
	"redis-sentinel-streams": RedisSentinelStreamsMetadata{},
	"kafka":                  KafkaMetadata{},
	"apache-kafka":           ApacheKafkaMetadata{},
	"cpu":                    ResourceMetadata{},
	"memory":                 ResourceMetadata{},
	"kubernetes-workload":    KubernetesWorkloadMetadata{},
	"etcd":                   EtcdMetadata{},
	"azure-queue":            AzureQueueMetadata{},
	"azure-blob":             AzureBlobMetadata{},
	"azure-pipelines":        AzurePipelinesMetadata{},
	"azure-servicebus":       AzureServiceBusMetadata{},
	"gcp-storage":            GCPStorageMetadata{},
	"gcp-stackdriver":        GCPStackdriverMetadata{},
	"gcp-pubsub":             GCPPubSubMetadata{},
	"gcp-cloudtasks":         GCPCloudTasksMetadata{},
	"artemis-queue":          ArtemisQueueMetadata{},
	"activemq":               ActiveMQMetadata{},
	"ibmmq":                  IBMMQMetadata{},
	"solr":                   SolrMetadata{},
	"couchdb":                CouchDBMetadata{},
	"pulsar":                 PulsarMetadata{},
	"mongodb":                MongoDBMetadata{},
}

// registryParser has read the layout of every registered metadata struct once; it is read-only.
var registryParser = newRegistryParser()

func newRegistryParser() *Parser {
	all := make([]any, 0, len(registry))
	for _, m := range registry {
		all = append(all, m)
	}
	return NewParser(all...)
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

// Metadata returns a zero value of the metadata struct of triggerType, and whether the type is
// known.
func Metadata(triggerType string) (any, bool) {
	m, ok := registry[triggerType]
	return m, ok
}

// ParseTrigger parses and checks a trigger's metadata into a new struct of its type's, returned
// as a pointer. Nothing is dialled and no event-source client is involved: this is what kubectl
// keda check runs, and what the webhook and the operator run before their drivers' own checks.
func ParseTrigger(t *Trigger) (any, error) {
	zero, ok := registry[t.Type]
	if !ok {
		return nil, UnknownTypeError(t)
	}
	m := reflect.New(reflect.TypeOf(zero)).Interface()
	if err := registryParser.Parse(t, m); err != nil {
		return nil, err
	}
	return m, nil
}

// CheckTrigger is ParseTrigger for its verdict alone.
func CheckTrigger(t *Trigger) error {
	_, err := ParseTrigger(t)
	return err
}

// ParseInto fills target, a pointer to a registered metadata struct, from t and checks it.
func ParseInto(t *Trigger, target any) error {
	return registryParser.Parse(t, target)
}

// Parameters describes the parameters of a registered metadata struct (a value or a pointer).
func Parameters(metadata any) ([]SchemaParameter, error) {
	return registryParser.Parameters(metadata)
}

// UnknownTypeError is the refusal of a trigger type this build does not know.
func UnknownTypeError(t *Trigger) error {
	return fmt.Errorf("trigger %d: spec.triggers[%d].type %q is not a known scaler type: use one of %s",
		t.Index, t.Index, t.Type, strings.Join(Types(), ", "))
}

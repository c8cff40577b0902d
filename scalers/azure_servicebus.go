package scalers

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The azure-servicebus trigger counts active messages through a Service Bus namespace's
// management API (ATOM over https), as KEDA's client (the Azure SDK's admin client) reads them:
//
//	GET /{queue}?api-version=2021-05                                    a queue's runtime properties
//	GET /{topic}/Subscriptions/{subscription}?api-version=2021-05       a subscription's
//	GET /$Resources/Queues?api-version=2021-05&$skip=N&$top=100         every queue (useRegex)
//	GET /{topic}/Subscriptions?api-version=2021-05&$skip=N&$top=100     a topic's subscriptions (useRegex)
//
// each with a shared access signature in Authorization. The count is CountDetails'
// ActiveMessageCount. Speaking the REST API here rather than through the Azure SDK keeps these
// requests on the operator's shared, bounded HTTP transport with our own error wording, as the
// azure-queue and azure-blob triggers do, instead of adding azcore and azservicebus (with its
// AMQP stack) for four GETs.

// azureServiceBusScaler reads one queue's or subscription's count (or those useRegex matches) on
// each poll.
type azureServiceBusScaler struct {
	cfg        *Config
	meta       meta.AzureServiceBusMetadata
	client     *azureServiceBusClient
	metricName string
}

func newAzureServiceBusScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &azureServiceBusScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	if s.meta.ServiceBus == nil {
		return nil, fmt.Errorf("%s: no connection string was found: set parameter connection in the TriggerAuthentication or metadata.connectionFromEnv", triggerWho(cfg))
	}
	s.client = newAzureServiceBusClient(cfg, s.meta.ServiceBus)
	s.metricName = MetricName(cfg.TriggerIndex, s.meta.MetricNamePart())
	return s, nil
}

func (s *azureServiceBusScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, float64(s.meta.MessageCount))
}

// GetMetricsAndActivity reads the active message count; the trigger is active above
// activationMessageCount.
func (s *azureServiceBusScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	n, err := s.count(ctx)
	if err != nil {
		return nil, false, err
	}
	return oneMetricValue(metricName, float64(n)), n > s.meta.ActivationMessageCount, nil
}

func (s *azureServiceBusScaler) Close(context.Context) error {
	s.client.close()
	return nil
}

// count reads the entity's active messages, or combines those of the entities useRegex matches.
func (s *azureServiceBusScaler) count(ctx context.Context) (int64, error) {
	m := &s.meta
	if !m.UseRegex {
		if m.QueueName != "" {
			return s.client.activeMessages(ctx, azureServiceBusQueue, "queue "+strconv.Quote(m.QueueName)+" (metadata.queueName)", m.QueueName)
		}
		what := "subscription " + strconv.Quote(m.SubscriptionName) + " of topic " + strconv.Quote(m.TopicName) + " (metadata.subscriptionName, metadata.topicName)"
		return s.client.activeMessages(ctx, azureServiceBusSubscription, what, m.TopicName, "Subscriptions", m.SubscriptionName)
	}
	var entities []azureServiceBusEntity
	var err error
	if m.QueueName != "" {
		entities, err = s.client.list(ctx, azureServiceBusQueue, "the listing of queues ($Resources/Queues)", "$Resources", "Queues")
	} else {
		entities, err = s.client.list(ctx, azureServiceBusSubscription, "topic "+strconv.Quote(m.TopicName)+" (metadata.topicName)", m.TopicName, "Subscriptions")
	}
	if err != nil {
		return 0, err
	}
	var counts []int64
	for _, e := range entities {
		if m.Matches(e.name) {
			counts = append(counts, e.active)
		}
	}
	return meta.AzureServiceBusCombine(counts, m.Operation), nil
}

// azureServiceBusPath splits entity names on their slashes (Service Bus names may hold them, as
// paths) into the path segments of a request.
func azureServiceBusPath(names ...string) []string {
	var segments []string
	for _, n := range names {
		segments = append(segments, strings.Split(n, "/")...)
	}
	return segments
}

// azureServiceBusURL is the management API's URL of the segments under base, each escaped, with
// the API version and query.
func azureServiceBusURL(base *url.URL, query url.Values, segments ...string) *url.URL {
	u := *base
	escaped := make([]string, len(segments))
	for i, s := range segments {
		escaped[i] = url.PathEscape(s)
	}
	u.RawPath = "/" + strings.Join(escaped, "/")
	u.Path, _ = url.PathUnescape(u.RawPath)
	q := url.Values{"api-version": {azureServiceBusAPIVersion}}
	for k, v := range query {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return &u
}

package scalers

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"

	"github.com/kedactl/kedactl/scalers/meta"
)

// The azure-queue trigger counts the messages of a storage queue:
//
//	GET /{queue}?comp=metadata                          x-ms-approximate-messages-count (all messages)
//	GET /{queue}/messages?peekonly=true&numofmessages=32 the visible ones (queueLengthStrategy visibleonly)
//
// Peeking sees at most 32 messages; a queue with that many or more is counted with the
// approximate count, as KEDA does.

// azureQueuePeekMax is the most messages one peek returns.
const azureQueuePeekMax = 32

// azureQueueMetadata is the azure-queue trigger's metadata, with KEDA's parameter names.
type azureQueueMetadata struct {
	QueueName             string `keda:"name=queueName, order=triggerMetadata"`
	QueueLength           int64  `keda:"name=queueLength, order=triggerMetadata, default=5"`
	ActivationQueueLength int64  `keda:"name=activationQueueLength, order=triggerMetadata, default=0"`
	QueueLengthStrategy   string `keda:"name=queueLengthStrategy, order=triggerMetadata, enum=all;visibleonly, default=all"`
	Connection            string `keda:"name=connection, order=authParams;triggerMetadata;resolvedEnv, optional, secret"`
	azureConnectionParams

	// Set by ValidateConfig; nil offline when the connection string is yet to come.
	account *azureStorageAccount
}

// Validate checks what the metadata alone decides.
func (m *azureQueueMetadata) Validate() error {
	if m.QueueLength < 1 {
		// KEDA takes any number, but the HPA refuses a target that is not above 0.
		return &ParamError{Param: "queueLength", Problem: fmt.Sprintf("is %d", m.QueueLength), Fix: "must be at least 1: it is the number of messages per replica the HPA aims at"}
	}
	return nil
}

// ValidateConfig checks metadata.cloud (read from the metadata as written, as KEDA reads it) and
// the connection string.
func (m *azureQueueMetadata) ValidateConfig(cfg *meta.Trigger) error {
	var err error
	m.account, err = azureStorageAccountFor(cfg, m.Connection, &m.azureConnectionParams, azureQueueService)
	return err
}

// azureQueueScaler reads one queue's length on each poll.
type azureQueueScaler struct {
	azureStorageTrigger
	meta azureQueueMetadata
}

func newAzureQueueScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &azureQueueScaler{}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	t, err := newAzureStorageTrigger(cfg, s.meta.account, "azure-queue-"+s.meta.QueueName)
	if err != nil {
		return nil, err
	}
	s.azureStorageTrigger = t
	return s, nil
}

func (s *azureQueueScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, float64(s.meta.QueueLength))
}

// GetMetricsAndActivity reads the queue's length; the trigger is active above
// activationQueueLength.
func (s *azureQueueScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	n, err := s.length(ctx)
	if err != nil {
		return nil, false, err
	}
	return oneMetricValue(metricName, float64(n)), n > s.meta.ActivationQueueLength, nil
}

// length counts the queue's messages under queueLengthStrategy.
func (s *azureQueueScaler) length(ctx context.Context) (int64, error) {
	what := "queue " + strconv.Quote(s.meta.QueueName) + " (metadata.queueName)"
	if strings.EqualFold(s.meta.QueueLengthStrategy, "visibleonly") {
		u := s.client.account.resource(url.Values{"peekonly": {"true"}, "numofmessages": {strconv.Itoa(azureQueuePeekMax)}}, s.meta.QueueName, "messages")
		_, body, err := s.client.get(ctx, u, what)
		if err != nil {
			return 0, err
		}
		n, err := parseAzurePeekedMessages(body)
		if err != nil {
			return 0, s.client.fail(u, fmt.Errorf("the answer is not a list of peeked messages (%w): check the queue endpoint of the connection string", err))
		}
		if n < azureQueuePeekMax {
			return int64(n), nil
		}
	}
	u := s.client.account.resource(url.Values{"comp": {"metadata"}}, s.meta.QueueName)
	h, _, err := s.client.get(ctx, u, what)
	if err != nil {
		return 0, err
	}
	n, err := parseAzureApproximateCount(h.Get("x-ms-approximate-messages-count"))
	if err != nil {
		return 0, s.client.fail(u, fmt.Errorf("%w: check the queue endpoint of the connection string", err))
	}
	return n, nil
}

// parseAzureApproximateCount reads the x-ms-approximate-messages-count header.
func parseAzureApproximateCount(v string) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, errors.New("the answer has no x-ms-approximate-messages-count header")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("the answer's x-ms-approximate-messages-count %q is not a count", clip(v, 40))
	}
	return n, nil
}

// parseAzurePeekedMessages counts the messages of a Peek Messages answer.
func parseAzurePeekedMessages(body []byte) (int, error) {
	var list struct {
		XMLName  xml.Name   `xml:"QueueMessagesList"`
		Messages []struct{} `xml:"QueueMessage"`
	}
	if err := xml.Unmarshal(body, &list); err != nil {
		return 0, errors.New(clip(err.Error(), 120))
	}
	return len(list.Messages), nil
}

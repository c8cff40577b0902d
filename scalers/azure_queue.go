package scalers

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
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

// azureQueueScaler reads one queue's length on each poll.
type azureQueueScaler struct {
	azureStorageTrigger
	meta meta.AzureQueueMetadata
}

func newAzureQueueScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &azureQueueScaler{}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	t, err := newAzureStorageTrigger(cfg, s.meta.Account, "azure-queue-"+s.meta.QueueName)
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
		u := s.client.account.Resource(url.Values{"peekonly": {"true"}, "numofmessages": {strconv.Itoa(azureQueuePeekMax)}}, s.meta.QueueName, "messages")
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
	u := s.client.account.Resource(url.Values{"comp": {"metadata"}}, s.meta.QueueName)
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
		return 0, fmt.Errorf("the answer's x-ms-approximate-messages-count %s is not a count", meta.Quote(v, 40))
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
		return 0, errors.New(meta.Clip(err.Error(), 120))
	}
	return len(list.Messages), nil
}

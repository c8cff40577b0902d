package scalers

import (
	"context"

	"github.com/kedactl/kedactl/scalers/meta"
)

// newArtemisQueueScaler reads an ActiveMQ Artemis queue's MessageCount through the Jolokia agent
// of the broker's console. The metric is named after the queue, as KEDA names it.
func newArtemisQueueScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m meta.ArtemisQueueMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	q := newJolokiaQueue(cfg, m.Read, m.UnsafeSsl, "Artemis", "brokerName, brokerAddress and queueName (an anycast queue), or the MBean in restApiTemplate", "restApiTemplate")
	return &jolokiaScaler{cfg: cfg, queue: q, metricName: MetricName(cfg.TriggerIndex, "artemis-"+m.QueueName),
		target: m.QueueLength, activation: m.ActivationQueueLength}, nil
}

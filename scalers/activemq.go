package scalers

import (
	"context"

	"github.com/kedactl/kedactl/scalers/meta"
)

// newActiveMQScaler reads an ActiveMQ (classic) queue's QueueSize through the Jolokia agent of
// the broker's web console. The metric is named after the destination, as KEDA names it.
func newActiveMQScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m meta.ActiveMQMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	// KEDA's activemq trigger has no TLS parameters: an https console needs a certificate the
	// system trusts.
	q := newJolokiaQueue(cfg, m.Read, false, "ActiveMQ", "brokerName and destinationName, or the MBean in restAPITemplate", "restAPITemplate")
	return &jolokiaScaler{cfg: cfg, queue: q, metricName: MetricName(cfg.TriggerIndex, "activemq-"+m.DestinationName),
		target: m.TargetQueueSize, activation: m.ActivationTargetQueueSize}, nil
}

package meta

import (
	"fmt"
	"net/url"
	"strings"
)

// The SQS attributes the trigger sums.
const (
	SQSAttrVisible  = "ApproximateNumberOfMessages"
	SQSAttrInFlight = "ApproximateNumberOfMessagesNotVisible"
	SQSAttrDelayed  = "ApproximateNumberOfMessagesDelayed"
)

// AWSSQSQueueMetadata is the aws-sqs-queue trigger's metadata, with KEDA's parameter names; the
// region, endpoint and credentials are AWSAuth's.
type AWSSQSQueueMetadata struct {
	QueueLength           int64  `keda:"name=queueLength, order=triggerMetadata, default=5"`
	ActivationQueueLength int64  `keda:"name=activationQueueLength, order=triggerMetadata, default=0"`
	QueueURL              string `keda:"name=queueURL, order=triggerMetadata;resolvedEnv"`
	ScaleOnInFlight       bool   `keda:"name=scaleOnInFlight, order=triggerMetadata, default=true"`
	ScaleOnDelayed        bool   `keda:"name=scaleOnDelayed, order=triggerMetadata, default=false"`
	AWSAuth

	// Set by Validate.
	QueueName  string
	Attributes []string
}

// Validate checks what the metadata alone decides.
func (m *AWSSQSQueueMetadata) Validate() error {
	if m.QueueLength < 1 {
		return &ParamError{Param: "queueLength", Problem: fmt.Sprintf("is %d", m.QueueLength),
			Fix: "must be at least 1: it is the number of messages per replica the HPA aims at"}
	}
	if m.ActivationQueueLength < 0 {
		return &ParamError{Param: "activationQueueLength", Problem: fmt.Sprintf("is %d", m.ActivationQueueLength), Fix: "must not be negative"}
	}
	name, err := sqsQueueName(m.QueueURL)
	if err != nil {
		return err
	}
	m.QueueName = name
	if err := m.CheckEndpoint(); err != nil {
		return err
	}
	m.Attributes = []string{SQSAttrVisible}
	if m.ScaleOnInFlight {
		m.Attributes = append(m.Attributes, SQSAttrInFlight)
	}
	if m.ScaleOnDelayed {
		m.Attributes = append(m.Attributes, SQSAttrDelayed)
	}
	return nil
}

// sqsQueueName is the queue's name for the metric name. Like KEDA, a queueURL that is not an
// absolute URL is taken as the name itself, and a URL must have the /<account>/<name> path SQS
// gives its queues.
func sqsQueueName(queueURL string) (string, error) {
	u, err := url.ParseRequestURI(queueURL)
	if err != nil {
		return queueURL, nil
	}
	parts := strings.Split(u.Path, "/")
	if len(parts) != 3 || parts[2] == "" {
		return "", &ParamError{Param: "queueURL", Problem: Quote(queueURL, 200) + " has no queue name in its path",
			Fix: "use the queue's URL as SQS shows it, https://sqs.<region>.amazonaws.com/<account id>/<queue name>"}
	}
	return parts[2], nil
}

package meta

import (
	"fmt"
)

// AzureQueueMetadata is the azure-queue trigger's metadata, with KEDA's parameter names.
type AzureQueueMetadata struct {
	QueueName             string `keda:"name=queueName, order=triggerMetadata"`
	QueueLength           int64  `keda:"name=queueLength, order=triggerMetadata, default=5"`
	ActivationQueueLength int64  `keda:"name=activationQueueLength, order=triggerMetadata, default=0"`
	QueueLengthStrategy   string `keda:"name=queueLengthStrategy, order=triggerMetadata, enum=all;visibleonly, default=all"`
	Connection            string `keda:"name=connection, order=authParams;triggerMetadata;resolvedEnv, optional, secret"`
	azureConnectionParams

	// Set by ValidateConfig; nil offline when the connection string is yet to come.
	Account *AzureStorageAccount
}

// Validate checks what the metadata alone decides.
func (m *AzureQueueMetadata) Validate() error {
	if m.QueueLength < 1 {
		// KEDA takes any number, but the HPA refuses a target that is not above 0.
		return &ParamError{Param: "queueLength", Problem: fmt.Sprintf("is %d", m.QueueLength), Fix: "must be at least 1: it is the number of messages per replica the HPA aims at"}
	}
	return nil
}

// ValidateConfig checks metadata.cloud (read from the metadata as written, as KEDA reads it) and
// the connection string.
func (m *AzureQueueMetadata) ValidateConfig(cfg *Trigger) error {
	var err error
	m.Account, err = azureStorageAccountFor(cfg, m.Connection, &m.azureConnectionParams, AzureQueueService)
	return err
}

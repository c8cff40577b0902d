package meta

import (
	"fmt"
)

// GCPCloudTasksMetadata is the gcp-cloudtasks trigger's metadata, with KEDA's parameter names.
type GCPCloudTasksMetadata struct {
	Value           float64 `keda:"name=value, order=triggerMetadata, optional, default=100"`
	ActivationValue float64 `keda:"name=activationValue, order=triggerMetadata, optional, default=0"`
	FilterDuration  int64   `keda:"name=filterDuration, order=triggerMetadata, optional"`
	QueueName       string  `keda:"name=queueName, order=triggerMetadata"`
	ProjectID       string  `keda:"name=projectID, order=triggerMetadata"`
	gcpAuthParams

	MetricSource
}

// Validate checks the parameters together.
func (m *GCPCloudTasksMetadata) Validate() error {
	if err := GCPCheckProjectID("projectID", m.ProjectID); err != nil {
		return err
	}
	if m.Value < 0 || (m.Value == 0 && !m.AsMetricSource()) {
		return &ParamError{Param: "value", Problem: fmt.Sprintf("is %g", m.Value), Fix: "must be above 0: it is the number of tasks per replica the HPA aims at"}
	}
	return nil
}

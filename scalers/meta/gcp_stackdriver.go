package meta

import (
	"fmt"
	"strings"
	"time"
)

// GCPStackdriverMetadata is the gcp-stackdriver trigger's metadata, with KEDA's parameter names.
type GCPStackdriverMetadata struct {
	ProjectID              string   `keda:"name=projectId, order=triggerMetadata"`
	Filter                 string   `keda:"name=filter, order=triggerMetadata"`
	TargetValue            float64  `keda:"name=targetValue, order=triggerMetadata, default=5"`
	ActivationTargetValue  float64  `keda:"name=activationTargetValue, order=triggerMetadata, default=0"`
	ValueIfNull            *float64 `keda:"name=valueIfNull, order=triggerMetadata, optional"`
	FilterDuration         int64    `keda:"name=filterDuration, order=triggerMetadata, optional"`
	AlignmentPeriodSeconds int64    `keda:"name=alignmentPeriodSeconds, order=triggerMetadata, optional"`
	AlignmentAligner       string   `keda:"name=alignmentAligner, order=triggerMetadata, optional"`
	AlignmentReducer       string   `keda:"name=alignmentReducer, order=triggerMetadata, optional"`
	gcpAuthParams

	MetricSource

	// Set by Validate.
	Agg GCPAggregation
}

// Validate checks the parameters together.
func (m *GCPStackdriverMetadata) Validate() error {
	if err := GCPCheckProjectID("projectId", m.ProjectID); err != nil {
		return err
	}
	if strings.TrimSpace(m.Filter) == "" {
		return &ParamError{Param: "filter", Problem: "is empty", Fix: `use a Cloud Monitoring filter naming a metric, such as metric.type="pubsub.googleapis.com/subscription/num_undelivered_messages"`}
	}
	if m.TargetValue < 0 || (m.TargetValue == 0 && !m.AsMetricSource()) {
		// KEDA hands a target of 0 to the HPA, which refuses it; as a metric source of
		// scalingModifiers the HPA never sees it.
		return &ParamError{Param: "targetValue", Problem: fmt.Sprintf("is %g", m.TargetValue), Fix: "must be above 0: it is the metric's value per replica the HPA aims at"}
	}
	if m.AlignmentPeriodSeconds == 0 {
		// As KEDA: without a period there is no aggregation, and aligner and reducer are unused.
		return nil
	}
	if m.AlignmentPeriodSeconds < 60 {
		return &ParamError{Param: "alignmentPeriodSeconds", Problem: fmt.Sprintf("is %d", m.AlignmentPeriodSeconds), Fix: "must be at least 60 (Cloud Monitoring's smallest alignment period), or unset for no aggregation"}
	}
	aligner, err := gcpEnumValue("alignmentAligner", m.AlignmentAligner, gcpAligners, "mean, max, sum, delta or percentile_99")
	if err != nil {
		return err
	}
	reducer, err := gcpEnumValue("alignmentReducer", m.AlignmentReducer, gcpReducers, "sum, mean, max or percentile_95")
	if err != nil {
		return err
	}
	m.Agg = GCPAggregation{Period: time.Duration(m.AlignmentPeriodSeconds) * time.Second, Aligner: aligner, Reducer: reducer}
	return nil
}

// GCPCheckProjectID refuses a project ID that would change the request's path or the filter's
// quoting; Cloud Monitoring itself answers for anything else (404 or 403).
func GCPCheckProjectID(param, id string) error {
	if strings.ContainsAny(id, "/\"\\?#% \t\r\n") {
		return &ParamError{Param: param, Problem: Quote(id, 60) + " is not a project ID", Fix: "use the project's ID (such as my-project-123), not its name or number path"}
	}
	return nil
}

package meta

import (
	"fmt"
	"slices"
	"strings"
)

// AWSCloudWatchMetadata is the aws-cloudwatch trigger's metadata, with KEDA's parameter names:
// one GetMetricData query, of a metric (namespace, metricName, dimensions, metricStat) or of an
// expression, over the last metricCollectionTime seconds.
type AWSCloudWatchMetadata struct {
	Namespace                   string   `keda:"name=namespace, order=triggerMetadata, optional"`
	MetricName                  string   `keda:"name=metricName, order=triggerMetadata, optional"`
	DimensionName               []string `keda:"name=dimensionName, order=triggerMetadata, optional, separator=;"`
	DimensionValue              []string `keda:"name=dimensionValue, order=triggerMetadata, optional, separator=;"`
	Expression                  string   `keda:"name=expression, order=triggerMetadata, optional"`
	TargetMetricValue           float64  `keda:"name=targetMetricValue, order=triggerMetadata"`
	ActivationTargetMetricValue float64  `keda:"name=activationTargetMetricValue, order=triggerMetadata, optional"`
	MinMetricValue              float64  `keda:"name=minMetricValue, order=triggerMetadata"`
	IgnoreNullValues            bool     `keda:"name=ignoreNullValues, order=triggerMetadata, default=true"`
	MetricCollectionTime        int64    `keda:"name=metricCollectionTime, order=triggerMetadata, default=300"`
	MetricStat                  string   `keda:"name=metricStat, order=triggerMetadata, default=Average"`
	MetricUnit                  string   `keda:"name=metricUnit, order=triggerMetadata, optional"`
	MetricStatPeriod            int64    `keda:"name=metricStatPeriod, order=triggerMetadata, default=300"`
	MetricEndTimeOffset         int64    `keda:"name=metricEndTimeOffset, order=triggerMetadata, default=0"`
	AwsAccountID                string   `keda:"name=awsAccountId, order=triggerMetadata, optional"`
	AWSAuth

	MetricSource
}

// CloudWatchUnits are the units CloudWatch's StandardUnit admits.
var CloudWatchUnits = []string{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
	"Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
	"Count/Second", "None"}

// Validate checks what the metadata alone decides, as KEDA does, and a target the HPA takes.
func (m *AWSCloudWatchMetadata) Validate() error {
	if m.TargetMetricValue < 0 || (m.TargetMetricValue == 0 && !m.AsMetricSource()) {
		return &ParamError{Param: "targetMetricValue", Problem: fmt.Sprintf("is %g", m.TargetMetricValue),
			Fix: "must be above 0: it is the metric's value per replica the HPA aims at"}
	}
	if m.Expression == "" {
		for _, p := range []struct{ name, value string }{{"namespace", m.Namespace}, {"metricName", m.MetricName}} {
			if strings.TrimSpace(p.value) == "" {
				return &ParamError{Param: p.name, Problem: "is required without an expression", Fix: "name the metric (namespace, metricName, dimensionName, dimensionValue) or give an expression"}
			}
		}
		if len(m.DimensionName) == 0 || len(m.DimensionValue) == 0 {
			return &ParamError{Param: "dimensionName", Problem: "and dimensionValue are required without an expression",
				Fix: "give the metric's dimensions, several separated by ';' (dimensionName: QueueName, dimensionValue: orders)"}
		}
		if len(m.DimensionName) != len(m.DimensionValue) {
			return &ParamError{Param: "dimensionValue", Problem: fmt.Sprintf("has %d values for %d dimensionName entries", len(m.DimensionValue), len(m.DimensionName)),
				Fix: "give one value per dimension name, both separated by ';'"}
		}
		if m.MetricUnit != "" && !slices.Contains(CloudWatchUnits, m.MetricUnit) {
			return &ParamError{Param: "metricUnit", Problem: Quote(m.MetricUnit, 40) + " is not a CloudWatch unit", Fix: "use one of " + strings.Join(CloudWatchUnits, ", ")}
		}
	}
	if err := checkCloudWatchPeriod(m.MetricStatPeriod); err != nil {
		return err
	}
	if m.MetricCollectionTime < 0 || m.MetricCollectionTime%m.MetricStatPeriod != 0 {
		return &ParamError{Param: "metricCollectionTime", Problem: fmt.Sprintf("is %d", m.MetricCollectionTime),
			Fix: fmt.Sprintf("must be 0 or more and a multiple of metricStatPeriod (%d)", m.MetricStatPeriod)}
	}
	return m.CheckEndpoint()
}

// checkCloudWatchPeriod: 1, 5, 10, 30 or 60 seconds (high resolution), or a multiple of 60.
func checkCloudWatchPeriod(p int64) error {
	if p == 1 || p == 5 || p == 10 || p == 30 || (p >= 60 && p%60 == 0) {
		return nil
	}
	return &ParamError{Param: "metricStatPeriod", Problem: fmt.Sprintf("is %d", p), Fix: "must be 1, 5, 10, 30 or a multiple of 60 seconds"}
}

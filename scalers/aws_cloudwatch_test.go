package scalers

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseAWSCloudWatchMetadata(t *testing.T) {
	base := func(extra ...string) map[string]string {
		m := map[string]string{"namespace": "AWS/SQS", "metricName": "ApproximateNumberOfMessagesVisible", "dimensionName": "QueueName",
			"dimensionValue": "orders", "targetMetricValue": "2.5", "minMetricValue": "0", "awsRegion": "eu-west-1"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
			if extra[i+1] == "" {
				delete(m, extra[i])
			}
		}
		return m
	}
	keys := map[string]string{"awsAccessKeyID": "AKIDEXAMPLE", "awsSecretAccessKey": "cloudwatch-secret"}
	tests := []parseCase[meta.AWSCloudWatchMetadata]{
		{name: "defaults", meta: base(), auth: keys, check: func(t *testing.T, m *meta.AWSCloudWatchMetadata) {
			if m.TargetMetricValue != 2.5 || m.MinMetricValue != 0 || !m.IgnoreNullValues || m.MetricCollectionTime != 300 || m.MetricStat != "Average" ||
				m.MetricStatPeriod != 300 || m.MetricEndTimeOffset != 0 || !reflect.DeepEqual(m.DimensionName, []string{"QueueName"}) {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "several dimensions", meta: base("dimensionName", "A;B", "dimensionValue", "1;2", "metricUnit", "Count", "metricStatPeriod", "60",
			"metricCollectionTime", "120", "metricStat", "Sum", "ignoreNullValues", "false", "awsAccountId", "123456789012"), auth: keys,
			check: func(t *testing.T, m *meta.AWSCloudWatchMetadata) {
				if !reflect.DeepEqual(m.DimensionValue, []string{"1", "2"}) || m.MetricUnit != "Count" || m.IgnoreNullValues || m.AwsAccountID != "123456789012" {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "an expression alone", meta: map[string]string{"expression": "SELECT MAX(x) FROM y", "targetMetricValue": "1", "minMetricValue": "0", "awsRegion": "eu-west-1"},
			auth: keys, check: func(t *testing.T, m *meta.AWSCloudWatchMetadata) {}},
		{name: "a high resolution period", meta: base("metricStatPeriod", "10", "metricCollectionTime", "30"), auth: keys, check: func(t *testing.T, m *meta.AWSCloudWatchMetadata) {}},
		{name: "missing targetMetricValue", meta: base("targetMetricValue", ""), auth: keys, wantErr: []string{"trigger 0 (aws-cloudwatch)", "metadata.targetMetricValue", "is required"}},
		{name: "targetMetricValue 0", meta: base("targetMetricValue", "0"), auth: keys, wantErr: []string{"metadata.targetMetricValue", "above 0"}},
		{name: "missing minMetricValue", meta: base("minMetricValue", ""), auth: keys, wantErr: []string{"metadata.minMetricValue", "is required"}},
		{name: "missing namespace", meta: base("namespace", ""), auth: keys, wantErr: []string{"metadata.namespace", "without an expression"}},
		{name: "missing metricName", meta: base("metricName", ""), auth: keys, wantErr: []string{"metadata.metricName"}},
		{name: "missing dimensions", meta: base("dimensionName", "", "dimensionValue", ""), auth: keys, wantErr: []string{"metadata.dimensionName"}},
		{name: "dimensions of two sizes", meta: base("dimensionName", "A;B"), auth: keys, wantErr: []string{"metadata.dimensionValue", "1 values for 2"}},
		{name: "an unknown unit", meta: base("metricUnit", "Furlongs"), auth: keys, wantErr: []string{"metadata.metricUnit", "Furlongs"}},
		{name: "a period of 45", meta: base("metricStatPeriod", "45"), auth: keys, wantErr: []string{"metadata.metricStatPeriod", "is 45"}},
		{name: "a period of 90", meta: base("metricStatPeriod", "90"), auth: keys, wantErr: []string{"metadata.metricStatPeriod"}},
		{name: "collection not a multiple", meta: base("metricCollectionTime", "400"), auth: keys, wantErr: []string{"metadata.metricCollectionTime", "multiple of metricStatPeriod (300)"}},
		{name: "no credentials", meta: base(), wantErr: []string{"awsAccessKeyID", "no AWS credentials"}},
	}
	runParseCases(t, "aws-cloudwatch", tests, "cloudwatch-secret")
}

// TestCloudWatchUnitsAreTheSDKs: meta's list of units is CloudWatch's StandardUnit.
func TestCloudWatchUnitsAreTheSDKs(t *testing.T) {
	var sdk []string
	for _, u := range cwtypes.StandardUnit("").Values() {
		sdk = append(sdk, string(u))
	}
	if !reflect.DeepEqual(sdk, meta.CloudWatchUnits) {
		t.Fatalf("SDK units %v, meta %v", sdk, meta.CloudWatchUnits)
	}
}

func TestCloudWatchWindow(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		name                       string
		period, offset, collection int64
		start, end                 string
	}{
		{"KEDA's defaults", 300, 0, 300, "02:55:00", "03:00:00"},
		{"a minute, an offset", 60, 120, 180, "02:59:00", "03:02:00"},
		{"high resolution", 10, 0, 30, "03:03:30", "03:04:00"},
	} {
		start, end := cloudWatchWindow(now, tt.period, tt.offset, tt.collection)
		if start.Format("15:04:05") != tt.start || end.Format("15:04:05") != tt.end {
			t.Errorf("%s: %s - %s, want %s - %s", tt.name, start.Format("15:04:05"), end.Format("15:04:05"), tt.start, tt.end)
		}
	}
}

func TestCloudWatchValue(t *testing.T) {
	results := func(values ...[]float64) *cloudwatch.GetMetricDataOutput {
		out := &cloudwatch.GetMetricDataOutput{}
		for _, v := range values {
			out.MetricDataResults = append(out.MetricDataResults, cwtypes.MetricDataResult{Id: aws.String("c1"), Values: v})
		}
		return out
	}
	for _, tt := range []struct {
		name    string
		out     *cloudwatch.GetMetricDataOutput
		ignore  bool
		want    float64
		wantErr string
	}{
		{name: "the newest value", out: results([]float64{7.5, 3}), ignore: true, want: 7.5},
		{name: "a negative value", out: results([]float64{-2}), want: -2},
		{name: "no values: minMetricValue", out: results([]float64{}), ignore: true, want: 1.5},
		{name: "no values, ignoreNullValues false", out: results([]float64{}), wantErr: "ignoreNullValues is false"},
		{name: "no result at all: minMetricValue even so", out: results(), want: 1.5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := cloudWatchValue(tt.out, &meta.AWSCloudWatchMetadata{MinMetricValue: 1.5, IgnoreNullValues: tt.ignore, MetricCollectionTime: 300})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("%v, %v; want an error with %q", v, err, tt.wantErr)
				}
				return
			}
			if err != nil || v != tt.want {
				t.Fatalf("%v, %v; want %v", v, err, tt.want)
			}
		})
	}
}

func TestCloudWatchInput(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	stat := cloudWatchInput(&meta.AWSCloudWatchMetadata{Namespace: "AWS/SQS", MetricName: "Depth", DimensionName: []string{"A", "B"}, DimensionValue: []string{"1", "2"},
		MetricStat: "Sum", MetricUnit: "Count", MetricStatPeriod: 60, MetricCollectionTime: 120, AwsAccountID: "123"}, now)
	q := stat.MetricDataQueries[0]
	if len(stat.MetricDataQueries) != 1 || *q.Id != "c1" || !*q.ReturnData || *q.MetricStat.Stat != "Sum" || q.MetricStat.Unit != "Count" || *q.MetricStat.Period != 60 ||
		*q.MetricStat.Metric.Dimensions[1].Name != "B" || *q.MetricStat.Metric.Dimensions[1].Value != "2" || *q.AccountId != "123" || q.Expression != nil ||
		stat.ScanBy != cwtypes.ScanByTimestampDescending || stat.EndTime.Sub(*stat.StartTime) != 2*time.Minute {
		t.Errorf("metric query %+v", stat)
	}
	expr := cloudWatchInput(&meta.AWSCloudWatchMetadata{Expression: "SUM(METRICS())", MetricStatPeriod: 300, MetricCollectionTime: 300}, now)
	if q := expr.MetricDataQueries[0]; *q.Id != "q1" || *q.Expression != "SUM(METRICS())" || *q.Period != 300 || q.MetricStat != nil || q.AccountId != nil {
		t.Errorf("expression query %+v", q)
	}
}

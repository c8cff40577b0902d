package scalers

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/kedactl/kedactl/scalers/meta"
)

// FuzzAWSCloudWatchResponse: GetMetricData's answers in AWS JSON 1.1, see fuzzAWSAnswers (a
// metric's value may be negative).
func FuzzAWSCloudWatchResponse(f *testing.F) {
	seeds := []fuzzAnswer{
		{200, `{"MetricDataResults":[{"Id":"c1","Timestamps":[1700000000],"Values":[2.5],"StatusCode":"Complete"}]}`},
		{200, `{"MetricDataResults":[{"Id":"c1","Values":[]}]}`},
		{200, `{"MetricDataResults":[{"Id":"c1","Values":[1e308, -1e308]}]}`},
		{200, `{"MetricDataResults":[{"Id":"c1","Values":["NaN"]}]}`},
		{200, `{"MetricDataResults":null}`},
		{200, `{}`},
		{200, `not json`},
		{400, `{"__type":"InvalidParameterValueException","message":"bad period"}`},
		{403, `{"__type":"InvalidClientTokenId","message":"The security token included in the request is invalid."}`},
		{500, strings.Repeat("x", 5000)},
	}
	fuzzAWSAnswers(f, seeds, "application/x-amz-json-1.1", false, func(cfg *Config, awsCfg aws.Config, auth meta.AWSAuth) Scaler {
		cfg.TriggerType = "aws-cloudwatch"
		m := meta.AWSCloudWatchMetadata{Namespace: "n", MetricName: "m", DimensionName: []string{"d"}, DimensionValue: []string{"v"}, MetricStat: "Average",
			MetricStatPeriod: 60, MetricCollectionTime: 300, MinMetricValue: 0, IgnoreNullValues: true, TargetMetricValue: 1, AWSAuth: auth}
		return &awsCloudWatchScaler{cfg: cfg, client: newCloudWatchClient(awsCfg), release: func() {}, metricName: "s0-fuzz", meta: m, now: time.Now}
	})
}

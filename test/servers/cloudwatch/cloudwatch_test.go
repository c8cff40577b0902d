package cloudwatch

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestGetMetricDataConventions: the fake refuses what CloudWatch documents it refuses (an
// unsigned request, another protocol or action, StartTime not before EndTime, an Id not
// starting with a lowercase letter, both or neither of MetricStat and Expression, a period
// that is neither 1, 5, 10, 30 nor a multiple of 60) with the query-compatible error shape, and
// computes each period's statistic newest first, leaving out empty periods. The signed JSON
// requests themselves are exercised by TestAWSCloudWatchScalerContract.
func TestGetMetricDataConventions(t *testing.T) {
	s := Start(t, Options{AccessKeyID: "AKID", SecretAccessKey: "secret"})
	dims := []Dimension{{"QueueName", "orders"}}
	base := time.Unix(1_700_000_000, 0).Truncate(time.Minute)
	for i, v := range []float64{1, 3, 10, 20} {
		s.Put("AWS/SQS", "Depth", dims, base.Add(time.Duration(i)*30*time.Second), v)
	}
	query := func(stat string, period int) GetMetricDataInput {
		q := Query{Id: "c1", MetricStat: &MetricStat{Period: period, Stat: stat}}
		q.MetricStat.Metric.Namespace, q.MetricStat.Metric.MetricName = "AWS/SQS", "Depth"
		q.MetricStat.Metric.Dimensions = []Dimension{{"QueueName", "orders"}}
		return GetMetricDataInput{StartTime: float64(base.Unix()), EndTime: float64(base.Add(3 * time.Minute).Unix()), ScanBy: "TimestampDescending", MetricDataQueries: []Query{q}}
	}
	get := func(in GetMetricDataInput) (result, int, http.Header) {
		t.Helper()
		out, apiErr := s.getMetricData(&in)
		if apiErr != nil {
			w := httptest.NewRecorder()
			s.fail(w, *apiErr)
			return result{}, w.Code, w.Header()
		}
		return out["MetricDataResults"].([]result)[0], 200, nil
	}
	r, status, _ := get(query("Average", 60))
	if status != 200 || len(r.Values) != 2 || r.Values[0] != 15 || r.Values[1] != 2 || r.Timestamps[0] != float64(base.Add(time.Minute).Unix()) {
		t.Fatalf("averages %+v (%d), want [15 2] newest first", r, status)
	}
	if r, _, _ := get(query("Maximum", 120)); len(r.Values) != 1 || r.Values[0] != 20 {
		t.Fatalf("maximum %+v", r)
	}
	for _, tt := range []struct {
		name   string
		change func(*GetMetricDataInput)
		code   string
	}{
		{"start not before end", func(in *GetMetricDataInput) { in.EndTime = in.StartTime }, "InvalidParameterCombination;Sender"},
		{"an Id in capitals", func(in *GetMetricDataInput) { in.MetricDataQueries[0].Id = "C1" }, "InvalidParameterValue;Sender"},
		{"both stat and expression", func(in *GetMetricDataInput) { in.MetricDataQueries[0].Expression = "SUM(m)" }, "InvalidParameterCombination;Sender"},
		{"a period of 45 s", func(in *GetMetricDataInput) { in.MetricDataQueries[0].MetricStat.Period = 45 }, "InvalidParameterValue;Sender"},
		{"an unknown statistic", func(in *GetMetricDataInput) { in.MetricDataQueries[0].MetricStat.Stat = "Median" }, "InvalidParameterValue;Sender"},
	} {
		in := query("Average", 60)
		tt.change(&in)
		if _, status, h := get(in); status != 400 || h.Get("x-amzn-query-error") != tt.code {
			t.Errorf("%s: %d %v, want 400 %s", tt.name, status, h, tt.code)
		}
	}

	// Over HTTP: an unsigned request is refused as CloudWatch refuses it.
	resp, err := http.Post(s.URL, "application/x-amz-json-1.1", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("x-amzn-query-error") != "MissingAuthenticationToken;Sender" {
		t.Fatalf("unsigned: %d %v", resp.StatusCode, resp.Header)
	}
}

package scalers

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

// metricsAPIFuzzFormats are the formats a fuzz byte picks from.
var metricsAPIFuzzFormats = []string{meta.MetricsAPIFormatJSON, meta.MetricsAPIFormatYAML, meta.MetricsAPIFormatXML, meta.MetricsAPIFormatPrometheus}

// FuzzMetricsAPIResponse feeds arbitrary answers, in each format, to metricsAPIValue and,
// served on 127.0.0.1, to a metrics-api trigger's poll: both read the same value or fail the
// same way, the value is a finite number, and no answer panics.
func FuzzMetricsAPIResponse(f *testing.F) {
	seeds := []struct {
		format   int
		location string
		body     string
	}{
		{0, "components.worker.tasks", `{"components":{"worker":{"tasks":32}}}`},
		{0, "components.0.tasks", `{"components":[{"id":"82328e93e","tasks":"12","mem":"10Mi"}],"count":2.43}`},
		{0, "count", `{"count":1e400}`},
		{0, "count", `{"count":-1.7976931348623157e308}`},
		{0, "count", `{"count":9223372036854775807}`},
		{0, "count", `{"count":"NaN"}`},
		{0, "count", `{"count":"1e18"}`},
		{0, "items.#(name==\"a\").value", `{"items":[{"name":"a","value":[[[[1]]]]}]}`},
		{0, "a", `null`},
		{0, "a", ``},
		{0, "a", `[{"a":1},{"a":2}]`},
		{0, "@this", `3`},
		{1, "components.0.tasks", "components:\n  - id: 82328e93e\n    tasks: 32\n    str: '64'\ncount: 2.43\n"},
		{1, "a.b", "a: &x {b: *x}\n"},
		{1, "a", "a: .nan\n"},
		{1, "a", "a: 99999999999999999999999999\n"},
		{1, "a.0", "a: [[1, 2], {b: c}]\n"},
		{2, "stats.components.worker.tasks", `<?xml version="1.0"?><stats><components><worker><tasks>12</tasks><mem>1Ki</mem></worker></components></stats>`},
		{2, "a.b.1", `<a><b>1</b><b>2</b><b><c/></b></a>`},
		{2, "a.b", `<a><b>NaN</b></a>`},
		{2, "a", `<a><!-- x --><![CDATA[7]]></a>`},
		{2, "a", `<a>`},
		{3, `queue_size{queue="jobs"}`, "# HELP queue_size Jobs waiting.\n# TYPE queue_size gauge\nqueue_size{queue=\"jobs\"} 42\nqueue_size{queue=\"other\"} 3\n"},
		{3, "requests_total", "# TYPE requests_total counter\nrequests_total 1.5e3 1700000000000\n"},
		{3, "h", "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 3\n"},
		{3, "x", "x NaN\n"},
		{3, "x", "x +Inf\r\n"},
		{3, "x", "x{a=\"\\\"\"} 1"},
	}
	for _, s := range seeds {
		f.Add([]byte(s.body), uint8(s.format), s.location)
	}
	srv := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte, format uint8, location string) {
		fm := metricsAPIFuzzFormats[int(format)%len(metricsAPIFuzzFormats)]
		s, err := New(context.Background(), &Config{TriggerType: "metrics-api", TriggerIndex: 2, Timeout: fuzzPollTimeout,
			TriggerMetadata: map[string]string{"url": srv.URL + "/api/v1/stats", "format": fm, "valueLocation": location, "targetValue": "5", "activationTargetValue": "1"}})
		if err != nil {
			return // the location is refused before any poll
		}
		defer s.Close(context.Background())
		m := s.(*metricsAPIScaler)

		want, wantErr := metricsAPIValue(body, fm, m.meta.ValueLocation, m.meta.Selector)
		again, againErr := metricsAPIValue(body, fm, m.meta.ValueLocation, m.meta.Selector)
		if errText(againErr) != errText(wantErr) || (wantErr == nil && again != want && !math.IsNaN(want)) {
			t.Fatalf("reading the answer twice gave %g, %v then %g, %v", want, wantErr, again, againErr)
		}
		if wantErr == nil && (math.IsNaN(want) || math.IsInf(want, 0)) {
			t.Fatalf("read %g from the answer", want)
		}

		srv.serve(200, body, nil)
		start := time.Now()
		vals, active, err := poll(t, s, "s2-metric-api-x")
		if time.Since(start) > fuzzPollTimeout/2 {
			t.Fatalf("slow poll")
		}
		if wantErr != nil {
			if err == nil {
				t.Fatalf("metricsAPIValue failed (%v), the poll did not", wantErr)
			}
			checkErr(t, err, "trigger 2 (metrics-api)", wantErr.Error())
			return
		}
		if err != nil {
			t.Fatalf("metricsAPIValue read %g, the poll failed: %v", want, err)
		}
		checkPoll(t, vals, active, "s2-metric-api-x", want, 1)
	})
}

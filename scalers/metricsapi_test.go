package scalers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseMetricsAPIMetadata(t *testing.T) {
	base := func(extra ...string) map[string]string {
		m := map[string]string{"url": "http://api:3232/api/v1/stats", "valueLocation": "components.worker.tasks", "targetValue": "8.8"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	tests := []parseCase[meta.MetricsAPIMetadata]{
		{name: "defaults", meta: base(), check: func(t *testing.T, m *meta.MetricsAPIMetadata) {
			if m.Format != "json" || m.ActivationTargetValue != 0 || m.TargetValue != 8.8 || m.UnsafeSsl || m.AggregationType != "average" || m.Method != "header" {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "prometheus selector", meta: base("format", "prometheus", "valueLocation", `queue_size{queue="jobs", instance='a\'b'}`), check: func(t *testing.T, m *meta.MetricsAPIMetadata) {
			if m.Selector.Name != "queue_size" || len(m.Selector.Labels) != 2 || m.Selector.Labels[1] != [2]string{"instance", "a'b"} {
				t.Errorf("selector %+v", m.Selector)
			}
		}},
		{name: "apiKey through a TriggerAuthentication", meta: base("authMode", "apiKey", "method", "query", "keyParamName", "QUERY_KEY"), auth: map[string]string{"apiKey": "k"},
			check: func(t *testing.T, m *meta.MetricsAPIMetadata) {
				if !m.Auth.Has(meta.AuthModeAPIKey) || !m.Auth.APIKeyInQuery || m.Auth.KeyParamName != "QUERY_KEY" || m.Auth.APIKey != "k" {
					t.Errorf("auth %+v", m.Auth)
				}
			}},
		{name: "missing targetValue", meta: map[string]string{"url": "http://a", "valueLocation": "v"}, wantErr: []string{"trigger 0 (metrics-api)", "metadata.targetValue", "is missing"}},
		{name: "missing url", meta: map[string]string{"valueLocation": "v", "targetValue": "1"}, wantErr: []string{"metadata.url", "is required"}},
		{name: "missing valueLocation", meta: map[string]string{"url": "http://a", "targetValue": "1"}, wantErr: []string{"metadata.valueLocation", "is required"}},
		{name: "url without scheme", meta: base("url", "api:3232/stats"), wantErr: []string{"metadata.url", "not an http(s) URL"}},
		{name: "unknown format", meta: base("format", "csv"), wantErr: []string{"metadata.format", `"csv"`, "prometheus, json, xml, yaml"}},
		{name: "bad method", meta: base("method", "cookie"), wantErr: []string{"metadata.method", "header, query"}},
		{name: "aggregation from a Service", meta: base("aggregateFromKubeServiceEndpoints", "true"), wantErr: []string{"aggregateFromKubeServiceEndpoints", "not supported by kedactl", "point metadata.url"}},
		{name: "bad selector", meta: base("format", "prometheus", "valueLocation", "backend_queue_size{invalid=test}"), wantErr: []string{"metadata.valueLocation", "not a metric selector", "not quoted"}},
		{name: "regex selector", meta: base("format", "prometheus", "valueLocation", `q{a=~"x"}`), wantErr: []string{"only = matchers"}},
		{name: "apiKey without key", meta: base("authMode", "apiKey"), wantErr: []string{"apiKey", "is required for authModes apiKey"}},
		{name: "offline: credentials may come later", meta: base("authMode", "basic"), offline: true, check: func(*testing.T, *meta.MetricsAPIMetadata) {}},
	}
	runParseCases(t, "metrics-api", tests)
}

// TestMetricsAPIMetricName: s<index>-metric-api-<valueLocation>, normalized as KEDA does.
func TestMetricsAPIMetricName(t *testing.T) {
	for loc, want := range map[string]string{
		"metric-test":                  "s1-metric-api-metric-test",
		"components.worker.tasks":      "s1-metric-api-components-worker-tasks",
		`queue_size{queue="jobs"}`:     "s1-metric-api-queue_size-queue=-jobs--",
		"items.#(name==\"a\").value":   "s1-metric-api-items---name==-a---value",
		"stats/avg:load (1m) 50% $x@y": "s1-metric-api-stats-avg-load--1m--50---x-y",
	} {
		s, err := New(t.Context(), &Config{TriggerType: "metrics-api", TriggerIndex: 1, Timeout: time.Second,
			TriggerMetadata: map[string]string{"url": "http://127.0.0.1:1", "valueLocation": loc, "targetValue": "7"}})
		if err != nil {
			t.Fatal(err)
		}
		specs := s.GetMetricSpecForScaling(t.Context())
		if got := specs[0].External.Metric.Name; got != want {
			t.Errorf("valueLocation %q: metric %q, want %q", loc, got, want)
		}
		if specs[0].External.Target.AverageValue.Value() != 7 {
			t.Errorf("target %v", specs[0].External.Target)
		}
		_ = s.Close(t.Context())
	}
}

func TestMetricsAPIValue(t *testing.T) {
	jsonDoc := `{"components":[{"id":"82328e93e","tasks":32,"str":"64","k":"1k","wrong":"NaN","mem":"10Mi","flag":true,"obj":{}}],"count":2.43,"nothing":null}`
	yamlDoc := "components:\n  - id: 82328e93e\n    tasks: 32\n    str: '64'\n    k: 1k\n    wrong: NaN\ncount: 2.43\n"
	xmlDoc := `<?xml version="1.0"?><stats><components><worker><tasks>12</tasks><mem>1Ki</mem></worker></components>` +
		`<queue><len>1</len></queue><queue><len>2</len></queue><note>busy</note></stats>`
	promDoc := "# HELP backend_queue_size Items\n# TYPE backend_queue_size gauge\n" +
		"backend_queue_size{queueName=\"zero\"} 0\nbackend_queue_size{queueName=\"one\"} 1\n" +
		"backend_queue_size{queueName=\"two\",instance=\"random\"} 2\nbackend_queue_size{queueName=\"two\",instance=\"zero\"} 20\n" +
		"# TYPE done_total counter\ndone_total 10\nrandom_metric 10.5\n# TYPE latency summary\nlatency{quantile=\"0.5\"} 1\nlatency_sum 3\nlatency_count 2"
	tests := []struct {
		format, doc, loc string
		want             float64
		wantErr          []string
	}{
		{"json", jsonDoc, "count", 2.43, nil},
		{"json", jsonDoc, "components.0.tasks", 32, nil},
		{"json", jsonDoc, "components.0.str", 64, nil},
		{"json", jsonDoc, "components.0.k", 1000, nil},
		{"json", jsonDoc, "components.0.mem", 10 * 1024 * 1024, nil},
		{"json", jsonDoc, "components.#", 1, nil},
		{"json", jsonDoc, `components.#(id=="82328e93e").tasks`, 32, nil},
		{"json", jsonDoc, "components.0.wrong", 0, []string{`holds "NaN", which is neither a number nor a quantity`}},
		{"json", jsonDoc, "components.0.flag", 0, []string{"is a boolean, not a number"}},
		{"json", jsonDoc, "components.0.obj", 0, []string{"is an object or array"}},
		{"json", jsonDoc, "nothing", 0, []string{"is null"}},
		{"json", jsonDoc, "components.1.tasks", 0, []string{"matches nothing"}},
		{"json", "<xml/>", "count", 0, []string{"the answer is not JSON", "metadata.format"}},
		{"yaml", yamlDoc, "count", 2.43, nil},
		{"yaml", yamlDoc, "components.0.tasks", 32, nil},
		{"yaml", yamlDoc, "components.0.str", 64, nil},
		{"yaml", yamlDoc, "components.0.k", 1000, nil},
		{"yaml", yamlDoc, "components.0.wrong", 0, []string{`"NaN"`}},
		{"yaml", yamlDoc, "components.1.tasks", 0, []string{`"components" is a list of 1, and "1" is not an index`}},
		{"yaml", yamlDoc, "components.0.nope", 0, []string{`"0" has no "nope" (it has "id", "k", "str", "tasks", "wrong")`}},
		{"yaml", yamlDoc, "components", 0, []string{"is a list of 1, not a number"}},
		{"yaml", "a: [unclosed", "a", 0, []string{"the answer is not YAML"}},
		{"xml", xmlDoc, "stats.components.worker.tasks", 12, nil},
		{"xml", xmlDoc, "stats.components.worker.mem", 1024, nil},
		{"xml", xmlDoc, "stats.queue.1.len", 2, nil},
		{"xml", xmlDoc, "stats.components.0.worker.tasks", 12, nil},
		{"xml", xmlDoc, "stats.note", 0, []string{`holds "busy"`}},
		{"xml", xmlDoc, "components.worker.tasks", 0, []string{`the document has no "components" (it has "stats")`}},
		{"xml", "<stats><open></stats>", "stats", 0, []string{"the answer is not XML"}},
		{"prometheus", promDoc, "random_metric", 10.5, nil},
		{"prometheus", promDoc, "done_total", 10, nil},
		{"prometheus", promDoc, `backend_queue_size{queueName="one"}`, 1, nil},
		{"prometheus", promDoc, `backend_queue_size{queueName="two"}`, 2, nil},
		{"prometheus", promDoc, `backend_queue_size{queueName="two", instance="zero"}`, 20, nil},
		{"prometheus", promDoc, `{__name__="backend_queue_size", queueName="zero"}`, 0, nil},
		{"prometheus", promDoc, `backend_queue_size{queueName="three"}`, 0, []string{"no sample of backend_queue_size has those label values"}},
		{"prometheus", promDoc, `queue_size`, 0, []string{"the answer has no metric queue_size (it has"}},
		{"prometheus", promDoc, `latency`, 0, []string{"latency is a summary: point at a gauge, counter or untyped metric"}},
		{"prometheus", "not { prometheus", "x", 0, []string{"not in the Prometheus text format"}},
	}
	for _, tt := range tests {
		t.Run(tt.format+" "+tt.loc, func(t *testing.T) {
			var sel *meta.PromSelector
			if tt.format == "prometheus" {
				var err error
				if sel, err = meta.ParsePromSelector(tt.loc); err != nil {
					t.Fatal(err)
				}
			}
			got, err := metricsAPIValue([]byte(tt.doc), tt.format, tt.loc, sel)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("got %g, want an error mentioning %q", got, tt.wantErr)
				}
				for _, w := range append(tt.wantErr, "metadata.") {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %g, %v; want %g", got, err, tt.want)
			}
		})
	}
}

// TestMetricsAPIScaler: a poll GETs url and compares the value with activationTargetValue.
func TestMetricsAPIScaler(t *testing.T) {
	value := "3"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"queue":{"len":%s}}`, value)
	}))
	defer srv.Close()
	s, err := New(t.Context(), &Config{TriggerType: "metrics-api", Timeout: time.Second, TriggerMetadata: map[string]string{
		"url": srv.URL, "valueLocation": "queue.len", "targetValue": "2", "activationTargetValue": "3"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(t.Context())
	for _, step := range []struct {
		value  string
		milli  int64
		active bool
	}{{"3", 3000, false}, {"3.5", 3500, true}, {"0", 0, false}} {
		value = step.value
		vals, active, err := s.GetMetricsAndActivity(t.Context(), "s0-metric-api-queue-len")
		if err != nil {
			t.Fatal(err)
		}
		if vals[0].Value.MilliValue() != step.milli || active != step.active {
			t.Errorf("value %s: got %dm active %v", step.value, vals[0].Value.MilliValue(), active)
		}
	}
	value = `"lots"`
	_, _, err = s.GetMetricsAndActivity(t.Context(), "s0-metric-api-queue-len")
	if err == nil || !strings.Contains(err.Error(), "trigger 0 (metrics-api): GET "+srv.URL) || !strings.Contains(err.Error(), `valueLocation "queue.len": holds "lots"`) {
		t.Errorf("error %v", err)
	}
}

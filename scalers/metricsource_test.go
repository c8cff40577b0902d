package scalers

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

type noPods struct{}

func (noPods) ListPods(context.Context, string, labels.Selector) ([]corev1.Pod, error) {
	return nil, nil
}

// TestTargetsOptionalAsMetricSource: under scalingModifiers, the scalers whose target KEDA makes
// optional accept it missing (and build a metric the HPA never sees: the composite replaces it);
// without scalingModifiers, and for the scalers KEDA does not relax, the target stays required.
func TestTargetsOptionalAsMetricSource(t *testing.T) {
	for _, tt := range []struct {
		typ     string
		meta    map[string]string
		param   string // the target parameter
		relaxed bool   // KEDA makes it optional as a metric source
	}{
		{typ: "metrics-api", meta: map[string]string{"url": "http://127.0.0.1:1/v", "valueLocation": "v"}, param: "targetValue", relaxed: true},
		{typ: "postgresql", meta: map[string]string{"query": "select 1", "host": "127.0.0.1", "port": "5432", "userName": "u", "dbName": "d", "sslmode": "disable", "passwordFromEnv": "PW"}, param: "targetQueryValue", relaxed: true},
		{typ: "kubernetes-workload", meta: map[string]string{"podSelector": "app=worker"}, param: "value", relaxed: true},
		// KEDA still requires loki's threshold as a metric source (it only zeroes its value).
		{typ: "loki", meta: map[string]string{"serverAddress": "http://127.0.0.1:1", "query": "sum(x)"}, param: "threshold"},
		// new-relic's threshold too: KEDA zeroes it as a metric source but still requires it.
		{typ: "new-relic", meta: map[string]string{"account": "1", "queryKey": "k", "nrql": "SELECT count(*) FROM Transaction"}, param: "threshold"},
		{typ: "mysql", meta: map[string]string{"query": "select 1", "host": "127.0.0.1", "port": "3306", "username": "u", "dbName": "d", "passwordFromEnv": "PW"}, param: "queryValue"},
	} {
		for _, asSource := range []bool{false, true} {
			cfg := &Config{TriggerType: tt.typ, TriggerMetadata: tt.meta, ResolvedEnv: map[string]string{"PW": "secret"}, AsMetricSource: asSource, Pods: noPods{}}
			err := ValidateTrigger(cfg)
			if asSource && tt.relaxed {
				if err != nil {
					t.Errorf("%s as a metric source without %s: %v", tt.typ, tt.param, err)
					continue
				}
				s, err := New(context.Background(), cfg)
				if err != nil {
					t.Errorf("%s as a metric source without %s: building: %v", tt.typ, tt.param, err)
					continue
				}
				if specs := s.GetMetricSpecForScaling(context.Background()); len(specs) != 1 {
					t.Errorf("%s as a metric source: %d metric specs, want 1", tt.typ, len(specs))
				}
				_ = s.Close(context.Background())
				continue
			}
			if err == nil || !strings.Contains(err.Error(), tt.param) {
				t.Errorf("%s without %s (metric source %v): error %v, want one naming %s", tt.typ, tt.param, asSource, err, tt.param)
			}
		}
	}
}

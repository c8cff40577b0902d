package modifiers_test

import (
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/internal/modifiers"
)

func spec(sm kedav1alpha1.ScalingModifiers, names ...string) *kedav1alpha1.ScaledObjectSpec {
	s := &kedav1alpha1.ScaledObjectSpec{Advanced: &kedav1alpha1.AdvancedConfig{ScalingModifiers: sm}}
	for _, n := range names {
		s.Triggers = append(s.Triggers, kedav1alpha1.ScaleTriggers{Type: "redis", Name: n})
	}
	return s
}

func TestCompile(t *testing.T) {
	cases := []struct {
		name    string
		sm      kedav1alpha1.ScalingModifiers
		wantErr []string
		names   []string
	}{
		{"sum", kedav1alpha1.ScalingModifiers{Formula: "a + b", Target: "2"}, nil, []string{"a", "b"}},
		{"conditional", kedav1alpha1.ScalingModifiers{Formula: "a > 5 ? a : b * 2", Target: "1.5", ActivationTarget: "1", MetricType: "Value"}, nil, []string{"a", "b"}},
		{"none", kedav1alpha1.ScalingModifiers{}, nil, nil},
		{"target without formula", kedav1alpha1.ScalingModifiers{Target: "2"}, []string{"spec.advanced.scalingModifiers.formula", "Required"}, nil},
		{"unknown trigger", kedav1alpha1.ScalingModifiers{Formula: "a + c", Target: "2"}, []string{"spec.advanced.scalingModifiers.formula", "names c, which no trigger is called", "[a, b]"}, nil},
		{"syntax", kedav1alpha1.ScalingModifiers{Formula: "a +", Target: "2"}, []string{"does not compile"}, nil},
		{"not a number", kedav1alpha1.ScalingModifiers{Formula: "a > b", Target: "2"}, []string{"does not compile"}, nil},
		{"missing target", kedav1alpha1.ScalingModifiers{Formula: "a"}, []string{"spec.advanced.scalingModifiers.target", "Required"}, nil},
		{"bad target", kedav1alpha1.ScalingModifiers{Formula: "a", Target: "-1"}, []string{"spec.advanced.scalingModifiers.target", "above 0"}, nil},
		{"bad activation", kedav1alpha1.ScalingModifiers{Formula: "a", Target: "1", ActivationTarget: "x"}, []string{"activationTarget"}, nil},
		{"bad metric type", kedav1alpha1.ScalingModifiers{Formula: "a", Target: "1", MetricType: "Utilization"}, []string{"metricType", "Unsupported value"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, errs := modifiers.Compile(spec(tc.sm, "a", "b"))
			if len(tc.wantErr) == 0 {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				if tc.names == nil {
					if c != nil {
						t.Fatal("a ScaledObject without a formula has no composite")
					}
					return
				}
				if strings.Join(c.Names, ",") != strings.Join(tc.names, ",") {
					t.Errorf("names = %v, want %v", c.Names, tc.names)
				}
				return
			}
			msg := errs.ToAggregate().Error()
			for _, w := range tc.wantErr {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestEvaluateAndMetricSpec(t *testing.T) {
	c, errs := modifiers.Compile(spec(kedav1alpha1.ScalingModifiers{Formula: "(a + b) / 2", Target: "4", ActivationTarget: "3"}, "a", "b"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	cases := []struct {
		values map[string]float64
		want   float64
		active bool
		err    string
	}{
		{map[string]float64{"a": 2, "b": 4}, 3, false, ""},
		{map[string]float64{"a": 10, "b": 4}, 7, true, ""},
		{map[string]float64{"a": 1}, 0, false, `trigger "b" has no value yet`},
	}
	for _, tc := range cases {
		got, err := c.Evaluate(tc.values)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Evaluate(%v) error = %v, want %q", tc.values, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want || c.Active(got) != tc.active {
			t.Errorf("Evaluate(%v) = %v, %v (active %v), want %v (active %v)", tc.values, got, err, c.Active(got), tc.want, tc.active)
		}
	}
	ms := c.MetricSpec()
	if ms.External == nil || ms.External.Metric.Name != modifiers.MetricName || ms.External.Target.Type != autoscalingv2.AverageValueMetricType || ms.External.Target.AverageValue.String() != "4" {
		t.Errorf("metric spec = %+v", ms.External)
	}
	if _, errs := modifiers.Compile(spec(kedav1alpha1.ScalingModifiers{Formula: "1 / a", Target: "1"}, "a")); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// TestEvaluateWithNil: under the scalingModifiers fallback behavior a trigger past its threshold
// enters the formula as nil, as in KEDA: ?? moves on to the next alternative, a formula that
// gives nil says so (the fallback replicas are served), and one that cannot take nil fails.
func TestEvaluateWithNil(t *testing.T) {
	values := map[string]float64{"primary": 16, "secondary": 12}
	for _, tc := range []struct {
		formula string
		missing []string
		want    float64
		null    bool
		err     string
	}{
		{formula: "primary ?? secondary ?? 8", want: 16},
		{formula: "primary ?? secondary ?? 8", missing: []string{"primary"}, want: 12},
		{formula: "primary ?? secondary ?? 8", missing: []string{"primary", "secondary"}, want: 8},
		{formula: "primary ?? secondary", missing: []string{"primary", "secondary"}, null: true},
		{formula: "(primary ?? 0) + secondary", missing: []string{"primary"}, want: 12},
		{formula: "primary > 10 ? 1 : 0", want: 1},
		{formula: "primary + secondary", missing: []string{"secondary"}, err: "failing triggers secondary read as nil (use ?? to replace them)"},
	} {
		t.Run(tc.formula+" without "+strings.Join(tc.missing, ","), func(t *testing.T) {
			c, errs := modifiers.Compile(spec(kedav1alpha1.ScalingModifiers{Formula: tc.formula, Target: "2"}, "primary", "secondary"))
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			missing := map[string]bool{}
			for _, m := range tc.missing {
				missing[m] = true
			}
			got, null, err := c.EvaluateWithNil(values, missing)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want || null != tc.null {
				t.Errorf("EvaluateWithNil = %v null %v (%v), want %v null %v", got, null, err, tc.want, tc.null)
			}
		})
	}
}

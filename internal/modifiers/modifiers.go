// Package modifiers is KEDA's advanced.scalingModifiers: a formula over the triggers' values (by
// trigger name, github.com/expr-lang/expr syntax) that replaces them with one composite metric, with
// its own target, activation target and metric type. The webhook and `kubectl keda check` compile it
// to validate; the controller puts the composite metric in the HPA; the metrics server and the
// activation decision evaluate it over the engine's latest values.
package modifiers

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// MetricName is the composite metric's name in the HPA and the external metrics API, as KEDA names it.
const MetricName = "composite-metric"

// Composite is a compiled scalingModifiers.
type Composite struct {
	program *vm.Program
	// nullable is the formula compiled to take nil for a trigger (the scalingModifiers fallback
	// behavior) and to give nil, which the ?? operator allows.
	nullable *vm.Program
	// Names are the trigger names the formula reads.
	Names            []string
	Target           float64
	ActivationTarget float64
	MetricType       autoscalingv2.MetricTargetType
}

// Enabled reports whether the ScaledObject uses scaling modifiers.
func Enabled(spec *kedav1alpha1.ScaledObjectSpec) bool {
	return spec.UsesScalingModifiers()
}

// Compile validates and compiles spec.advanced.scalingModifiers; nil, nil when there is none.
func Compile(spec *kedav1alpha1.ScaledObjectSpec) (*Composite, field.ErrorList) {
	if spec.Advanced == nil {
		return nil, nil
	}
	sm := spec.Advanced.ScalingModifiers
	p := field.NewPath("spec", "advanced", "scalingModifiers")
	if sm.Formula == "" {
		if sm.Target != "" || sm.ActivationTarget != "" || sm.MetricType != "" {
			return nil, field.ErrorList{field.Required(p.Child("formula"), "set a formula over the trigger names, e.g. (queue1 + queue2) / 2, or remove scalingModifiers")}
		}
		return nil, nil
	}
	var errs field.ErrorList
	c := &Composite{MetricType: sm.MetricType}
	if c.MetricType == "" {
		c.MetricType = autoscalingv2.AverageValueMetricType
	}
	if c.MetricType != autoscalingv2.AverageValueMetricType && c.MetricType != autoscalingv2.ValueMetricType {
		errs = append(errs, field.NotSupported(p.Child("metricType"), sm.MetricType, []string{"AverageValue", "Value"}))
	}
	if sm.Target == "" {
		errs = append(errs, field.Required(p.Child("target"), "set the value of the formula per replica (AverageValue) or in total (Value) that the HPA keeps, e.g. \"2\""))
	} else if v, err := strconv.ParseFloat(sm.Target, 64); err != nil || v <= 0 || math.IsInf(v, 0) {
		errs = append(errs, field.Invalid(p.Child("target"), sm.Target, "must be a number above 0"))
	} else {
		c.Target = v
	}
	if sm.ActivationTarget != "" {
		if v, err := strconv.ParseFloat(sm.ActivationTarget, 64); err != nil || v < 0 || math.IsInf(v, 0) {
			errs = append(errs, field.Invalid(p.Child("activationTarget"), sm.ActivationTarget, "must be a number, 0 or above"))
		} else {
			c.ActivationTarget = v
		}
	}
	names := map[string]bool{}
	for _, t := range spec.Triggers {
		// cpu and memory are Resource metrics the HPA reads itself: they have no value here.
		if t.Name != "" && t.Type != "cpu" && t.Type != "memory" {
			names[t.Name] = true
		}
	}
	env := map[string]float64{}
	for n := range names {
		env[n] = 0
	}
	tree, err := expr.Compile(sm.Formula, expr.Env(env), expr.AsFloat64())
	if err != nil {
		// Name the unknown identifiers first: the usual mistake is a trigger without that name.
		var unknown []string
		if parsed, perr := expr.Compile(sm.Formula, expr.AllowUndefinedVariables()); perr == nil {
			for _, id := range identifiers(parsed.Node()) {
				if !names[id] {
					unknown = append(unknown, id)
				}
			}
		}
		if len(unknown) > 0 {
			errs = append(errs, field.Invalid(p.Child("formula"), sm.Formula, fmt.Sprintf("names %s, which no trigger is called: give the triggers those names (spec.triggers[].name), or use one of [%s]",
				strings.Join(unknown, ", "), strings.Join(slices.Sorted(maps.Keys(names)), ", "))))
		} else {
			errs = append(errs, field.Invalid(p.Child("formula"), sm.Formula, "does not compile to a number: "+firstLine(err.Error())))
		}
		return nil, errs
	}
	if len(errs) > 0 {
		return nil, errs
	}
	anyEnv := make(map[string]any, len(env))
	for n := range env {
		anyEnv[n] = 0.0
	}
	nullable, err := expr.Compile(sm.Formula, expr.Env(anyEnv))
	if err != nil {
		return nil, field.ErrorList{field.Invalid(p.Child("formula"), sm.Formula, "does not compile: "+firstLine(err.Error()))}
	}
	c.nullable = nullable
	c.program = tree
	c.Names = identifiers(tree.Node())
	return c, nil
}

// identifiers lists the variable names a formula reads, sorted and unique.
func identifiers(node ast.Node) []string {
	v := &collector{}
	ast.Walk(&node, v)
	slices.Sort(v.names)
	return slices.Compact(v.names)
}

type collector struct{ names []string }

func (c *collector) Visit(node *ast.Node) {
	if id, ok := (*node).(*ast.IdentifierNode); ok {
		c.names = append(c.names, id.Value)
	}
}

// Evaluate computes the formula over the triggers' values by name.
func (c *Composite) Evaluate(values map[string]float64) (float64, error) {
	env := make(map[string]float64, len(c.Names))
	for _, n := range c.Names {
		v, ok := values[n]
		if !ok {
			return 0, fmt.Errorf("scalingModifiers formula: trigger %q has no value yet", n)
		}
		env[n] = v
	}
	out, err := expr.Run(c.program, env)
	if err != nil {
		return 0, fmt.Errorf("scalingModifiers formula failed: %w", err)
	}
	f, ok := out.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("scalingModifiers formula gave %v, not a number", out)
	}
	return f, nil
}

// EvaluateWithNil computes the formula with nil for the triggers named in missing (failing past
// the fallback's threshold under the scalingModifiers behavior), as KEDA does: `a ?? b` then reads
// b. null is true when the formula gives nil (every alternative missing); the caller serves
// the fallback replicas then.
func (c *Composite) EvaluateWithNil(values map[string]float64, missing map[string]bool) (v float64, null bool, err error) {
	env := make(map[string]any, len(c.Names))
	for _, n := range c.Names {
		if missing[n] {
			env[n] = nil
			continue
		}
		v, ok := values[n]
		if !ok {
			return 0, false, fmt.Errorf("scalingModifiers formula: trigger %q has no value yet", n)
		}
		env[n] = v
	}
	out, err := expr.Run(c.nullable, env)
	if err != nil {
		return 0, false, fmt.Errorf("scalingModifiers formula failed with failing triggers %s read as nil (use ?? to replace them): %w",
			strings.Join(slices.Sorted(maps.Keys(missing)), ", "), err)
	}
	switch o := out.(type) {
	case nil:
		return 0, true, nil
	case float64:
		v = o
	case int:
		v = float64(o)
	default:
		return 0, false, fmt.Errorf("scalingModifiers formula gave %v (%T), not a number", out, out)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, fmt.Errorf("scalingModifiers formula gave %v, not a number", v)
	}
	return v, false, nil
}

// Active reports whether the composite value is above the activation target.
func (c *Composite) Active(value float64) bool { return value > c.ActivationTarget }

// MetricSpec is the HPA metric that replaces the triggers' own.
func (c *Composite) MetricSpec() autoscalingv2.MetricSpec {
	q := resource.NewMilliQuantity(int64(c.Target*1000), resource.DecimalSI)
	t := autoscalingv2.MetricTarget{Type: c.MetricType}
	if c.MetricType == autoscalingv2.ValueMetricType {
		t.Value = q
	} else {
		t.AverageValue = q
	}
	return autoscalingv2.MetricSpec{
		Type:     autoscalingv2.ExternalMetricSourceType,
		External: &autoscalingv2.ExternalMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: MetricName}, Target: t},
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Package meta parses a trigger's metadata into a scaler's typed metadata struct, declared by struct
// tags, and checks it. It holds every scaler's metadata struct and checks (one file per scaler) and
// the registry of trigger types. It dials nothing and imports no event-source client, so that what
// only validates (kubectl keda check) does not link the scalers' drivers; package scalers reads
// the checked structs and adds what only a driver's own parser can refuse.
package meta

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// A scaler declares its parameters as a struct whose fields carry a `keda` tag:
//
//	ListName string `keda:"name=listName, order=triggerMetadata"`
//	Password string `keda:"name=password, order=authParams;resolvedEnv;triggerMetadata, optional, secret"`
//	Length   int64  `keda:"name=listLength, order=triggerMetadata, default=5"`
//
// name is KEDA's parameter name, or several separated by ; when KEDA reads the same field from any
// of them (ibmmq's queueName;queueNames), the first found winning. order lists where the value may come from, first match wins:
// triggerMetadata (spec.triggers[].metadata), resolvedEnv (metadata <name>FromEnv names an env
// var of the target's container) and authParams (a TriggerAuthentication). optional, default=,
// enum=a;b, separator=; (a list's separator when it is not a comma, as KEDA's index lists of
// several names) and secret (never echoed in errors) complete it. ParseMetadata fills the struct and
// Parameters describes it for scalers/schema.yaml, so the two cannot drift apart.

// Parameter sources, as named in tags.
const (
	SourceTriggerMetadata = "triggerMetadata"
	SourceResolvedEnv     = "resolvedEnv"
	SourceAuthParams      = "authParams"
)

// Param is one parsed `keda` tag.
type Param struct {
	Name string
	// Aliases are further names of the same parameter, looked up after Name in each source.
	Aliases  []string
	Order    []string
	Optional bool
	Default  string
	// HasDefault tells a default of "" from none.
	HasDefault bool
	Enum       []string
	// Secret parameters are never echoed in errors.
	Secret bool
	// Separator splits a list parameter; a comma when empty.
	Separator string
}

func parseTag(tag string) (Param, error) {
	var p Param
	for _, part := range strings.Split(tag, ",") {
		part = strings.TrimSpace(part)
		key, value, _ := strings.Cut(part, "=")
		switch key {
		case "name":
			names := strings.Split(value, ";")
			p.Name, p.Aliases = names[0], names[1:]
		case "order":
			p.Order = strings.Split(value, ";")
		case "optional":
			p.Optional = true
		case "default":
			p.Default, p.HasDefault = value, true
		case "enum":
			p.Enum = strings.Split(value, ";")
		case "secret":
			p.Secret = true
		case "separator":
			p.Separator = value
		case "":
		default:
			return p, fmt.Errorf("unknown keda tag option %q", key)
		}
	}
	if p.Name == "" {
		return p, fmt.Errorf("keda tag %q has no name", tag)
	}
	if len(p.Order) == 0 {
		p.Order = []string{SourceTriggerMetadata}
	}
	return p, nil
}

// Validator is implemented by metadata structs that check more than one parameter together.
type Validator interface {
	Validate() error
}

// MetricSource is embedded by the metadata of the scalers whose target KEDA makes optional when the
// trigger is a metric source of scalingModifiers (Trigger.AsMetricSource): their Validate reads
// AsMetricSource. Parse sets it before validating.
type MetricSource struct {
	asMetricSource bool
}

// AsMetricSource tells Validate that the trigger only supplies a value to scalingModifiers.
func (m *MetricSource) AsMetricSource() bool { return m.asMetricSource }

func (m *MetricSource) setAsMetricSource(v bool) { m.asMetricSource = v }

// ConfigValidator is implemented by metadata structs whose check also depends on the trigger
// itself rather than its metadata (cpu and memory read spec.triggers[].metricType). Its errors are
// returned as they are: they name their own field.
type ConfigValidator interface {
	ValidateConfig(t *Trigger) error
}

// ParamError is a parameter problem, worded to name the trigger, the parameter and the fix.
type ParamError struct {
	TriggerIndex int
	TriggerType  string
	TriggerName  string
	Param        string
	Problem      string
	Fix          string
}

func (e *ParamError) Error() string {
	who := fmt.Sprintf("trigger %d (%s", e.TriggerIndex, e.TriggerType)
	if e.TriggerName != "" {
		who += " " + strconv.Quote(e.TriggerName)
	}
	who += ")"
	msg := fmt.Sprintf("%s: spec.triggers[%d].metadata.%s %s", who, e.TriggerIndex, e.Param, e.Problem)
	if e.Fix != "" {
		msg += ": " + e.Fix
	}
	return msg
}

// Field is one keda-tagged field of a metadata struct, its tag parsed.
type Field struct {
	GoName string
	Index  []int
	Type   reflect.Type
	Param  Param
}

// Trigger is what a trigger says, the input of Parse: where it is, its metadata, and what the
// cluster resolved for it.
type Trigger struct {
	// Index is the trigger's position in spec.triggers, Name and Type its name and type.
	Index int
	Name  string
	Type  string
	// Metadata is spec.triggers[].metadata as written.
	Metadata map[string]string
	// AuthParams are parameters resolved from a TriggerAuthentication; they may hold secrets.
	AuthParams map[string]string
	// ResolvedEnv is the scale target container's environment, for the ...FromEnv parameters.
	ResolvedEnv map[string]string
	// MetricType is spec.triggers[].metricType; empty means AverageValue.
	MetricType autoscalingv2.MetricTargetType
	// AsMetricSource is set for the triggers of a ScaledObject with advanced.scalingModifiers.
	AsMetricSource bool
	// Offline is set when validating a manifest without a cluster: parameters that a
	// TriggerAuthentication or the target's env could supply are not required.
	Offline bool
	// HasAuthenticationRef tells, offline, that the trigger names a TriggerAuthentication.
	HasAuthenticationRef bool
}

// metadataFields are the keda-tagged fields of a metadata struct, its embedded structs' included, so
// that parameters several scalers share (authentication, connection) are declared once.
func metadataFields(t reflect.Type) ([]Field, error) {
	var out []Field
	for _, f := range reflect.VisibleFields(t) {
		tag, ok := f.Tag.Lookup("keda")
		if !ok {
			continue
		}
		p, err := parseTag(tag)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
		}
		out = append(out, Field{GoName: f.Name, Index: f.Index, Type: f.Type, Param: p})
	}
	return out, nil
}

// layout is metadataFields' answer for one struct type.
type layout struct {
	fields []Field
	err    error
}

// Parser parses metadata into structs whose layouts it has read once: walking a struct's fields
// and parsing its tags costs more than parsing a trigger's metadata. It is read-only once built,
// and the zero Parser reads every layout when asked.
type Parser struct {
	layouts map[reflect.Type]layout
}

// NewParser reads the layouts of the given metadata structs (values or pointers).
func NewParser(metadata ...any) *Parser {
	ps := &Parser{layouts: make(map[reflect.Type]layout, len(metadata))}
	for _, m := range metadata {
		t := structType(m)
		if _, done := ps.layouts[t]; done {
			continue
		}
		fields, err := metadataFields(t)
		ps.layouts[t] = layout{fields: fields, err: err}
	}
	return ps
}

func structType(v any) reflect.Type {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// Fields are the keda-tagged fields of struct type t.
func (ps *Parser) Fields(t reflect.Type) ([]Field, error) {
	if ps != nil {
		if l, ok := ps.layouts[t]; ok {
			return l.fields, l.err
		}
	}
	return metadataFields(t)
}

// Parse fills the tagged fields of target (a pointer to struct) from cfg, embedded structs' fields
// included, then runs target's Validate and ValidateConfig.
func (ps *Parser) Parse(cfg *Trigger, target any) error {
	v := reflect.ValueOf(target)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("Parse needs a pointer to a struct, got %T", target)
	}
	v = v.Elem()
	fields, err := ps.Fields(v.Type())
	if err != nil {
		return err
	}
	for i := range fields {
		f := &fields[i]
		p := &f.Param
		perr := func(problem, fix string) error {
			return &ParamError{TriggerIndex: cfg.Index, TriggerType: cfg.Type, TriggerName: cfg.Name, Param: p.Name, Problem: problem, Fix: fix}
		}
		raw, found, err := lookup(cfg, p)
		if err != nil {
			return perr(err.Error(), "")
		}
		if !found {
			switch {
			case p.HasDefault:
				raw = p.Default
			case p.Optional:
				continue
			case cfg.Offline && mayBeSuppliedLater(cfg, p):
				// Offline, the trigger's TriggerAuthentication or the target's env may hold it.
				continue
			default:
				return perr("is required", "set "+describeSources(p))
			}
		}
		if len(p.Enum) > 0 && !slices.Contains(p.Enum, raw) {
			shown := strconv.Quote(raw)
			if p.Secret {
				shown = "(value hidden)"
			}
			return perr("is "+shown, "must be one of "+strings.Join(p.Enum, ", "))
		}
		if err := setField(v.FieldByIndex(f.Index), raw, p.Separator); err != nil {
			shown := strconv.Quote(raw)
			if p.Secret {
				shown = "(value hidden)"
			}
			return perr(fmt.Sprintf("%s is not a valid %s", shown, typeName(f.Type)), err.Error())
		}
	}
	if ms, ok := target.(interface{ setAsMetricSource(bool) }); ok {
		ms.setAsMetricSource(cfg.AsMetricSource)
	}
	if val, ok := target.(Validator); ok {
		if err := val.Validate(); err != nil {
			var pe *ParamError
			if errors.As(err, &pe) && cfg.Offline && strings.HasPrefix(pe.Problem, "is required") {
				// Offline, a TriggerAuthentication or the target's env may supply it.
				return nil
			}
			return cfg.Identify(err)
		}
	}
	if val, ok := target.(ConfigValidator); ok {
		return val.ValidateConfig(cfg)
	}
	return nil
}

// Identify makes a metadata check's error name the trigger: a ParamError gets its index, type
// and name, another error a prefix saying which trigger it is about.
func (cfg *Trigger) Identify(err error) error {
	if err == nil {
		return nil
	}
	var pe *ParamError
	if errors.As(err, &pe) {
		pe.TriggerIndex, pe.TriggerType, pe.TriggerName = cfg.Index, cfg.Type, cfg.Name
		return pe
	}
	return fmt.Errorf("trigger %d (%s): %w", cfg.Index, cfg.Type, err)
}

// mayBeSuppliedLater tells, offline, whether a parameter missing from the metadata may still come
// from a source only a cluster has: a TriggerAuthentication the trigger names, or the env var its
// <name>FromEnv key names.
func mayBeSuppliedLater(cfg *Trigger, p *Param) bool {
	if slices.Contains(p.Order, SourceAuthParams) && cfg.HasAuthenticationRef {
		return true
	}
	if !slices.Contains(p.Order, SourceResolvedEnv) {
		return false
	}
	for _, name := range p.Names() {
		if strings.TrimSpace(cfg.Metadata[name+"FromEnv"]) != "" {
			return true
		}
	}
	return false
}

// Names are the parameter's name and its aliases.
func (p *Param) Names() []string { return append([]string{p.Name}, p.Aliases...) }

// lookup finds a parameter's raw value in the sources its tag allows, in order, trying each of
// its names in a source before the next source.
func lookup(cfg *Trigger, p *Param) (string, bool, error) {
	for _, src := range p.Order {
		for _, name := range p.Names() {
			if v, found, err := lookupIn(cfg, src, name); found || err != nil {
				return v, found, err
			}
		}
	}
	return "", false, nil
}

// lookupIn finds a parameter's raw value under name in one source.
func lookupIn(cfg *Trigger, src, name string) (string, bool, error) {
	switch src {
	case SourceTriggerMetadata:
		// A value of blanks is no value: trimmed, it would pass for a set parameter that is
		// empty (a list named "", a query of nothing).
		if v := strings.TrimSpace(cfg.Metadata[name]); v != "" {
			return v, true, nil
		}
	case SourceAuthParams:
		if v, ok := cfg.AuthParams[name]; ok && v != "" {
			return v, true, nil
		}
	case SourceResolvedEnv:
		envName, ok := cfg.Metadata[name+"FromEnv"]
		if !ok || envName == "" || cfg.Offline {
			return "", false, nil
		}
		v, ok := cfg.ResolvedEnv[envName]
		if !ok {
			return "", false, fmt.Errorf("names env var %q through %sFromEnv, but the target's container has no such variable", envName, name)
		}
		return v, true, nil
	}
	return "", false, nil
}

func describeSources(p *Param) string {
	var ways []string
	for _, src := range p.Order {
		switch src {
		case SourceTriggerMetadata:
			ways = append(ways, "metadata."+strings.Join(p.Names(), " or metadata."))
		case SourceResolvedEnv:
			ways = append(ways, "metadata."+p.Name+"FromEnv (an env var of the target's container)")
		case SourceAuthParams:
			ways = append(ways, "parameter "+p.Name+" of a TriggerAuthentication")
		}
	}
	return strings.Join(ways, " or ")
}

var durationType = reflect.TypeOf(time.Duration(0))

func setField(f reflect.Value, raw, separator string) error {
	if f.Kind() == reflect.Pointer {
		n := reflect.New(f.Type().Elem())
		if err := setField(n.Elem(), raw, separator); err != nil {
			return err
		}
		f.Set(n)
		return nil
	}
	if f.Type() == durationType {
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("use a Go duration such as 30s")
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("use true or false")
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, f.Type().Bits())
		if err != nil {
			return fmt.Errorf("use a whole number")
		}
		f.SetInt(n)
	case reflect.Float64, reflect.Float32:
		n, err := strconv.ParseFloat(raw, f.Type().Bits())
		// ParseFloat reads NaN and Inf, which no threshold or target can be: every comparison
		// with NaN is false, so it would pass the checks for "above 0" and never activate.
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return fmt.Errorf("use a finite number")
		}
		f.SetFloat(n)
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type %s", f.Type())
		}
		if separator == "" {
			separator = ","
		}
		var items []string
		for _, s := range strings.Split(raw, separator) {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		f.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported field type %s", f.Type())
	}
	return nil
}

func typeName(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.Bool:
		return "boolean"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return "integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "number"
	case t.Kind() == reflect.Slice:
		return "comma-separated list"
	default:
		return "string"
	}
}

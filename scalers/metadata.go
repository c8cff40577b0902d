package scalers

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A scaler declares its parameters as a struct whose fields carry a `keda` tag:
//
//	ListName string `keda:"name=listName, order=triggerMetadata"`
//	Password string `keda:"name=password, order=authParams;resolvedEnv;triggerMetadata, optional, secret"`
//	Length   int64  `keda:"name=listLength, order=triggerMetadata, default=5"`
//
// name is KEDA's parameter name. order lists where the value may come from, first match wins:
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

// paramTag is one parsed `keda` tag.
type paramTag struct {
	name     string
	order    []string
	optional bool
	def      string
	hasDef   bool
	enum     []string
	secret   bool
	// separator splits a list parameter; a comma when empty.
	separator string
}

func parseTag(tag string) (paramTag, error) {
	var p paramTag
	for _, part := range strings.Split(tag, ",") {
		part = strings.TrimSpace(part)
		key, value, _ := strings.Cut(part, "=")
		switch key {
		case "name":
			p.name = value
		case "order":
			p.order = strings.Split(value, ";")
		case "optional":
			p.optional = true
		case "default":
			p.def, p.hasDef = value, true
		case "enum":
			p.enum = strings.Split(value, ";")
		case "secret":
			p.secret = true
		case "separator":
			p.separator = value
		case "":
		default:
			return p, fmt.Errorf("unknown keda tag option %q", key)
		}
	}
	if p.name == "" {
		return p, fmt.Errorf("keda tag %q has no name", tag)
	}
	if len(p.order) == 0 {
		p.order = []string{SourceTriggerMetadata}
	}
	return p, nil
}

// Validator is implemented by metadata structs that check more than one parameter together.
type Validator interface {
	Validate() error
}

// metricSource is embedded by the metadata of the scalers whose target KEDA makes optional when the
// trigger is a metric source of scalingModifiers (Config.AsMetricSource): their Validate reads
// asMetricSource. ParseMetadata sets it before validating.
type metricSource struct {
	asMetricSource bool
}

func (m *metricSource) setAsMetricSource(v bool) { m.asMetricSource = v }

// ConfigValidator is implemented by metadata structs whose check also depends on the trigger
// itself rather than its metadata (cpu and memory read spec.triggers[].metricType). Its errors are
// returned as they are: they name their own field.
type ConfigValidator interface {
	ValidateConfig(cfg *Config) error
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

// paramField is one keda-tagged field of a metadata struct, its tag parsed.
type paramField struct {
	goName string
	index  []int
	typ    reflect.Type
	tag    paramTag
}

// metadataFields are the keda-tagged fields of a metadata struct, its embedded structs' included, so
// that parameters several scalers share (authentication, connection) are declared once. Walking a
// struct's fields and parsing its tags costs more than parsing a trigger's metadata, so the
// registered scalers' layouts are read once (metadataLayouts) and looked up by type.
func metadataFields(t reflect.Type) ([]paramField, error) {
	var out []paramField
	for _, f := range reflect.VisibleFields(t) {
		tag, ok := f.Tag.Lookup("keda")
		if !ok {
			continue
		}
		p, err := parseTag(tag)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
		}
		out = append(out, paramField{goName: f.Name, index: f.Index, typ: f.Type, tag: p})
	}
	return out, nil
}

// metadataLayout is metadataFields' answer for one struct type.
type metadataLayout struct {
	fields []paramField
	err    error
}

// metadataLayouts holds the layout of every registered scaler's metadata struct. It is filled once,
// when the package is initialised (in init: the registry's constructors reach ParseMetadata, so a
// variable initialiser would be a cycle), and only read afterwards.
var metadataLayouts map[reflect.Type]metadataLayout

func init() { metadataLayouts = layoutsOf(registry) }

func layoutsOf(entries map[string]entry) map[reflect.Type]metadataLayout {
	out := make(map[reflect.Type]metadataLayout, len(entries))
	for _, e := range entries {
		t := reflect.TypeOf(e.metadata)
		if _, done := out[t]; done {
			continue
		}
		fields, err := metadataFields(t)
		out[t] = metadataLayout{fields: fields, err: err}
	}
	return out
}

// fieldsOf is metadataFields of t, read from metadataLayouts when t is a registered scaler's.
func fieldsOf(t reflect.Type) ([]paramField, error) {
	if l, ok := metadataLayouts[t]; ok {
		return l.fields, l.err
	}
	return metadataFields(t)
}

// ParseMetadata fills the tagged fields of target (a pointer to struct) from cfg, embedded structs'
// fields included.
func ParseMetadata(cfg *Config, target any) error {
	v := reflect.ValueOf(target)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("ParseMetadata needs a pointer to a struct, got %T", target)
	}
	v = v.Elem()
	fields, err := fieldsOf(v.Type())
	if err != nil {
		return err
	}
	for i := range fields {
		f := &fields[i]
		p := &f.tag
		perr := func(problem, fix string) error {
			return &ParamError{TriggerIndex: cfg.TriggerIndex, TriggerType: cfg.TriggerType, TriggerName: cfg.TriggerName, Param: p.name, Problem: problem, Fix: fix}
		}
		raw, found, err := lookup(cfg, p)
		if err != nil {
			return perr(err.Error(), "")
		}
		if !found {
			switch {
			case p.hasDef:
				raw = p.def
			case p.optional:
				continue
			case cfg.Offline && mayBeSuppliedLater(cfg, p):
				// Offline, the trigger's TriggerAuthentication or the target's env may hold it.
				continue
			default:
				return perr("is required", "set "+describeSources(p))
			}
		}
		if len(p.enum) > 0 && !slices.Contains(p.enum, raw) {
			shown := strconv.Quote(raw)
			if p.secret {
				shown = "(value hidden)"
			}
			return perr("is "+shown, "must be one of "+strings.Join(p.enum, ", "))
		}
		if err := setField(v.FieldByIndex(f.index), raw, p.separator); err != nil {
			shown := strconv.Quote(raw)
			if p.secret {
				shown = "(value hidden)"
			}
			return perr(fmt.Sprintf("%s is not a valid %s", shown, typeName(f.typ)), err.Error())
		}
	}
	if ms, ok := target.(interface{ setAsMetricSource(bool) }); ok {
		ms.setAsMetricSource(cfg.AsMetricSource)
	}
	if val, ok := target.(Validator); ok {
		if err := val.Validate(); err != nil {
			var pe *ParamError
			if errors.As(err, &pe) {
				if cfg.Offline && strings.HasPrefix(pe.Problem, "is required") {
					// Offline, a TriggerAuthentication or the target's env may supply it.
					return nil
				}
				pe.TriggerIndex, pe.TriggerType, pe.TriggerName = cfg.TriggerIndex, cfg.TriggerType, cfg.TriggerName
				return pe
			}
			return fmt.Errorf("trigger %d (%s): %w", cfg.TriggerIndex, cfg.TriggerType, err)
		}
	}
	if val, ok := target.(ConfigValidator); ok {
		return val.ValidateConfig(cfg)
	}
	return nil
}

// mayBeSuppliedLater tells, offline, whether a parameter missing from the metadata may still come
// from a source only a cluster has: a TriggerAuthentication the trigger names, or the env var its
// <name>FromEnv key names.
func mayBeSuppliedLater(cfg *Config, p *paramTag) bool {
	if slices.Contains(p.order, SourceAuthParams) && cfg.HasAuthenticationRef {
		return true
	}
	return slices.Contains(p.order, SourceResolvedEnv) && strings.TrimSpace(cfg.TriggerMetadata[p.name+"FromEnv"]) != ""
}

// lookup finds a parameter's raw value in the sources its tag allows, in order.
func lookup(cfg *Config, p *paramTag) (string, bool, error) {
	for _, src := range p.order {
		switch src {
		case SourceTriggerMetadata:
			// A value of blanks is no value: trimmed, it would pass for a set parameter that is
			// empty (a list named "", a query of nothing).
			if v := strings.TrimSpace(cfg.TriggerMetadata[p.name]); v != "" {
				return v, true, nil
			}
		case SourceAuthParams:
			if v, ok := cfg.AuthParams[p.name]; ok && v != "" {
				return v, true, nil
			}
		case SourceResolvedEnv:
			envName, ok := cfg.TriggerMetadata[p.name+"FromEnv"]
			if !ok || envName == "" {
				continue
			}
			if cfg.Offline {
				continue
			}
			v, ok := cfg.ResolvedEnv[envName]
			if !ok {
				return "", false, fmt.Errorf("names env var %q through %sFromEnv, but the target's container has no such variable", envName, p.name)
			}
			return v, true, nil
		}
	}
	return "", false, nil
}

func describeSources(p *paramTag) string {
	var ways []string
	for _, src := range p.order {
		switch src {
		case SourceTriggerMetadata:
			ways = append(ways, "metadata."+p.name)
		case SourceResolvedEnv:
			ways = append(ways, "metadata."+p.name+"FromEnv (an env var of the target's container)")
		case SourceAuthParams:
			ways = append(ways, "parameter "+p.name+" of a TriggerAuthentication")
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

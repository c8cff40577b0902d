package scalers

import (
	"reflect"
)

// SchemaParameter is one parameter in scalers/schema.yaml, in the format of KEDA's scaler schema
// (schemaVersion 1).
type SchemaParameter struct {
	Name                                  string   `json:"name"`
	Type                                  string   `json:"type"`
	Optional                              bool     `json:"optional,omitempty"`
	Default                               string   `json:"default,omitempty"`
	AllowedValue                          []string `json:"allowedValue,omitempty"`
	Separator                             string   `json:"separator,omitempty"`
	MetadataVariableReadable              bool     `json:"metadataVariableReadable,omitempty"`
	EnvVariableReadable                   bool     `json:"envVariableReadable,omitempty"`
	TriggerAuthenticationVariableReadable bool     `json:"triggerAuthenticationVariableReadable,omitempty"`
}

// SchemaScaler is one scaler in scalers/schema.yaml.
type SchemaScaler struct {
	Type       string            `json:"type"`
	Parameters []SchemaParameter `json:"parameters"`
	// TestedAgainst is kedactl's own: what the scaler's tests run against when it is not the
	// real server (emulator, or contract for a fake of the documented API).
	TestedAgainst string `json:"testedAgainst,omitempty"`
}

// Schema is scalers/schema.yaml.
type Schema struct {
	KedaVersion   string         `json:"kedaVersion"`
	SchemaVersion int            `json:"schemaVersion"`
	Scalers       []SchemaScaler `json:"scalers"`
}

// Parameters describes the tagged fields of a metadata struct.
func Parameters(metadata any) ([]SchemaParameter, error) {
	t := reflect.TypeOf(metadata)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	fields, err := fieldsOf(t)
	if err != nil {
		return nil, err
	}
	var params []SchemaParameter
	for _, f := range fields {
		p := f.tag
		sp := SchemaParameter{Name: p.name, Type: "string", Optional: p.optional, Default: p.def, AllowedValue: p.enum, Separator: p.separator}
		for _, src := range p.order {
			switch src {
			case SourceTriggerMetadata:
				sp.MetadataVariableReadable = true
			case SourceResolvedEnv:
				sp.EnvVariableReadable = true
			case SourceAuthParams:
				sp.TriggerAuthenticationVariableReadable = true
			}
		}
		params = append(params, sp)
	}
	return params, nil
}

// BuildSchema describes every registered scaler.
func BuildSchema() (*Schema, error) {
	s := &Schema{KedaVersion: "2.21", SchemaVersion: 1}
	for _, typ := range Types() {
		params, err := Parameters(registry[typ].metadata)
		if err != nil {
			return nil, err
		}
		s.Scalers = append(s.Scalers, SchemaScaler{Type: typ, Parameters: params, TestedAgainst: registry[typ].tested})
	}
	return s, nil
}

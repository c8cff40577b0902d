package scalers

import "github.com/kedactl/kedactl/scalers/meta"

// SchemaParameter is one parameter in scalers/schema.yaml.
type SchemaParameter = meta.SchemaParameter

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

// BuildSchema describes every registered scaler.
func BuildSchema() (*Schema, error) {
	s := &Schema{KedaVersion: "2.21", SchemaVersion: 1}
	for _, typ := range Types() {
		params, err := meta.Parameters(metadataOf(typ))
		if err != nil {
			return nil, err
		}
		s.Scalers = append(s.Scalers, SchemaScaler{Type: typ, Parameters: params, TestedAgainst: registry[typ].tested})
	}
	return s, nil
}

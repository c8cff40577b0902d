package meta

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

// Parameters describes the tagged fields of a metadata struct (a value or a pointer).
func (ps *Parser) Parameters(metadata any) ([]SchemaParameter, error) {
	fields, err := ps.Fields(structType(metadata))
	if err != nil {
		return nil, err
	}
	var params []SchemaParameter
	for _, f := range fields {
		p := f.Param
		sp := SchemaParameter{Name: p.Name, Type: "string", Optional: p.Optional, Default: p.Default, AllowedValue: p.Enum, Separator: p.Separator}
		for _, src := range p.Order {
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
		// An alias is the same parameter under another name, as KEDA's schema lists it.
		for _, alias := range p.Aliases {
			as := sp
			as.Name = alias
			params = append(params, as)
		}
	}
	return params, nil
}

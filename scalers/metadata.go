package scalers

import "github.com/kedactl/kedactl/scalers/meta"

// A scaler declares its parameters as a struct whose fields carry a `keda` tag, which package meta
// reads (see its doc): ParseMetadata fills the struct and BuildSchema describes it for
// scalers/schema.yaml, so the two cannot drift apart. The machinery and every scaler's metadata
// struct and checks live in meta, which imports no event-source client; what only a driver's own
// parser refuses is checked here (entry.check). The names below keep the scalers' code as it
// reads.

// Parameter sources, as named in tags.
const (
	SourceTriggerMetadata = meta.SourceTriggerMetadata
	SourceResolvedEnv     = meta.SourceResolvedEnv
	SourceAuthParams      = meta.SourceAuthParams
)

type (
	// ParamError is a parameter problem, worded to name the trigger, the parameter and the fix.
	ParamError = meta.ParamError
	// Validator is implemented by metadata structs that check more than one parameter together.
	Validator = meta.Validator
	// metricSource is embedded by the metadata whose target is optional for a metric source of
	// scalingModifiers.
	metricSource = meta.MetricSource
	// ConfigValidator is implemented by metadata structs whose check also reads the trigger itself.
	ConfigValidator = meta.ConfigValidator
)

// ParseMetadata fills the tagged fields of target (a pointer to struct) from cfg, embedded structs'
// fields included, and checks them.
func ParseMetadata(cfg *Config, target any) error {
	return meta.ParseInto(cfg.trigger(), target)
}

// trigger is what meta parses: the trigger's part of cfg.
func (cfg *Config) trigger() *meta.Trigger {
	return &meta.Trigger{
		Index: cfg.TriggerIndex, Name: cfg.TriggerName, Type: cfg.TriggerType,
		Metadata: cfg.TriggerMetadata, AuthParams: cfg.AuthParams, ResolvedEnv: cfg.ResolvedEnv, MetricType: cfg.MetricType,
		AsMetricSource: cfg.AsMetricSource, Offline: cfg.Offline, HasAuthenticationRef: cfg.HasAuthenticationRef,
	}
}

// identify makes a driver check's error name cfg's trigger, as ParseMetadata's do.
func identify(cfg *Config, err error) error {
	return cfg.trigger().Identify(err)
}

// checkDriver runs the checks of cfg's trigger type that need its driver's own parser (see
// entry.check) on metadata that ParseMetadata has filled.
func checkDriver(cfg *Config, metadata any) error {
	if e, ok := registry[cfg.TriggerType]; ok && e.check != nil {
		return identify(cfg, e.check(metadata))
	}
	return nil
}

// metadataOf is a zero value of the metadata struct of a registered trigger type.
func metadataOf(triggerType string) any {
	m, _ := meta.Metadata(triggerType)
	return m
}

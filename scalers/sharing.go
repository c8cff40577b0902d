package scalers

// RequestNamesObject reports whether a trigger type's request to its source names the ScaledObject
// or ScaledJob it serves (the external scaler protocol's ScaledObjectRef): two such triggers are
// different requests even with the same metadata, and the engine must not share them.
func RequestNamesObject(triggerType string) bool {
	switch triggerType {
	case "external", "external-push":
		return true
	}
	return false
}

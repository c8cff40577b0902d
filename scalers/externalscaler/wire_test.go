package externalscaler

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// TestWireMatchesKEDA: the package, service, methods and field numbers and kinds are KEDA's
// externalscaler.proto ones, which is what lets external scalers written for KEDA answer us.
func TestWireMatchesKEDA(t *testing.T) {
	fd := File_scalers_externalscaler_externalscaler_proto
	if fd.Package() != "externalscaler" {
		t.Fatalf("package %s", fd.Package())
	}
	svc := fd.Services().ByName("ExternalScaler")
	if svc == nil {
		t.Fatal("no service ExternalScaler")
	}
	methods := map[string][3]string{
		"IsActive":       {"externalscaler.ScaledObjectRef", "externalscaler.IsActiveResponse", "unary"},
		"StreamIsActive": {"externalscaler.ScaledObjectRef", "externalscaler.IsActiveResponse", "server-stream"},
		"GetMetricSpec":  {"externalscaler.ScaledObjectRef", "externalscaler.GetMetricSpecResponse", "unary"},
		"GetMetrics":     {"externalscaler.GetMetricsRequest", "externalscaler.GetMetricsResponse", "unary"},
	}
	for name, want := range methods {
		m := svc.Methods().ByName(protoreflect.Name(name))
		if m == nil {
			t.Errorf("no method %s", name)
			continue
		}
		kind := "unary"
		if m.IsStreamingServer() {
			kind = "server-stream"
		}
		if m.IsStreamingClient() {
			kind = "client-stream"
		}
		got := [3]string{string(m.Input().FullName()), string(m.Output().FullName()), kind}
		if got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	type field struct {
		number protoreflect.FieldNumber
		kind   string
	}
	messages := map[string]map[string]field{
		"ScaledObjectRef":       {"name": {1, "string"}, "namespace": {2, "string"}, "scalerMetadata": {3, "map<string,string>"}},
		"IsActiveResponse":      {"result": {1, "bool"}},
		"GetMetricSpecResponse": {"metricSpecs": {1, "repeated externalscaler.MetricSpec"}},
		"MetricSpec":            {"metricName": {1, "string"}, "targetSize": {2, "int64"}, "targetSizeFloat": {3, "double"}},
		"GetMetricsRequest":     {"scaledObjectRef": {1, "externalscaler.ScaledObjectRef"}, "metricName": {2, "string"}},
		"GetMetricsResponse":    {"metricValues": {1, "repeated externalscaler.MetricValue"}},
		"MetricValue":           {"metricName": {1, "string"}, "metricValue": {2, "int64"}, "metricValueFloat": {3, "double"}},
	}
	for msgName, fields := range messages {
		md := fd.Messages().ByName(protoreflect.Name(msgName))
		if md == nil {
			t.Errorf("no message %s", msgName)
			continue
		}
		if md.Fields().Len() != len(fields) {
			t.Errorf("%s has %d fields, want %d", msgName, md.Fields().Len(), len(fields))
		}
		for name, want := range fields {
			f := md.Fields().ByName(protoreflect.Name(name))
			if f == nil {
				t.Errorf("%s has no field %s", msgName, name)
				continue
			}
			if got := (field{f.Number(), kindOf(f)}); got != want {
				t.Errorf("%s.%s = %+v, want %+v", msgName, name, got, want)
			}
		}
	}
}

func kindOf(f protoreflect.FieldDescriptor) string {
	switch {
	case f.IsMap():
		return "map<" + kindOf(f.MapKey()) + "," + kindOf(f.MapValue()) + ">"
	case f.IsList():
		return "repeated " + string(f.Message().FullName())
	case f.Kind() == protoreflect.MessageKind:
		return string(f.Message().FullName())
	default:
		return f.Kind().String()
	}
}

package v1alpha1

import (
	"strings"
	"testing"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

func TestSpecProblems(t *testing.T) {
	httpDest := Destination{HTTP: &CloudEventHTTP{URI: "http://127.0.0.1:8080/"}}
	tests := []struct {
		name            string
		spec            CloudEventSourceSpec
		cluster         bool
		refused, strict []string // each a field path that must be named, in order
	}{
		{name: "http only", spec: CloudEventSourceSpec{Destination: httpDest}},
		{name: "event grid only", spec: CloudEventSourceSpec{Destination: Destination{AzureEventGridTopic: &AzureEventGridTopicSpec{Endpoint: "https://t.westeurope-1.eventgrid.azure.net/api/events"}}}},
		{
			name:    "included and excluded together, as KEDA refuses",
			spec:    CloudEventSourceSpec{Destination: httpDest, EventSubscription: EventSubscription{IncludedEventTypes: []CloudEventType{ScaledObjectFailed}, ExcludedEventTypes: []CloudEventType{ScaledObjectFailed}}},
			refused: []string{"spec.eventSubscription.excludedEventTypes"},
		},
		{
			name:    "unknown type",
			spec:    CloudEventSourceSpec{Destination: httpDest, EventSubscription: EventSubscription{IncludedEventTypes: []CloudEventType{"keda.scaledobject.failed.v2"}}},
			refused: []string{"spec.eventSubscription.includedEventTypes[0]"},
		},
		{
			name: "authentication types may be filtered",
			spec: CloudEventSourceSpec{Destination: httpDest, EventSubscription: EventSubscription{ExcludedEventTypes: []CloudEventType{TriggerAuthenticationUpdated}}},
		},
		{name: "no destination", strict: []string{"spec.destination"}},
		{
			name:   "both destinations",
			spec:   CloudEventSourceSpec{Destination: Destination{HTTP: httpDest.HTTP, AzureEventGridTopic: &AzureEventGridTopicSpec{Endpoint: "https://x"}}},
			strict: []string{"spec.destination.azureEventGridTopic"},
		},
		{name: "relative uri", spec: CloudEventSourceSpec{Destination: Destination{HTTP: &CloudEventHTTP{URI: "receiver:8080"}}}, strict: []string{"spec.destination.http.uri"}},
		{name: "empty endpoint", spec: CloudEventSourceSpec{Destination: Destination{AzureEventGridTopic: &AzureEventGridTopicSpec{}}}, strict: []string{"spec.destination.azureEventGridTopic.endpoint"}},
		{
			name: "namespaced authentication from a cluster source", cluster: true,
			spec:   CloudEventSourceSpec{Destination: httpDest, AuthenticationRef: &kedav1alpha1.AuthenticationRef{Name: "a"}},
			strict: []string{"spec.authenticationRef.kind"},
		},
		{
			name: "cluster authentication from a cluster source", cluster: true,
			spec: CloudEventSourceSpec{Destination: httpDest, AuthenticationRef: &kedav1alpha1.AuthenticationRef{Name: "a", Kind: "ClusterTriggerAuthentication"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refused, strict := SpecProblems(&tt.spec, tt.cluster)
			for _, c := range []struct {
				what string
				got  []string
				want []string
			}{{"refused", fields(refused.ToAggregate()), tt.refused}, {"stricter", fields(strict.ToAggregate()), tt.strict}} {
				if len(c.got) != len(c.want) {
					t.Fatalf("%s: got %q, want fields %q", c.what, c.got, c.want)
				}
				for i := range c.want {
					if !strings.HasPrefix(c.got[i], c.want[i]+":") {
						t.Errorf("%s[%d] = %q, want it about %s", c.what, i, c.got[i], c.want[i])
					}
				}
			}
		})
	}
}

func fields(agg interface{ Errors() []error }) []string {
	if agg == nil {
		return nil
	}
	var out []string
	for _, e := range agg.Errors() {
		out = append(out, e.Error())
	}
	return out
}

func TestWants(t *testing.T) {
	tests := []struct {
		name string
		sub  EventSubscription
		typ  CloudEventType
		want bool
	}{
		{"no filter keeps all", EventSubscription{}, ScaledJobReady, true},
		{"included keeps it", EventSubscription{IncludedEventTypes: []CloudEventType{ScaledJobReady}}, ScaledJobReady, true},
		{"included drops the rest", EventSubscription{IncludedEventTypes: []CloudEventType{ScaledJobReady}}, ScaledObjectReady, false},
		{"excluded drops it", EventSubscription{ExcludedEventTypes: []CloudEventType{ScaledObjectFailed}}, ScaledObjectFailed, false},
		{"excluded keeps the rest", EventSubscription{ExcludedEventTypes: []CloudEventType{ScaledObjectFailed}}, ScaledObjectRemoved, true},
		{"included wins over excluded", EventSubscription{IncludedEventTypes: []CloudEventType{ScaledObjectFailed}, ExcludedEventTypes: []CloudEventType{ScaledObjectFailed}}, ScaledObjectFailed, true},
	}
	for _, tt := range tests {
		if got := tt.sub.Wants(tt.typ); got != tt.want {
			t.Errorf("%s: Wants(%s) = %v, want %v", tt.name, tt.typ, got, tt.want)
		}
	}
}

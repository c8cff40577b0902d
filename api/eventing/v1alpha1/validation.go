package v1alpha1

import (
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// SpecProblems sorts a spec's problems into those KEDA refuses too (included and excluded types
// together, an unknown type) and those only this operator finds: no destination, both
// destinations (KEDA then uses http alone), a URI that is not an absolute http(s) URL, an
// authentication a cluster-scoped source cannot read. KEDA admits the latter and then delivers
// nothing; admission here admits them with a warning, and the controller reports them in status.
func SpecProblems(s *CloudEventSourceSpec, clusterScoped bool) (refused, stricter field.ErrorList) {
	spec := field.NewPath("spec")
	sub := spec.Child("eventSubscription")
	if len(s.EventSubscription.IncludedEventTypes) > 0 && len(s.EventSubscription.ExcludedEventTypes) > 0 {
		refused = append(refused, field.Forbidden(sub.Child("excludedEventTypes"),
			"setting included types and excluded types at the same time is not supported: keep includedEventTypes or excludedEventTypes"))
	}
	for _, list := range []struct {
		name  string
		types []CloudEventType
	}{{"includedEventTypes", s.EventSubscription.IncludedEventTypes}, {"excludedEventTypes", s.EventSubscription.ExcludedEventTypes}} {
		for i, t := range list.types {
			if !contains(EventTypes, t) {
				refused = append(refused, field.NotSupported(sub.Child(list.name).Index(i), t, typeNames()))
			}
		}
	}

	dest := spec.Child("destination")
	switch d := s.Destination; {
	case d.HTTP == nil && d.AzureEventGridTopic == nil:
		stricter = append(stricter, field.Required(dest, "set destination.http.uri (a CloudEvents receiver) or destination.azureEventGridTopic.endpoint"))
	case d.HTTP != nil && d.AzureEventGridTopic != nil:
		stricter = append(stricter, field.Forbidden(dest.Child("azureEventGridTopic"), "set one destination: with both, only http is used"))
	}
	if d := s.Destination.HTTP; d != nil {
		if why := httpURL(d.URI); why != "" {
			stricter = append(stricter, field.Invalid(dest.Child("http", "uri"), d.URI, why))
		}
	}
	if d := s.Destination.AzureEventGridTopic; d != nil && s.Destination.HTTP == nil {
		if why := httpURL(d.Endpoint); why != "" {
			stricter = append(stricter, field.Invalid(dest.Child("azureEventGridTopic", "endpoint"), d.Endpoint, why+", e.g. https://<topic>.<region>-1.eventgrid.azure.net/api/events"))
		}
	}

	if ref := s.AuthenticationRef; ref != nil {
		p := spec.Child("authenticationRef")
		if strings.TrimSpace(ref.Name) == "" {
			stricter = append(stricter, field.Required(p.Child("name"), "name the TriggerAuthentication or ClusterTriggerAuthentication holding the destination's credentials"))
		}
		if clusterScoped && ref.TriggerAuthKind() != kedav1alpha1.KindClusterTriggerAuthentication {
			stricter = append(stricter, field.Invalid(p.Child("kind"), ref.Kind,
				"a ClusterCloudEventSource has no namespace to find a TriggerAuthentication in: set kind: ClusterTriggerAuthentication"))
		}
	}
	return refused, stricter
}

// ValidateSpec is every problem SpecProblems finds, for the controller and `kubectl keda check`.
func ValidateSpec(s *CloudEventSourceSpec, clusterScoped bool) field.ErrorList {
	refused, stricter := SpecProblems(s, clusterScoped)
	return append(refused, stricter...)
}

// httpURL says what is wrong with a destination URL, or "".
func httpURL(raw string) string {
	if strings.TrimSpace(raw) == "" {
		return "must be set"
	}
	u, err := url.ParseRequestURI(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an absolute http:// or https:// URL"
	}
	return ""
}

func typeNames() []string {
	out := make([]string, len(EventTypes))
	for i, t := range EventTypes {
		out[i] = string(t)
	}
	return out
}

// Package v1alpha1 holds the eventing.keda.sh/v1alpha1 API: CloudEventSource (namespaced) and
// ClusterCloudEventSource, field for field as KEDA 2.21 has them. Either one asks the operator to
// deliver its lifecycle events (a ScaledObject ready, failed, removed, ...) as CloudEvents to an
// HTTP endpoint or an Azure Event Grid topic.
//
// +kubebuilder:object:generate=true
// +groupName=eventing.keda.sh
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "eventing.keda.sh", Version: "v1alpha1"}

	// SchemeBuilder registers this package's kinds with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds this package's kinds to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// Package v1alpha1 holds the keda.sh/v1alpha1 API: ScaledObject, ScaledJob, TriggerAuthentication and
// ClusterTriggerAuthentication, field for field as KEDA 2.x documents them, with the defaults and
// validation shared by the operator, the admission webhook and the kubectl plugin.
//
// +kubebuilder:object:generate=true
// +groupName=keda.sh
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "keda.sh", Version: "v1alpha1"}

	// SchemeBuilder registers this package's kinds with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds this package's kinds to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

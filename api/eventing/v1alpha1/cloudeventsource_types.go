package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// CloudEventSource delivers the lifecycle events of the objects in its namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=cloudeventsources,scope=Namespaced
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Active",type="string",JSONPath=".status.conditions[?(@.type==\"Active\")].status"
type CloudEventSource struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec CloudEventSourceSpec `json:"spec"`
	// +optional
	Status CloudEventSourceStatus `json:"status,omitempty"`
}

// CloudEventSourceList is a list of CloudEventSources.
//
// +kubebuilder:object:root=true
type CloudEventSourceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []CloudEventSource `json:"items"`
}

// ClusterCloudEventSource delivers the lifecycle events of every namespace, and those of
// ClusterTriggerAuthentications.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=clustercloudeventsources,scope=Cluster
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Active",type="string",JSONPath=".status.conditions[?(@.type==\"Active\")].status"
type ClusterCloudEventSource struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec CloudEventSourceSpec `json:"spec"`
	// +optional
	Status CloudEventSourceStatus `json:"status,omitempty"`
}

// ClusterCloudEventSourceList is a list of ClusterCloudEventSources.
//
// +kubebuilder:object:root=true
type ClusterCloudEventSourceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []ClusterCloudEventSource `json:"items"`
}

// CloudEventSourceSpec is where the events go and which of them.
type CloudEventSourceSpec struct {
	// ClusterName names this cluster in each event's source and subject; empty takes the
	// operator's --k8s-cluster-name ("kubernetes-default").
	// +optional
	ClusterName string `json:"clusterName,omitempty"`

	Destination Destination `json:"destination"`

	// AuthenticationRef holds the destination's credentials: bearerToken, username and password,
	// cert, key and ca for http; accessKey (or sasToken) for azureEventGridTopic.
	// +optional
	AuthenticationRef *kedav1alpha1.AuthenticationRef `json:"authenticationRef,omitempty"`

	// +optional
	EventSubscription EventSubscription `json:"eventSubscription,omitempty"`
}

// Destination is one of http or azureEventGridTopic. KEDA serializes both keys even when unset
// (no omitempty), so a round-tripped object keeps its shape there too.
type Destination struct {
	// +optional
	HTTP *CloudEventHTTP `json:"http"`

	// +optional
	AzureEventGridTopic *AzureEventGridTopicSpec `json:"azureEventGridTopic"`
}

// CloudEventHTTP delivers each event in HTTP binary mode to a CloudEvents receiver.
type CloudEventHTTP struct {
	URI string `json:"uri"`
}

// AzureEventGridTopicSpec publishes each event to an Event Grid topic (its CloudEvents schema
// endpoint, e.g. https://<topic>.<region>-1.eventgrid.azure.net/api/events).
type AzureEventGridTopicSpec struct {
	Endpoint string `json:"endpoint"`
}

// EventSubscription keeps some event types and drops the rest: included types only, or all but
// the excluded ones; not both.
type EventSubscription struct {
	// +optional
	IncludedEventTypes []CloudEventType `json:"includedEventTypes,omitempty"`

	// +optional
	ExcludedEventTypes []CloudEventType `json:"excludedEventTypes,omitempty"`
}

// CloudEventSourceStatus carries the Active condition: True while events are delivered, False
// after an event could not be delivered, Unknown before the first reconcile.
type CloudEventSourceStatus struct {
	// +optional
	Conditions kedav1alpha1.Conditions `json:"conditions,omitempty"`
}

// Source is what the operator needs of either kind.
//
// +kubebuilder:object:generate=false
type Source interface {
	GetName() string
	GetNamespace() string
	GetGeneration() int64
	SourceSpec() *CloudEventSourceSpec
	SourceStatus() *CloudEventSourceStatus
}

// SourceSpec returns the spec.
func (c *CloudEventSource) SourceSpec() *CloudEventSourceSpec { return &c.Spec }

// SourceStatus returns the status.
func (c *CloudEventSource) SourceStatus() *CloudEventSourceStatus { return &c.Status }

// SourceSpec returns the spec.
func (c *ClusterCloudEventSource) SourceSpec() *CloudEventSourceSpec { return &c.Spec }

// SourceStatus returns the status.
func (c *ClusterCloudEventSource) SourceStatus() *CloudEventSourceStatus { return &c.Status }

func init() {
	SchemeBuilder.Register(&CloudEventSource{}, &CloudEventSourceList{}, &ClusterCloudEventSource{}, &ClusterCloudEventSourceList{})
}

package cloudevents

import (
	"fmt"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"
)

// DefaultClusterName is the cluster's name in sources and subjects when neither the source's
// spec.clusterName nor the operator's --k8s-cluster-name says otherwise (KEDA's default).
const DefaultClusterName = "kubernetes-default"

// Data is the payload of every event, as KEDA sends it.
type Data struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// Source is the source attribute: the operator of one cluster, /<cluster>/<operator namespace>/keda.
func Source(clusterName, operatorNamespace string) string {
	return fmt.Sprintf("/%s/%s/keda", clusterName, operatorNamespace)
}

// Subject is the subject attribute: the object the event is about, /<cluster>/<namespace>/<kind>/<name>
// (kind in lower case, e.g. scaledobject).
func Subject(clusterName string, e Event) string {
	return fmt.Sprintf("/%s/%s/%s/%s", clusterName, e.Namespace, lowerKind(e.Kind), e.Name)
}

// Build makes the CloudEvent of e: KEDA's source, subject, type and JSON data, e's time, and a
// fresh id (receivers deduplicate by source and id, and a retried event keeps its id).
func Build(e Event, clusterName, operatorNamespace string) (ce.Event, error) {
	ev := ce.New()
	ev.SetID(uuid.NewString())
	ev.SetSource(Source(clusterName, operatorNamespace))
	ev.SetSubject(Subject(clusterName, e))
	ev.SetType(string(e.Type))
	ev.SetTime(e.Time)
	if err := ev.SetData(ce.ApplicationJSON, Data{Reason: e.Reason, Message: e.Message}); err != nil {
		return ev, fmt.Errorf("failed to encode the data of %s event of %s: %w", e.Type, e.Name, err)
	}
	return ev, nil
}

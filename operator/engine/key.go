package engine

import "k8s.io/apimachinery/pkg/types"

// Kind is the kind of object that registered triggers with the engine.
type Kind string

// The kinds that own triggers. ScaledObjects and ScaledJobs share one engine (one scheduler, one
// cache, identical triggers polled once), and a ScaledJob may have the name of a ScaledObject in its
// namespace: the kind keeps them apart.
const (
	KindScaledObject Kind = "ScaledObject"
	KindScaledJob    Kind = "ScaledJob"
)

// Key names one registered object.
type Key struct {
	Kind      Kind
	Namespace string
	Name      string
}

// ScaledObjectKey is the key of the ScaledObject nn.
func ScaledObjectKey(nn types.NamespacedName) Key {
	return Key{Kind: KindScaledObject, Namespace: nn.Namespace, Name: nn.Name}
}

// ScaledJobKey is the key of the ScaledJob nn.
func ScaledJobKey(nn types.NamespacedName) Key {
	return Key{Kind: KindScaledJob, Namespace: nn.Namespace, Name: nn.Name}
}

// NamespacedName drops the kind.
func (k Key) NamespacedName() types.NamespacedName {
	return types.NamespacedName{Namespace: k.Namespace, Name: k.Name}
}

// String is kind/namespace/name, as it appears in logs.
func (k Key) String() string { return string(k.Kind) + "/" + k.Namespace + "/" + k.Name }

// Package v1alpha1 holds history.kedactl.dev/v1alpha1: the recent history of a ScaledObject or a
// ScaledJob as the operator keeps it (trigger samples and scaling decisions), served read-only
// through the apiserver's aggregation layer next to external.metrics.k8s.io. Nothing is stored in
// etcd: the operator answers from memory, so the history starts again when the operator restarts.
//
// +kubebuilder:object:generate=true
package v1alpha1

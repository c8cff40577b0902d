// Package check validates keda.sh and eventing.keda.sh manifests offline with the same functions the operator uses
// (api/v1alpha1 validation and the scalers' metadata parsing), for `kubectl keda check`.
package check

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	eventingv1alpha1 "github.com/kedactl/kedactl/api/eventing/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/api/validation"
	scalermeta "github.com/kedactl/kedactl/scalers/meta"
)

// Result is the verdict on one object of a manifest.
type Result struct {
	Kind      string   `json:"kind"`
	Namespace string   `json:"namespace,omitempty"`
	Name      string   `json:"name"`
	Errors    []string `json:"errors,omitempty"`
	// Warnings are what the webhook would warn about: admitted, but not doing what it says.
	Warnings []string `json:"warnings,omitempty"`
	// Skipped is set for objects that are not keda.sh kinds.
	Skipped bool `json:"skipped,omitempty"`
}

// Manifest validates every object of a multi-document YAML stream. A ScaledObject whose scale
// target (a Deployment or StatefulSet) is in the same stream is also checked against its pod
// template, as the webhook checks it against the cluster's.
func Manifest(data []byte) ([]Result, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var results []Result
	scaledObjects := map[int]*kedav1alpha1.ScaledObject{}
	workloads := map[string]*corev1.PodSpec{}
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("failed to read the manifest: %w", err)
		}
		r, ok, err := object(doc)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if r.scaledObject != nil {
			scaledObjects[len(results)] = r.scaledObject
		}
		if r.podSpec != nil {
			workloads[workloadKey(r.Kind, r.Namespace, r.Name)] = r.podSpec
		}
		results = append(results, r.Result)
	}
	for i, so := range scaledObjects {
		ref := so.Spec.ScaleTargetRef
		if ref == nil || (ref.APIVersion != "" && ref.APIVersion != "apps/v1") {
			continue
		}
		kind := ref.Kind
		if kind == "" {
			kind = "Deployment"
		}
		if podSpec, ok := workloads[workloadKey(kind, so.Namespace, ref.Name)]; ok {
			results[i].Errors = append(results[i].Errors, messages(validation.ResourceRequests(so, kind, podSpec, nil))...)
		}
	}
	return results, nil
}

func workloadKey(kind, namespace, name string) string {
	return kind + "/" + namespace + "/" + name
}

// parsed is one document's verdict plus what a later check across documents needs.
type parsed struct {
	Result
	scaledObject *kedav1alpha1.ScaledObject
	// podSpec is the pod template of an apps/v1 Deployment or StatefulSet.
	podSpec *corev1.PodSpec
}

func object(doc []byte) (parsed, bool, error) {
	r, ok, so, err := keda(doc)
	p := parsed{Result: r, scaledObject: so}
	if err == nil && ok && r.Skipped && (r.Kind == "Deployment" || r.Kind == "StatefulSet") {
		var w struct {
			APIVersion string `json:"apiVersion"`
			Spec       struct {
				Template corev1.PodTemplateSpec `json:"template"`
			} `json:"spec"`
		}
		if yaml.Unmarshal(doc, &w) == nil && w.APIVersion == "apps/v1" {
			p.podSpec = &w.Spec.Template.Spec
		}
	}
	return p, ok, err
}

func keda(doc []byte) (Result, bool, *kedav1alpha1.ScaledObject, error) {
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return Result{}, false, nil, fmt.Errorf("failed to parse a document: %w", err)
	}
	if meta.Kind == "" {
		return Result{}, false, nil, nil
	}
	r := Result{Kind: meta.Kind, Namespace: meta.Metadata.Namespace, Name: meta.Metadata.Name}
	gv, _ := schema.ParseGroupVersion(meta.APIVersion)
	if gv == eventingv1alpha1.GroupVersion {
		return eventing(doc, r, meta.Kind), true, nil, nil
	}
	if gv != kedav1alpha1.GroupVersion {
		r.Skipped = true
		return r, true, nil, nil
	}
	switch meta.Kind {
	case "ScaledObject":
		so := &kedav1alpha1.ScaledObject{}
		if err := yaml.UnmarshalStrict(doc, so); err != nil {
			r.Errors = append(r.Errors, "does not match the ScaledObject schema: "+err.Error())
			return r, true, nil, nil
		}
		r.Errors = append(r.Errors, messages(validation.ScaledObject(scalermeta.CheckTrigger, so))...)
		r.Warnings = validation.ScaledObjectWarnings(so)
		return r, true, so, nil
	case "ScaledJob":
		sj := &kedav1alpha1.ScaledJob{}
		if err := yaml.UnmarshalStrict(doc, sj); err != nil {
			r.Errors = append(r.Errors, "does not match the ScaledJob schema: "+err.Error())
			return r, true, nil, nil
		}
		r.Errors = append(r.Errors, messages(validation.ScaledJob(scalermeta.CheckTrigger, sj))...)
		r.Warnings = validation.ScaledJobWarnings(sj)
	case "TriggerAuthentication", "ClusterTriggerAuthentication":
		ta := &kedav1alpha1.TriggerAuthentication{}
		if err := yaml.UnmarshalStrict(doc, ta); err != nil {
			r.Errors = append(r.Errors, "does not match the "+meta.Kind+" schema: "+err.Error())
			return r, true, nil, nil
		}
		r.Errors = append(r.Errors, messages(validation.TriggerAuthentication(&ta.Spec, meta.Kind == "ClusterTriggerAuthentication"))...)
	default:
		r.Errors = append(r.Errors, fmt.Sprintf("keda.sh/v1alpha1 has no kind %q: use ScaledObject, ScaledJob, TriggerAuthentication or ClusterTriggerAuthentication", meta.Kind))
	}
	return r, true, nil, nil
}

// eventing checks a CloudEventSource or ClusterCloudEventSource.
func eventing(doc []byte, r Result, kind string) Result {
	if kind != "CloudEventSource" && kind != "ClusterCloudEventSource" {
		r.Errors = append(r.Errors, fmt.Sprintf("eventing.keda.sh/v1alpha1 has no kind %q: use CloudEventSource or ClusterCloudEventSource", kind))
		return r
	}
	ces := &eventingv1alpha1.CloudEventSource{} // both kinds have the same spec
	if err := yaml.UnmarshalStrict(doc, ces); err != nil {
		r.Errors = append(r.Errors, "does not match the "+kind+" schema: "+err.Error())
		return r
	}
	r.Errors = append(r.Errors, messages(validation.CloudEventSource(&ces.Spec, kind == "ClusterCloudEventSource"))...)
	return r
}

func messages(errs []error) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

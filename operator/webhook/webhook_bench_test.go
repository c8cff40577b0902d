package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/ownership"
)

// BenchmarkScaledObjectAdmission is the webhook's own work for one dry-run apply of the bench's
// ScaledObject (one metrics-api trigger) into a namespace holding 10 others (the fake client lists by copying every object, so more would measure the fake): decoding,
// validation, the ownership check on the indexes.
func BenchmarkScaledObjectAdmission(b *testing.B) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		b.Fatal(err)
	}
	if err := kedav1alpha1.AddToScheme(scheme); err != nil {
		b.Fatal(err)
	}
	metricsAPI := func(name string) *kedav1alpha1.ScaledObject {
		return scaledObject(name, name, func(s *kedav1alpha1.ScaledObjectSpec) {
			s.Triggers = []kedav1alpha1.ScaleTriggers{{Type: "metrics-api", Metadata: map[string]string{
				"url": "http://127.0.0.1:9999/value/" + name, "valueLocation": "value", "targetValue": "10"}}}
		})
	}
	builder := fake.NewClientBuilder().WithScheme(scheme)
	for i := range 10 {
		builder.WithObjects(metricsAPI(fmt.Sprintf("stored-%04d", i)))
	}
	if err := ownership.IndexFields(context.Background(), builderIndexer{builder}); err != nil {
		b.Fatal(err)
	}
	c := builder.Build()
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(appsv1.SchemeGroupVersion.WithKind("Deployment"), meta.RESTScopeNamespace)
	h := handlers(&Validator{Client: c, Reader: c, Mapper: mapper, Metrics: &countedValidations{}})[PathScaledObject]
	raw, err := json.Marshal(metricsAPI("applied"))
	if err != nil {
		b.Fatal(err)
	}
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		Operation: admissionv1.Create, Namespace: "ns", Name: "applied", DryRun: ptr.To(true),
		Kind:   metav1.GroupVersionKind{Group: "keda.sh", Version: "v1alpha1", Kind: "ScaledObject"},
		Object: runtime.RawExtension{Raw: raw},
	}}
	b.ReportAllocs()
	for b.Loop() {
		if resp := h.Handle(context.Background(), req); !resp.Allowed {
			b.Fatalf("refused: %v", resp.Result)
		}
	}
}

// Package historyapi serves the operator's history store as history.kedactl.dev/v1alpha1 on the
// generic apiserver that already serves external.metrics.k8s.io: the kube-apiserver's aggregation
// layer proxies to it, so reading a history takes the caller's own credentials and RBAC (verb get
// on scaledobjects or scaledjobs of history.kedactl.dev), as reading metrics does, and no port of
// the operator is exposed otherwise.
package historyapi

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
	"github.com/kedactl/kedactl/operator/history"
)

// PathPrefix is where the group is served; its paths carry no OpenAPI models (the types are read
// by the plugin, not applied), so the server's OpenAPI builder is told to skip them.
const PathPrefix = "/apis/" + historyv1alpha1.GroupName

// Reader reads histories: this replica's store, or the replica that keeps the object's. An error
// says the history could not be read (its keeper is unreachable); false that there is none.
type Reader interface {
	History(ctx context.Context, key history.Key) (historyv1alpha1.History, bool, error)
}

// Store is the part of the history store a Local reads.
type Store interface {
	History(key history.Key) (historyv1alpha1.History, bool)
}

// Local reads this replica's own store.
type Local struct{ Store Store }

// History reads the store; it never fails.
func (l Local) History(_ context.Context, key history.Key) (historyv1alpha1.History, bool, error) {
	h, ok := l.Store.History(key)
	return h, ok, nil
}

// NewScheme returns a scheme with the group's kinds and the options and status types the generic
// apiserver encodes beside them.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := historyv1alpha1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("failed to add %s to the scheme: %w", historyv1alpha1.GroupVersion, err)
	}
	// The handlers decode GetOptions as meta/v1 and write Status and discovery types unversioned.
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	if err := metainternalversion.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("failed to add the internal meta types to the scheme: %w", err)
	}
	s.AddUnversionedTypes(schema.GroupVersion{Version: "v1"},
		&metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroupList{}, &metav1.APIGroup{}, &metav1.APIResourceList{})
	return s, nil
}

// Install serves store's histories on server.
func Install(server *genericapiserver.GenericAPIServer, store Reader) error {
	scheme, err := NewScheme()
	if err != nil {
		return err
	}
	codecs := serializer.NewCodecFactory(scheme)
	info := genericapiserver.NewDefaultAPIGroupInfo(historyv1alpha1.GroupName, scheme, runtime.NewParameterCodec(scheme), codecs)
	info.VersionedResourcesStorageMap[historyv1alpha1.GroupVersion.Version] = map[string]rest.Storage{
		historyv1alpha1.ResourceScaledObjects: &storage{store: store, kind: history.ScaledObject},
		historyv1alpha1.ResourceScaledJobs:    &storage{store: store, kind: history.ScaledJob},
	}
	if err := server.InstallAPIGroup(&info); err != nil {
		return fmt.Errorf("failed to install the %s API: %w", historyv1alpha1.GroupVersion, err)
	}
	return nil
}

// storage answers GET of one resource (scaledobjects or scaledjobs) from the store.
type storage struct {
	store Reader
	kind  history.Kind
}

var (
	_ rest.Getter               = (*storage)(nil)
	_ rest.Scoper               = (*storage)(nil)
	_ rest.SingularNameProvider = (*storage)(nil)
)

func (s *storage) New() runtime.Object {
	if s.kind == history.ScaledJob {
		return &historyv1alpha1.ScaledJobHistory{}
	}
	return &historyv1alpha1.ScaledObjectHistory{}
}

func (s *storage) Destroy() {}

func (s *storage) NamespaceScoped() bool { return true }

func (s *storage) GetSingularName() string {
	if s.kind == history.ScaledJob {
		return "scaledjob"
	}
	return "scaledobject"
}

func (s *storage) resource() schema.GroupResource {
	r := historyv1alpha1.ResourceScaledObjects
	if s.kind == history.ScaledJob {
		r = historyv1alpha1.ResourceScaledJobs
	}
	return schema.GroupResource{Group: historyv1alpha1.GroupName, Resource: r}
}

// Get returns the history of the named object. An object the operator keeps nothing for reads as
// NotFound: it does not exist, or has not been reconciled since its owning replica started.
func (s *storage) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	ns, ok := genericapirequest.NamespaceFrom(ctx)
	if !ok || ns == "" {
		return nil, apierrors.NewBadRequest("a namespace is required: histories are read per namespace")
	}
	key := history.Key{Kind: s.kind, NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}
	h, found, err := s.store.History(ctx, key)
	if err != nil {
		if _, ok := err.(apierrors.APIStatus); ok {
			return nil, err
		}
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("the history of %s/%s: %v", ns, name, err))
	}
	if !found {
		return nil, apierrors.NewNotFound(s.resource(), name)
	}
	meta := metav1.ObjectMeta{Name: name, Namespace: ns, CreationTimestamp: h.Since}
	if s.kind == history.ScaledJob {
		return &historyv1alpha1.ScaledJobHistory{TypeMeta: metav1.TypeMeta{APIVersion: historyv1alpha1.GroupVersion.String(), Kind: "ScaledJobHistory"}, ObjectMeta: meta, History: h}, nil
	}
	return &historyv1alpha1.ScaledObjectHistory{TypeMeta: metav1.TypeMeta{APIVersion: historyv1alpha1.GroupVersion.String(), Kind: "ScaledObjectHistory"}, ObjectMeta: meta, History: h}, nil
}

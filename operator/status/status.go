// Package status writes ScaledObject status from more than one writer (the controller and the
// activation executor) without losing either's fields: each writer mutates only its own fields and
// retries on a conflict against a fresh read.
package status

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

const maxAttempts = 4

// Update applies mutate to so's status and writes it when it changed. On a conflict it reads the
// object again through reader (uncached) and reapplies mutate. so is updated in place to what was
// written.
func Update(ctx context.Context, c client.Client, reader client.Reader, so *kedav1alpha1.ScaledObject, mutate func(*kedav1alpha1.ScaledObjectStatus)) error {
	obj := so.DeepCopy()
	for attempt := 1; ; attempt++ {
		before := obj.Status.DeepCopy()
		mutate(&obj.Status)
		if equality.Semantic.DeepEqual(before, &obj.Status) {
			obj.DeepCopyInto(so)
			return nil
		}
		err := c.Status().Update(ctx, obj)
		if err == nil {
			obj.DeepCopyInto(so)
			return nil
		}
		if apierrors.IsNotFound(err) {
			return nil
		}
		if !apierrors.IsConflict(err) || attempt >= maxAttempts {
			return fmt.Errorf("failed to update status of ScaledObject %s/%s: %w", so.Namespace, so.Name, err)
		}
		obj = &kedav1alpha1.ScaledObject{}
		if err := reader.Get(ctx, client.ObjectKeyFromObject(so), obj); err != nil {
			return client.IgnoreNotFound(err)
		}
	}
}

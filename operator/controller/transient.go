package controller

import (
	"context"
	"errors"
	"net"
	"net/http"
	"syscall"

	vaultapi "github.com/hashicorp/vault/api"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// isTransient reports whether err is a passing failure — the API server, Vault or an event source
// did not answer, timed out or was overloaded — rather than a problem with the spec or the objects
// it names. A transient error is retried with back-off and keeps the object's registration, its
// samples and its failure counts; only a spec error unregisters.
func isTransient(err error) bool {
	if err == nil {
		return false
	}
	var apiStatus apierrors.APIStatus
	if errors.As(err, &apiStatus) {
		code := apiStatus.Status().Code
		return code >= http.StatusInternalServerError || code == http.StatusTooManyRequests ||
			apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) || apierrors.IsTooManyRequests(err)
	}
	var vaultErr *vaultapi.ResponseError
	if errors.As(err, &vaultErr) {
		return vaultErr.StatusCode >= http.StatusInternalServerError || vaultErr.StatusCode == http.StatusTooManyRequests
	}
	if st, ok := status.FromError(err); ok && st.Code() != codes.OK && st.Code() != codes.Unknown {
		switch st.Code() {
		case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
			return true
		}
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}

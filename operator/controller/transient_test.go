package controller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

func TestIsTransient(t *testing.T) {
	secrets := schema.GroupResource{Resource: "secrets"}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"no error", nil, false},
		{"Secret GET timed out", fmt.Errorf("failed to get Secret ns/s: %w", apierrors.NewTimeoutError("slow", 1)), true},
		{"API server overloaded", fmt.Errorf("x: %w", apierrors.NewTooManyRequests("busy", 1)), true},
		{"API server error", fmt.Errorf("x: %w", apierrors.NewInternalError(errors.New("etcd"))), true},
		{"Secret missing", fmt.Errorf("failed to get Secret ns/s: %w", apierrors.NewNotFound(secrets, "s")), false},
		{"Secret forbidden", fmt.Errorf("x: %w", apierrors.NewForbidden(secrets, "s", errors.New("rbac"))), false},
		{"Vault blip", fmt.Errorf("hashiCorpVault: %w", &vaultapi.ResponseError{StatusCode: 503}), true},
		{"Vault permission denied", fmt.Errorf("hashiCorpVault: %w", &vaultapi.ResponseError{StatusCode: 403}), false},
		{"source unreachable", fmt.Errorf("dial: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")}), true},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"external scaler down", fmt.Errorf("GetMetricSpec: %w", status.Error(codes.Unavailable, "connection refused")), true},
		{"external scaler without the service", fmt.Errorf("GetMetricSpec: %w", status.Error(codes.Unimplemented, "no")), false},
		{"bad metadata", errors.New("spec.triggers[0].metadata.listName is required"), false},
	}
	for _, tt := range tests {
		if got := isTransient(tt.err); got != tt.want {
			t.Errorf("%s: isTransient(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestSeenObjectsCountsPerNamespace(t *testing.T) {
	var s seenObjects
	a, b, c := types.NamespacedName{Namespace: "x", Name: "a"}, types.NamespacedName{Namespace: "x", Name: "b"}, types.NamespacedName{Namespace: "y", Name: "c"}
	steps := []struct {
		key    types.NamespacedName
		exists bool
		want   int
	}{{a, true, 1}, {a, true, 1}, {b, true, 2}, {c, true, 1}, {a, false, 1}, {a, false, 1}, {b, false, 0}, {c, true, 1}}
	for i, st := range steps {
		if got := s.set(st.key, st.exists); got != st.want {
			t.Errorf("step %d: set(%s, %v) = %d, want %d", i, st.key, st.exists, got, st.want)
		}
	}
}

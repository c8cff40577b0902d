// Package vault runs a HashiCorp Vault dev server (built by hack/tools.sh vault from the Go module
// proxy) on a free loopback port for tests, with helpers to mount secret engines and configure
// the kubernetes auth method against the local apiserver.
package vault

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/kedactl/kedactl/test/cluster"
	"github.com/kedactl/kedactl/test/servers/internal/proc"
)

// Server is a running Vault dev server: in memory, unsealed, KV version 2 mounted at secret/.
type Server struct {
	// Addr is the address a hashiCorpVault authentication uses (http://127.0.0.1:port).
	Addr string
	// RootToken is the dev server's root token.
	RootToken string

	proc *proc.Process
	dir  string
}

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	// On a fresh machine this waits for Vault's build (make test starts it in the background).
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	s, err := StartProcess(ctx, io.Discard)
	if err != nil {
		t.Fatalf("failed to start vault: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartProcess builds Vault if needed (progress to out) and starts a dev server on a free
// 127.0.0.1 port, waiting until it reports itself initialised and unsealed.
func StartProcess(ctx context.Context, out io.Writer) (*Server, error) {
	dir, err := cluster.ToolDir(ctx, out, "vault")
	if err != nil {
		return nil, err
	}
	port, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "kedactl-vault-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the vault dir: %w", err)
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	s := &Server{Addr: "http://127.0.0.1:" + strconv.Itoa(port), RootToken: "root-" + hex.EncodeToString(b), dir: tmp}
	args := []string{"server", "-dev", "-dev-listen-address=127.0.0.1:" + strconv.Itoa(port), "-dev-root-token-id=" + s.RootToken,
		"-dev-no-store-token"}
	if s.proc, err = proc.Start(filepath.Join(dir, "vault"), args, tmp, "vault", nil); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	client, err := s.Client()
	if err != nil {
		s.Stop()
		return nil, err
	}
	err = s.proc.WaitUntil(ctx, time.Minute, "an unsealed Vault", func(ctx context.Context) error {
		h, err := client.Sys().HealthWithContext(ctx)
		if err != nil {
			return err
		}
		if !h.Initialized || h.Sealed {
			return fmt.Errorf("initialized=%v sealed=%v", h.Initialized, h.Sealed)
		}
		return nil
	})
	if err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Stop stops the server and removes its directory.
func (s *Server) Stop() {
	s.proc.Stop(syscall.SIGTERM)
	os.RemoveAll(s.dir)
}

// Client is a client with the root token.
func (s *Server) Client() (*vaultapi.Client, error) {
	c, err := vaultapi.NewClient(&vaultapi.Config{Address: s.Addr, Timeout: 10 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("failed to create a Vault client: %w", err)
	}
	c.ClearNamespace()
	c.SetToken(s.RootToken)
	return c, nil
}

// Write writes data at path with the root token (a KV put, a policy, a role...).
func (s *Server) Write(ctx context.Context, path string, data map[string]any) error {
	c, err := s.Client()
	if err != nil {
		return err
	}
	if _, err := c.Logical().WriteWithContext(ctx, path, data); err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	return nil
}

// Mount enables a secrets engine (kv, pki...) at path; options such as {"version": "1"}.
func (s *Server) Mount(ctx context.Context, path, typ string, options map[string]string) error {
	c, err := s.Client()
	if err != nil {
		return err
	}
	if err := c.Sys().MountWithContext(ctx, path, &vaultapi.MountInput{Type: typ, Options: options}); err != nil {
		return fmt.Errorf("failed to mount %s at %s: %w", typ, path, err)
	}
	return nil
}

// Policy writes an ACL policy.
func (s *Server) Policy(ctx context.Context, name, hcl string) error {
	c, err := s.Client()
	if err != nil {
		return err
	}
	if err := c.Sys().PutPolicyWithContext(ctx, name, hcl); err != nil {
		return fmt.Errorf("failed to write policy %s: %w", name, err)
	}
	return nil
}

// KubernetesAuth enables the kubernetes auth method at mount, verifying ServiceAccount tokens
// with TokenReview calls to the apiserver at host (CA caPEM) made with reviewerJWT.
func (s *Server) KubernetesAuth(ctx context.Context, mount, host, caPEM, reviewerJWT string) error {
	c, err := s.Client()
	if err != nil {
		return err
	}
	if err := c.Sys().EnableAuthWithOptionsWithContext(ctx, mount, &vaultapi.EnableAuthOptions{Type: "kubernetes"}); err != nil {
		return fmt.Errorf("failed to enable the kubernetes auth method at %s: %w", mount, err)
	}
	return s.Write(ctx, "auth/"+mount+"/config", map[string]any{
		"kubernetes_host": host, "kubernetes_ca_cert": caPEM, "token_reviewer_jwt": reviewerJWT,
		"disable_local_ca_jwt": true,
	})
}

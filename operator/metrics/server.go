package metrics

import (
	"context"
	"fmt"
	"net"

	"github.com/spf13/pflag"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/cmd"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

// ServerOptions configures the external metrics API server.
type ServerOptions struct {
	// BindAddress and Port are where the server listens (the APIService's Service points there).
	BindAddress string
	Port        int
	// CertFile and KeyFile are the serving certificate; when empty a self-signed one is made in
	// CertDir.
	CertFile string
	KeyFile  string
	CertDir  string
	// Kubeconfig is used for delegated authentication and authorization; empty means in-cluster.
	Kubeconfig string
}

// Server is the external metrics API server as a manager.Runnable.
type Server struct {
	adapter *cmd.AdapterBase
}

// NewServer prepares an external metrics server answering from p.
func NewServer(opts ServerOptions, p provider.ExternalMetricsProvider) (*Server, error) {
	adapter := &cmd.AdapterBase{Name: "keda-adapter", FlagSet: pflag.NewFlagSet("metrics-server", pflag.ContinueOnError)}
	adapter.InstallFlags()
	o := adapter.CustomMetricsAdapterServerOptions
	if opts.BindAddress != "" {
		o.SecureServing.BindAddress = net.ParseIP(opts.BindAddress)
		if o.SecureServing.BindAddress == nil {
			return nil, fmt.Errorf("metrics server bind address %q is not an IP address", opts.BindAddress)
		}
	}
	o.SecureServing.BindPort = opts.Port
	o.SecureServing.ServerCert.CertKey.CertFile = opts.CertFile
	o.SecureServing.ServerCert.CertKey.KeyFile = opts.KeyFile
	if opts.CertDir != "" {
		o.SecureServing.ServerCert.CertDirectory = opts.CertDir
	}
	o.Authentication.RemoteKubeConfigFile = opts.Kubeconfig
	o.Authorization.RemoteKubeConfigFile = opts.Kubeconfig
	adapter.RemoteKubeConfigFile = opts.Kubeconfig
	adapter.WithExternalMetrics(p)
	if _, err := adapter.Server(); err != nil {
		return nil, fmt.Errorf("failed to set up the external metrics server: %w", err)
	}
	return &Server{adapter: adapter}, nil
}

// Start serves until ctx ends.
func (s *Server) Start(ctx context.Context) error {
	if err := s.adapter.Run(ctx); err != nil {
		return fmt.Errorf("external metrics server: %w", err)
	}
	return nil
}

// NeedLeaderElection is false: every replica answers the HPA.
func (s *Server) NeedLeaderElection() bool { return false }

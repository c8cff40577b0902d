package metrics

import (
	"context"
	"fmt"
	"net"

	"github.com/spf13/pflag"
	genericapiserver "k8s.io/apiserver/pkg/server"
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

// Group is another API group served by the same server, beside external.metrics.k8s.io.
type Group struct {
	// PathPrefix is where it is served (/apis/<group>): the server's OpenAPI documents skip it,
	// so a group that is read and never applied needs no OpenAPI models.
	PathPrefix string
	// Install installs it on the server.
	Install func(*genericapiserver.GenericAPIServer) error
}

// NewServer prepares an external metrics server answering from p, serving groups too.
func NewServer(opts ServerOptions, p provider.ExternalMetricsProvider, groups ...Group) (*Server, error) {
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
	if len(groups) > 0 {
		// Config fills in the adapter's OpenAPI configs and hands the server the same pointers:
		// the prefixes added here reach it.
		if _, err := adapter.Config(); err != nil {
			return nil, fmt.Errorf("failed to configure the external metrics server: %w", err)
		}
		for _, g := range groups {
			adapter.OpenAPIConfig.IgnorePrefixes = append(adapter.OpenAPIConfig.IgnorePrefixes, g.PathPrefix)
			adapter.OpenAPIV3Config.IgnorePrefixes = append(adapter.OpenAPIV3Config.IgnorePrefixes, g.PathPrefix)
		}
	}
	server, err := adapter.Server()
	if err != nil {
		return nil, fmt.Errorf("failed to set up the external metrics server: %w", err)
	}
	for _, g := range groups {
		if err := g.Install(server.GenericAPIServer); err != nil {
			return nil, err
		}
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

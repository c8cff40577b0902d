package peer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
	"github.com/kedactl/kedactl/operator/history"
)

// ServerOptions configures a Server.
type ServerOptions struct {
	// Address is where it listens (host:port).
	Address string
	// Certificate is the serving certificate, also the one peers must present.
	Certificate CertificateSource
	// Metrics answers forwarded requests from this replica's own state.
	Metrics provider.ExternalMetricsProvider
	// History answers forwarded history reads from this replica's own store; nil answers none.
	History HistoryStore
	Log     logr.Logger
}

// Server is the peer endpoint as a manager.Runnable.
type Server struct {
	opts ServerOptions
}

// NewServer returns a Server; Start serves.
func NewServer(opts ServerOptions) *Server { return &Server{opts: opts} }

// NeedLeaderElection is false: every replica must be reachable by its peers.
func (s *Server) NeedLeaderElection() bool { return false }

// TLSConfig is the server side: our certificate, and the peer's must carry the same key.
func serverTLS(cert CertificateSource) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cert() },
		ClientAuth:     tls.RequireAnyClientCert,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			return samePublicKey(cert, raw)
		},
	}
}

// Handler serves the peer API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(pathPing, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc(pathExternalMetric, s.externalMetric)
	mux.HandleFunc(pathHistory, s.history)
	return mux
}

// history answers GET /peer/v1/history/<scaledobjects|scaledjobs>/<namespace>/<name> from this
// replica's own store.
func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, pathHistory), "/")
	if r.Method != http.MethodGet || len(parts) != 3 || parts[1] == "" || parts[2] == "" {
		writeStatus(w, apierrors.NewBadRequest("expected GET "+pathHistory+"<scaledobjects|scaledjobs>/<namespace>/<name>"))
		return
	}
	kind, ok := historyKinds[parts[0]]
	if !ok || s.opts.History == nil {
		writeStatus(w, apierrors.NewBadRequest(fmt.Sprintf("no history of %q: expected scaledobjects or scaledjobs", parts[0])))
		return
	}
	h, found := s.opts.History.History(history.Key{Kind: kind, NamespacedName: types.NamespacedName{Namespace: parts[1], Name: parts[2]}})
	if !found {
		writeStatus(w, apierrors.NewNotFound(schema.GroupResource{Group: historyv1alpha1.GroupName, Resource: parts[0]}, parts[2]))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(h)
}

// externalMetric answers GET /peer/v1/external-metrics/<namespace>/<metric>?labelSelector=...
// from this replica's own state, never forwarding again.
func (s *Server) externalMetric(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, pathExternalMetric), "/")
	if r.Method != http.MethodGet || len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		writeStatus(w, apierrors.NewBadRequest("expected GET "+pathExternalMetric+"<namespace>/<metric>?labelSelector=..."))
		return
	}
	selector, err := labels.Parse(r.URL.Query().Get("labelSelector"))
	if err != nil {
		writeStatus(w, apierrors.NewBadRequest(fmt.Sprintf("labelSelector: %v", err)))
		return
	}
	list, err := s.opts.Metrics.GetExternalMetric(r.Context(), parts[0], selector, provider.ExternalMetricInfo{Metric: parts[1]})
	if err != nil {
		writeStatus(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(list)
}

func writeStatus(w http.ResponseWriter, err error) {
	var st apierrors.APIStatus
	status := metav1.Status{Status: metav1.StatusFailure, Code: http.StatusInternalServerError, Message: err.Error()}
	if errors.As(err, &st) {
		status = st.Status()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(status.Code))
	_ = json.NewEncoder(w).Encode(status)
}

// Start serves until ctx ends.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Address)
	if err != nil {
		return fmt.Errorf("failed to listen for peers on %s: %w", s.opts.Address, err)
	}
	srv := &http.Server{Handler: s.Handler(), TLSConfig: serverTLS(s.opts.Certificate), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	s.opts.Log.Info("serving peers", "address", ln.Addr().String())
	if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("peer endpoint on %s: %w", s.opts.Address, err)
	}
	return nil
}

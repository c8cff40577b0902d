package peer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/metrics/pkg/apis/external_metrics"

	"github.com/kedactl/kedactl/operator/membership"
)

// Client calls peers' endpoints.
type Client struct {
	http *http.Client
}

// NewClient returns a client that presents cert and trusts only peers serving the same key, and
// gives up on a request after timeout.
func NewClient(cert CertificateSource, timeout time.Duration) *Client {
	tlsConfig := &tls.Config{
		MinVersion:           tls.VersionTLS12,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert() },
		// Peers are reached at their pod IPs, which the certificate does not name: the peer is
		// verified by its key instead (VerifyPeerCertificate), not by name.
		InsecureSkipVerify: true, //nolint:gosec // verified by VerifyPeerCertificate below
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			return samePublicKey(cert, raw)
		},
	}
	transport := &http.Transport{TLSClientConfig: tlsConfig, MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true}
	return &Client{http: &http.Client{Transport: transport, Timeout: timeout}}
}

// Ping checks that m's peer endpoint answers.
func (c *Client) Ping(ctx context.Context, m membership.Member) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+m.Address+pathPing, nil)
	if err != nil {
		return fmt.Errorf("failed to build the ping of replica %s: %w", m.ID, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("replica %s answered the ping with %s", m.ID, resp.Status)
	}
	return nil
}

// ExternalMetric asks m for a metric as the HPA asked this replica. An error the owner answered
// comes back as the same API status; one reaching it names it.
func (c *Client) ExternalMetric(ctx context.Context, m membership.Member, namespace, metric string, selector labels.Selector) (*external_metrics.ExternalMetricValueList, error) {
	u := url.URL{Scheme: "https", Host: m.Address, Path: pathExternalMetric + url.PathEscape(namespace) + "/" + url.PathEscape(metric),
		RawQuery: url.Values{"labelSelector": {selector.String()}}.Encode()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("failed to build the request to replica %s: %w", m.ID, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("metric %s in %s: the owning replica %s at %s is unreachable: %v", metric, namespace, m.ID, m.Address, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("metric %s in %s: failed to read the answer of the owning replica %s: %v", metric, namespace, m.ID, err))
	}
	if resp.StatusCode != http.StatusOK {
		var st metav1.Status
		if err := json.Unmarshal(body, &st); err != nil || st.Code == 0 {
			return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("metric %s in %s: the owning replica %s answered %s", metric, namespace, m.ID, resp.Status))
		}
		return nil, &apierrors.StatusError{ErrStatus: st}
	}
	list := &external_metrics.ExternalMetricValueList{}
	if err := json.Unmarshal(body, list); err != nil {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("metric %s in %s: failed to decode the answer of the owning replica %s: %v", metric, namespace, m.ID, err))
	}
	return list, nil
}

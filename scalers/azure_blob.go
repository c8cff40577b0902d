package scalers

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gobwas/glob"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"

	"github.com/kedactl/kedactl/scalers/meta"
)

// The azure-blob trigger counts the blobs of a container, through List Blobs:
//
//	GET /{container}?restype=container&comp=list&prefix=...&delimiter=...&marker=...
//
// With a delimiter (blobDelimiter, "/" unless recursive) only the blobs directly under blobPrefix
// count, not the virtual directories; with globPattern every blob under blobPrefix is listed and
// those whose name matches count. Pages are followed through NextMarker.

// azureBlobPageSize is the maxresults of one page: a thousand blobs stay well under
// maxResponseBytes even with long names.
const azureBlobPageSize = 1000

// azureBlobMaxPages bounds one count (a hundred million blobs), so that a server whose
// NextMarker never ends cannot hold a poll.
const azureBlobMaxPages = 100000

// azureBlobMetadata is the azure-blob trigger's metadata, with KEDA's parameter names.
type azureBlobMetadata struct {
	BlobContainerName   string `keda:"name=blobContainerName, order=triggerMetadata"`
	BlobCount           int64  `keda:"name=blobCount, order=triggerMetadata, default=5"`
	ActivationBlobCount int64  `keda:"name=activationBlobCount, order=triggerMetadata, default=0"`
	BlobDelimiter       string `keda:"name=blobDelimiter, order=triggerMetadata, default=/"`
	BlobPrefix          string `keda:"name=blobPrefix, order=triggerMetadata, optional"`
	Recursive           bool   `keda:"name=recursive, order=triggerMetadata, default=false"`
	GlobPattern         string `keda:"name=globPattern, order=triggerMetadata, optional"`
	Connection          string `keda:"name=connection, order=authParams;resolvedEnv;triggerMetadata, optional, secret"`
	// KEDA declares connectionFromEnv as a second name of connection: a TriggerAuthentication
	// parameter of that name holds the string too.
	ConnectionFromEnv string `keda:"name=connectionFromEnv, order=authParams;resolvedEnv;triggerMetadata, optional, secret"`
	azureConnectionParams

	// Set by Validate and ValidateConfig.
	prefix  string
	pattern *glob.Pattern
	account *azureStorageAccount
}

// Validate checks what the metadata alone decides and derives the listing's prefix and
// delimiter as KEDA does: recursive drops the delimiter, and a prefix ends with the delimiter.
func (m *azureBlobMetadata) Validate() error {
	if m.BlobCount < 1 {
		// KEDA takes any number, but the HPA refuses a target that is not above 0.
		return &ParamError{Param: "blobCount", Problem: fmt.Sprintf("is %d", m.BlobCount), Fix: "must be at least 1: it is the number of blobs per replica the HPA aims at"}
	}
	if m.Recursive {
		m.BlobDelimiter = ""
	}
	if m.GlobPattern != "" {
		// Blob names never start with "/": a path-style pattern would match nothing.
		g, err := glob.Compile(strings.TrimPrefix(m.GlobPattern, "/"))
		if err != nil {
			return &ParamError{Param: "globPattern", Problem: "is not a glob pattern (" + clip(err.Error(), 120) + ")",
				Fix: "use *, ?, [abc], [!abc], {a,b} and ** as in *.json or data/**/input-?.csv"}
		}
		m.pattern = g
	}
	m.prefix = m.BlobPrefix
	if m.prefix != "" && m.BlobDelimiter != "" {
		m.prefix += m.BlobDelimiter
	}
	return nil
}

// ValidateConfig checks metadata.cloud and the connection string.
func (m *azureBlobMetadata) ValidateConfig(cfg *meta.Trigger) error {
	conn := m.Connection
	// Read from the metadata, connectionFromEnv is the name of an env var, never a connection
	// string.
	if conn == "" && m.ConnectionFromEnv != strings.TrimSpace(cfg.Metadata["connectionFromEnv"]) {
		conn = m.ConnectionFromEnv
	}
	var err error
	m.account, err = azureStorageAccountFor(cfg, conn, &m.azureConnectionParams, azureBlobService)
	return err
}

// azureBlobScaler counts one container's blobs on each poll.
type azureBlobScaler struct {
	azureStorageTrigger
	meta azureBlobMetadata
}

func newAzureBlobScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &azureBlobScaler{}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	t, err := newAzureStorageTrigger(cfg, s.meta.account, "azure-blob-"+s.meta.BlobContainerName)
	if err != nil {
		return nil, err
	}
	s.azureStorageTrigger = t
	return s, nil
}

func (s *azureBlobScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, float64(s.meta.BlobCount))
}

// GetMetricsAndActivity counts the blobs; the trigger is active above activationBlobCount.
func (s *azureBlobScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	n, err := s.count(ctx)
	if err != nil {
		return nil, false, err
	}
	return oneMetricValue(metricName, float64(n)), n > s.meta.ActivationBlobCount, nil
}

// count lists the container page by page.
func (s *azureBlobScaler) count(ctx context.Context) (int64, error) {
	what := "container " + strconv.Quote(s.meta.BlobContainerName) + " (metadata.blobContainerName)"
	q := url.Values{"restype": {"container"}, "comp": {"list"}, "maxresults": {strconv.Itoa(azureBlobPageSize)}}
	if s.meta.prefix != "" {
		q.Set("prefix", s.meta.prefix)
	}
	// A glob pattern is matched against every name under the prefix, so the listing is flat.
	if s.meta.pattern == nil && s.meta.BlobDelimiter != "" {
		q.Set("delimiter", s.meta.BlobDelimiter)
	}
	var n int64
	marker := ""
	for range azureBlobMaxPages {
		if marker != "" {
			q.Set("marker", marker)
		}
		u := s.client.account.resource(q, s.meta.BlobContainerName)
		_, body, err := s.client.get(ctx, u, what)
		if err != nil {
			return 0, err
		}
		page, err := parseAzureBlobList(body)
		if err != nil {
			return 0, s.client.fail(u, fmt.Errorf("the answer is not a blob listing (%w): check the blob endpoint of the connection string", err))
		}
		for _, name := range page.names {
			if s.meta.pattern == nil || s.meta.pattern.Match(name) {
				n++
			}
		}
		if page.next == "" {
			return n, nil
		}
		if page.next == marker {
			return 0, s.client.fail(u, errors.New("the listing's NextMarker repeats the marker of the request: the server does not page as Azure Storage does"))
		}
		marker = page.next
	}
	return 0, fmt.Errorf("%s: %s has more than %d pages of %d blobs: narrow the count with metadata.blobPrefix", triggerWho(s.cfg), what, azureBlobMaxPages, azureBlobPageSize)
}

// azureBlobPage is one page of List Blobs: the blobs' names (virtual directories left out) and
// the marker of the next page, empty on the last.
type azureBlobPage struct {
	names []string
	next  string
}

// parseAzureBlobList reads a List Blobs answer.
func parseAzureBlobList(body []byte) (azureBlobPage, error) {
	var list struct {
		XMLName xml.Name `xml:"EnumerationResults"`
		Blobs   struct {
			Blob []struct {
				Name string `xml:"Name"`
			} `xml:"Blob"`
		} `xml:"Blobs"`
		NextMarker string `xml:"NextMarker"`
	}
	if err := xml.Unmarshal(body, &list); err != nil {
		return azureBlobPage{}, errors.New(clip(err.Error(), 120))
	}
	page := azureBlobPage{next: strings.TrimSpace(list.NextMarker), names: make([]string, 0, len(list.Blobs.Blob))}
	for _, b := range list.Blobs.Blob {
		page.names = append(page.names, b.Name)
	}
	return page, nil
}

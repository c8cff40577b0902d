package scalers

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
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

// azureBlobScaler counts one container's blobs on each poll.
type azureBlobScaler struct {
	azureStorageTrigger
	meta meta.AzureBlobMetadata
}

func newAzureBlobScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &azureBlobScaler{}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	t, err := newAzureStorageTrigger(cfg, s.meta.Account, "azure-blob-"+s.meta.BlobContainerName)
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
	if s.meta.Prefix != "" {
		q.Set("prefix", s.meta.Prefix)
	}
	// A glob pattern is matched against every name under the prefix, so the listing is flat.
	if s.meta.Pattern == nil && s.meta.BlobDelimiter != "" {
		q.Set("delimiter", s.meta.BlobDelimiter)
	}
	var n int64
	marker := ""
	for range azureBlobMaxPages {
		if marker != "" {
			q.Set("marker", marker)
		}
		u := s.client.account.Resource(q, s.meta.BlobContainerName)
		_, body, err := s.client.get(ctx, u, what)
		if err != nil {
			return 0, err
		}
		page, err := parseAzureBlobList(body)
		if err != nil {
			return 0, s.client.fail(u, fmt.Errorf("the answer is not a blob listing (%w): check the blob endpoint of the connection string", err))
		}
		for _, name := range page.names {
			if s.meta.Pattern == nil || s.meta.Pattern.Match(name) {
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
		return azureBlobPage{}, errors.New(meta.Clip(err.Error(), 120))
	}
	page := azureBlobPage{next: strings.TrimSpace(list.NextMarker), names: make([]string, 0, len(list.Blobs.Blob))}
	for _, b := range list.Blobs.Blob {
		page.names = append(page.names, b.Name)
	}
	return page, nil
}

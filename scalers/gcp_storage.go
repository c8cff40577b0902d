package scalers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The gcp-storage trigger counts the objects of a bucket under a prefix, through the JSON API's
// objects.list:
//
//	GET {endpoint}/storage/v1/b/{bucket}/o?prefix=...&delimiter=...&maxResults=...&pageToken=...
//
// following nextPageToken until maxBucketItemsToScan objects are counted or the listing ends.
// As in KEDA, objects of size 0 (the placeholders consoles create for "folders") do not count,
// nor do the prefixes a delimiter rolls names up into. A small client of our own rather than
// cloud.google.com/go/storage keeps one GET per page on the shared HTTP transport.

const (
	// gcsDefaultEndpoint is Cloud Storage's JSON API.
	gcsDefaultEndpoint = "https://storage.googleapis.com"
	// gcsEmulatorEnv names the operator's environment variable that points every gcp-storage
	// trigger at an emulator (host:port or a URL), without authentication. It is the variable
	// Google's storage clients read for the same purpose, so an operator set up for KEDA with
	// an emulator behaves the same here.
	gcsEmulatorEnv = "STORAGE_EMULATOR_HOST"
	// gcsReadScope is the OAuth scope of the trigger's tokens: listing objects needs no more.
	gcsReadScope = "https://www.googleapis.com/auth/devstorage.read_only"
	// gcsPageSize is the most objects one page asks for (the API's default and maximum).
	gcsPageSize = 1000
	// gcsMaxPages bounds one count, so that a server whose page tokens never end cannot hold a
	// poll: with maxBucketItemsToScan below a billion, pages of only empty objects are the only
	// way to get there.
	gcsMaxPages = 100000
)

// gcsEndpoint is the JSON API's address: Cloud Storage's, or the emulator's that emulatorHost
// (the operator's STORAGE_EMULATOR_HOST) names, as host:port (http) or a URL.
func gcsEndpoint(emulatorHost string) (endpoint *url.URL, emulator bool, err error) {
	raw := strings.TrimSpace(emulatorHost)
	if raw == "" {
		endpoint, err = url.Parse(gcsDefaultEndpoint)
		return endpoint, false, err
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, true, fmt.Errorf("the operator's environment variable %s is not host:port or an http(s) URL: unset it, or set it to the emulator's address such as 127.0.0.1:4443", gcsEmulatorEnv)
	}
	u.Path, u.RawPath = strings.TrimRight(u.Path, "/"), ""
	return u, true, nil
}

// gcsObjectsURL is the objects.list request of one page.
func gcsObjectsURL(endpoint *url.URL, bucket, prefix, delimiter string, maxResults int64, pageToken string) *url.URL {
	u := *endpoint
	u.RawPath = strings.TrimRight(endpoint.EscapedPath(), "/") + "/storage/v1/b/" + url.PathEscape(bucket) + "/o"
	u.Path, _ = url.PathUnescape(u.RawPath)
	q := url.Values{"maxResults": {strconv.FormatInt(maxResults, 10)}, "projection": {"noAcl"},
		// Only what the count reads: the sizes and the next page.
		"fields": {"nextPageToken,items(size)"}}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	if delimiter != "" {
		q.Set("delimiter", delimiter)
	}
	if pageToken != "" {
		q.Set("pageToken", pageToken)
	}
	u.RawQuery = q.Encode()
	return &u
}

// gcsPage is what one page of objects.list says: the sizes of its objects, in order, and the
// token of the next page (empty on the last).
type gcsPage struct {
	sizes []uint64
	next  string
}

// parseGCSObjectList reads a 2xx answer of objects.list. The API writes an object's size as a
// string holding a uint64; a number is taken too.
func parseGCSObjectList(body []byte) (gcsPage, error) {
	var list struct {
		Kind  string `json:"kind"`
		Items []struct {
			Size json.RawMessage `json:"size"`
		} `json:"items"`
		NextPageToken string `json:"nextPageToken"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return gcsPage{}, errors.New("the answer is not an objects.list result of Cloud Storage's JSON API")
	}
	page := gcsPage{next: list.NextPageToken, sizes: make([]uint64, 0, len(list.Items))}
	for i, item := range list.Items {
		size, err := gcsObjectSize(item.Size)
		if err != nil {
			return gcsPage{}, fmt.Errorf("object %d of the page has size %s, which is not a byte count", i, meta.Clip(string(item.Size), 40))
		}
		page.sizes = append(page.sizes, size)
	}
	return page, nil
}

// gcsObjectSize reads an object's size: a decimal string or number, absent for 0.
func gcsObjectSize(raw json.RawMessage) (uint64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	text := string(raw)
	if strings.HasPrefix(text, `"`) {
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, err
		}
	}
	return strconv.ParseUint(text, 10, 64)
}

// gcsCountPage adds to count the objects of a page that count (size above 0), stopping at
// limit, and reports the new count.
func gcsCountPage(count, limit int64, sizes []uint64) int64 {
	for _, size := range sizes {
		if count >= limit {
			break
		}
		if size > 0 {
			count++
		}
	}
	return count
}

// gcsError is the JSON API's error body: {"error":{"code":403,"message":"..."}}.
type gcsError struct {
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// gcpStorageScaler counts one bucket's objects on each poll.
type gcpStorageScaler struct {
	cfg        *Config
	meta       meta.GCPStorageMetadata
	client     *httpClient
	endpoint   *url.URL
	metricName string
	// tokens are the service account's access tokens; nil with an emulator, which Google's
	// clients reach without authentication.
	tokens *gcpTokens
}

func newGCPStorageScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &gcpStorageScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	if s.meta.Creds == nil {
		return nil, gcpNoCredentials(cfg)
	}
	s.metricName = MetricName(cfg.TriggerIndex, "gcp-storage-"+s.meta.BucketName)
	endpoint, emulator, err := gcsEndpoint(os.Getenv(gcsEmulatorEnv))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", triggerWho(cfg), err)
	}
	s.endpoint = endpoint
	// The transport is the one every HTTP trigger without TLS options shares; the token is the
	// trigger's own header.
	s.client = newHTTPClient(cfg, &meta.HTTPAuthParams{}, &meta.HTTPAuth{}, "bucketName", endpoint, 0, false)
	if emulator {
		// As with Google's clients, an emulator is reached without authentication: the key is
		// required (KEDA requires one) but neither read nor checked.
		return s, nil
	}
	tokens, err := newGCPTokens(cfg, s.meta.Creds, gcsReadScope, s.client)
	if err != nil {
		s.client.close()
		return nil, err
	}
	s.tokens = tokens
	return s, nil
}

func (s *gcpStorageScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, float64(s.meta.TargetObjectCount))
}

// GetMetricsAndActivity counts the objects, up to maxBucketItemsToScan; the trigger is active
// above activationTargetObjectCount.
func (s *gcpStorageScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	n, err := s.count(ctx)
	if err != nil {
		return nil, false, err
	}
	return oneMetricValue(metricName, float64(n)), n > s.meta.ActivationTargetObjectCount, nil
}

func (s *gcpStorageScaler) Close(context.Context) error {
	if s.tokens != nil {
		s.tokens.close()
	}
	s.client.close()
	return nil
}

// count lists the bucket page by page.
func (s *gcpStorageScaler) count(ctx context.Context) (int64, error) {
	limit := s.meta.MaxBucketItemsToScan
	var count int64
	token := ""
	for range gcsMaxPages {
		u := gcsObjectsURL(s.endpoint, s.meta.BucketName, s.meta.BlobPrefix, s.meta.BlobDelimiter, min(gcsPageSize, limit-count), token)
		header := http.Header{"Accept": {"application/json"}}
		if s.tokens != nil {
			tok, err := s.tokens.token(s.cfg, s.client)
			if err != nil {
				return 0, err
			}
			header.Set("Authorization", "Bearer "+tok)
		}
		status, body, err := s.get(ctx, u, header)
		if err != nil {
			return 0, err
		}
		if status == http.StatusNotFound {
			// The bucket does not exist: KEDA counts nothing rather than failing.
			return 0, nil
		}
		if status < 200 || status > 299 {
			return 0, s.client.fail(u, s.statusError(status, body))
		}
		page, err := parseGCSObjectList(body)
		if err != nil {
			return 0, s.client.fail(u, fmt.Errorf("%w: check the operator's %s, if set", err, gcsEmulatorEnv))
		}
		if token != "" && page.next == token {
			// Counted again, the same page would pass for more objects.
			return 0, s.client.fail(u, errors.New("the listing's nextPageToken repeats the pageToken of the request: the server does not page as Cloud Storage does"))
		}
		count = gcsCountPage(count, limit, page.sizes)
		if count >= limit || page.next == "" {
			return count, nil
		}
		token = page.next
	}
	return 0, fmt.Errorf("%s: bucket %q has more than %d pages of objects under the prefix: narrow the count with metadata.blobPrefix", triggerWho(s.cfg), s.meta.BucketName, gcsMaxPages)
}

// get makes one request and returns the answer's status and body, read up to
// maxResponseBytes. Errors name the trigger and the request, and what to check.
func (s *gcpStorageScaler) get(ctx context.Context, u *url.URL, header http.Header) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.client.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, nil, s.client.fail(u, fmt.Errorf("could not build the request: %w", err))
	}
	req.Header = header
	resp, err := s.client.client.Do(req)
	if err != nil {
		return 0, nil, s.client.fail(u, s.transportError(ctx, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return 0, nil, s.client.fail(u, s.transportError(ctx, err))
	}
	if len(body) > maxResponseBytes {
		return 0, nil, s.client.fail(u, fmt.Errorf("the answer is larger than %d MiB, which no page of objects.list is: check the operator's %s, if set", maxResponseBytes>>20, gcsEmulatorEnv))
	}
	return resp.StatusCode, body, nil
}

// transportError words a failure to get an answer: the address is Cloud Storage's (or the
// emulator's), not a parameter of the trigger.
func (s *gcpStorageScaler) transportError(ctx context.Context, err error) error {
	where := "Cloud Storage"
	if s.tokens == nil {
		where = "the emulator the operator's " + gcsEmulatorEnv + " names"
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || isNetTimeout(err) {
		return fmt.Errorf("no answer from %s within %s: check that the operator can reach it: %w", where, s.client.timeout, err)
	}
	return fmt.Errorf("could not reach %s: check that the operator can reach it: %w", where, err)
}

// statusError words an answer outside 2xx with Cloud Storage's message and what to check.
func (s *gcpStorageScaler) statusError(status int, body []byte) error {
	err := fmt.Errorf("Cloud Storage answered %d %s", status, http.StatusText(status)) //nolint:staticcheck // Cloud Storage is a name
	var e gcsError
	if json.Unmarshal(body, &e) == nil && e.Error != nil && e.Error.Message != "" {
		err = fmt.Errorf("%w (%s)", err, meta.Quote(strings.Join(strings.Fields(e.Error.Message), " "), 200))
	} else if snippet := strings.Join(strings.Fields(string(body)), " "); snippet != "" {
		err = fmt.Errorf("%w (answer: %s)", err, meta.Clip(snippet, 200))
	}
	switch status {
	case http.StatusUnauthorized:
		return fmt.Errorf("%w: the token was refused: check the service account key in %s", err, s.source())
	case http.StatusForbidden:
		who := "the service account"
		if s.tokens != nil {
			who = "service account " + s.tokens.sa.ClientEmail
		}
		return fmt.Errorf("%w: grant %s a role that may list the objects of bucket %s (roles/storage.objectViewer)", err, who, s.meta.BucketName)
	case http.StatusBadRequest:
		return fmt.Errorf("%w: check metadata.bucketName, metadata.blobPrefix and metadata.blobDelimiter", err)
	}
	return err
}

// source names where the key came from.
func (s *gcpStorageScaler) source() string {
	if s.meta.Creds == nil {
		return "the TriggerAuthentication"
	}
	return s.meta.Creds.From
}

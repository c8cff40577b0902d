// Package azurite runs Azurite, Microsoft's Azure Storage emulator (installed from npm by
// hack/tools.sh azurite), on free loopback ports for tests: its blob and queue services, keeping
// their data in a temp dir, with a storage account of the server's own (a random key, through
// AZURITE_ACCOUNTS), and a small client that creates queues and containers and puts, hides and removes messages and
// blobs the way producers and workers do. Its requests are signed by its own SharedKey code, so
// that the scalers' signing is checked against the emulator rather than against itself.
package azurite

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kedactl/kedactl/test/cluster"
	"github.com/kedactl/kedactl/test/servers/internal/proc"
)

// readyTimeout bounds the wait for a started server to answer.
const readyTimeout = time.Minute

// Server is a running Azurite with one storage account.
type Server struct {
	// Account and Key are the storage account's name and base64 key.
	Account, Key string
	// BlobEndpoint and QueueEndpoint are the services' URLs, path-style
	// (http://127.0.0.1:port/account), as an emulator's connection string names them.
	BlobEndpoint, QueueEndpoint string

	proc   *proc.Process
	dir    string
	client *http.Client
}

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return proc.ForTest(t, "azurite", StartProcess)
}

// StartProcess installs Azurite if needed (hack/tools.sh azurite) and starts its blob and queue
// services on free 127.0.0.1 ports, waiting until both answer a signed request.
func StartProcess(ctx context.Context) (*Server, error) {
	tools, err := cluster.ToolDir(ctx, io.Discard, "azurite")
	if err != nil {
		return nil, err
	}
	node := filepath.Join(tools, "node_modules", ".bin", "azurite")
	dir, err := os.MkdirTemp("", "kedactl-azurite-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the azurite dir: %w", err)
	}
	var ports [3]int
	for i := range ports {
		if ports[i], err = proc.FreePort(); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	key := make([]byte, 64)
	_, _ = rand.Read(key)
	name := make([]byte, 4)
	_, _ = rand.Read(name)
	s := &Server{Account: "kedactl" + hex.EncodeToString(name), Key: base64.StdEncoding.EncodeToString(key), dir: dir,
		client: &http.Client{Timeout: 10 * time.Second}}
	s.BlobEndpoint = fmt.Sprintf("http://127.0.0.1:%d/%s", ports[0], s.Account)
	s.QueueEndpoint = fmt.Sprintf("http://127.0.0.1:%d/%s", ports[1], s.Account)
	// env passes the account through the environment, as Azurite reads it; the table service
	// gets a port of its own so that it never collides with another test's server.
	args := []string{"AZURITE_ACCOUNTS=" + s.Account + ":" + s.Key, node,
		"--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(ports[0]),
		"--queueHost", "127.0.0.1", "--queuePort", strconv.Itoa(ports[1]),
		"--tableHost", "127.0.0.1", "--tablePort", strconv.Itoa(ports[2]),
		"--location", dir, "--skipApiVersionCheck", "--loose", "--disableTelemetry", "--silent"}
	if s.proc, err = proc.Start("/usr/bin/env", args, dir, "azurite", nil); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := s.proc.WaitUntil(ctx, readyTimeout, "answer on "+s.BlobEndpoint+" and "+s.QueueEndpoint, func(ctx context.Context) error {
		if _, err := s.do(ctx, http.MethodGet, s.BlobEndpoint+"/?comp=list", nil, nil); err != nil {
			return err
		}
		_, err := s.do(ctx, http.MethodGet, s.QueueEndpoint+"/?comp=list", nil, nil)
		return err
	}); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Stop stops the server and removes its dir.
func (s *Server) Stop() {
	if s.proc != nil {
		s.proc.Stop(syscall.SIGTERM)
	}
	_ = os.RemoveAll(s.dir)
}

// ConnectionString is the account's connection string, with the emulator's endpoints.
func (s *Server) ConnectionString() string {
	return "DefaultEndpointsProtocol=http;AccountName=" + s.Account + ";AccountKey=" + s.Key +
		";BlobEndpoint=" + s.BlobEndpoint + ";QueueEndpoint=" + s.QueueEndpoint + ";"
}

// CreateQueue creates queue.
func (s *Server) CreateQueue(ctx context.Context, queue string) error {
	_, err := s.do(ctx, http.MethodPut, s.QueueEndpoint+"/"+queue, nil, nil)
	return err
}

// PutMessages puts n messages into queue.
func (s *Server) PutMessages(ctx context.Context, queue string, n int) error {
	for i := range n {
		text := base64.StdEncoding.EncodeToString([]byte("message-" + strconv.Itoa(i)))
		body := []byte("<QueueMessage><MessageText>" + text + "</MessageText></QueueMessage>")
		if _, err := s.do(ctx, http.MethodPost, s.QueueEndpoint+"/"+queue+"/messages", body, nil); err != nil {
			return err
		}
	}
	return nil
}

// Hide receives n messages of queue as a worker does, making them invisible for visibility; they
// still count in the queue's approximate message count.
func (s *Server) Hide(ctx context.Context, queue string, n int, visibility time.Duration) error {
	for n > 0 {
		batch := min(n, 32)
		u := fmt.Sprintf("%s/%s/messages?numofmessages=%d&visibilitytimeout=%d", s.QueueEndpoint, queue, batch, int(visibility/time.Second))
		body, err := s.do(ctx, http.MethodGet, u, nil, nil)
		if err != nil {
			return err
		}
		var list struct {
			Messages []struct{} `xml:"QueueMessage"`
		}
		if err := xml.Unmarshal(body, &list); err != nil {
			return fmt.Errorf("azurite answered a receive with %q: %w", body, err)
		}
		if len(list.Messages) == 0 {
			return fmt.Errorf("queue %s has no more visible messages to hide (%d left to hide)", queue, n)
		}
		n -= len(list.Messages)
	}
	return nil
}

// ClearMessages removes every message of queue.
func (s *Server) ClearMessages(ctx context.Context, queue string) error {
	_, err := s.do(ctx, http.MethodDelete, s.QueueEndpoint+"/"+queue+"/messages", nil, nil)
	return err
}

// CreateContainer creates container.
func (s *Server) CreateContainer(ctx context.Context, container string) error {
	_, err := s.do(ctx, http.MethodPut, s.BlobEndpoint+"/"+container+"?restype=container", nil, nil)
	return err
}

// PutBlobs uploads a small block blob under each name.
func (s *Server) PutBlobs(ctx context.Context, container string, names ...string) error {
	for _, name := range names {
		h := http.Header{"X-Ms-Blob-Type": {"BlockBlob"}, "Content-Type": {"text/plain"}}
		if _, err := s.do(ctx, http.MethodPut, s.BlobEndpoint+"/"+container+"/"+escapePath(name), []byte("blob "+name), h); err != nil {
			return err
		}
	}
	return nil
}

// DeleteBlobs removes each named blob.
func (s *Server) DeleteBlobs(ctx context.Context, container string, names ...string) error {
	for _, name := range names {
		if _, err := s.do(ctx, http.MethodDelete, s.BlobEndpoint+"/"+container+"/"+escapePath(name), nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// escapePath escapes each segment of a blob name.
func escapePath(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// do makes a request signed with the account key and returns the body of a 2xx answer.
func (s *Server) do(ctx context.Context, method, rawURL string, body []byte, header http.Header) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("x-ms-date", time.Now().UTC().Format(http.TimeFormat))
	req.Header.Set("x-ms-version", "2021-12-02")
	req.Header.Set("Authorization", s.authorization(req))
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("azurite answered %s %s with %d: %s", method, rawURL, resp.StatusCode, out)
	}
	return out, nil
}

// authorization is the SharedKey header of req, as Azure Storage's documentation of Shared Key
// authorization describes it.
func (s *Server) authorization(req *http.Request) string {
	length := ""
	if req.ContentLength > 0 {
		length = strconv.FormatInt(req.ContentLength, 10)
	}
	lines := []string{req.Method, req.Header.Get("Content-Encoding"), req.Header.Get("Content-Language"), length,
		req.Header.Get("Content-MD5"), req.Header.Get("Content-Type"), "", req.Header.Get("If-Modified-Since"),
		req.Header.Get("If-Match"), req.Header.Get("If-None-Match"), req.Header.Get("If-Unmodified-Since"), req.Header.Get("Range")}
	var ms []string
	for k := range req.Header {
		if l := strings.ToLower(k); strings.HasPrefix(l, "x-ms-") {
			ms = append(ms, l+":"+strings.TrimSpace(req.Header.Get(k)))
		}
	}
	sort.Strings(ms)
	resource := "/" + s.Account + req.URL.EscapedPath()
	q := req.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := q[k]
		sort.Strings(v)
		resource += "\n" + strings.ToLower(k) + ":" + strings.Join(v, ",")
	}
	toSign := strings.Join(lines, "\n") + "\n" + strings.Join(ms, "\n") + "\n" + resource
	key, _ := base64.StdEncoding.DecodeString(s.Key)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(toSign))
	return "SharedKey " + s.Account + ":" + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

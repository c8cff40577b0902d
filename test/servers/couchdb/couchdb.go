// Package couchdb runs pouchdb-server (installed from npm by hack/tools.sh pouchdb), a server
// speaking CouchDB's HTTP API with Mango's POST /{db}/_find, on a free loopback port for tests:
// in memory, in a temp dir of its own, with a server admin of its own (a random password) so
// that wrong credentials are refused, and a small client that creates databases and adds and
// removes documents the way producers and workers do.
//
// Where pouchdb-server departs from CouchDB (checked by this package's test): _find returns every
// matching document when no limit is given (CouchDB stops at 25), and a database's _security
// members are not enforced, so a request without credentials reads it.
package couchdb

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/kedactl/kedactl/test/cluster"
	"github.com/kedactl/kedactl/test/servers/internal/proc"
)

// readyTimeout bounds the wait for a started server to answer.
const readyTimeout = time.Minute

// Server is a running pouchdb-server with one admin.
type Server struct {
	// URL is the server's address, without credentials; Host and Port are its parts.
	URL        string
	Host, Port string
	// Username and Password are the server admin's.
	Username, Password string

	proc   *proc.Process
	dir    string
	client *http.Client
}

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return proc.ForTest(t, "pouchdb-server", StartProcess)
}

// StartProcess installs pouchdb-server if needed and starts it on a free 127.0.0.1 port,
// waiting until it answers, then makes its admin.
func StartProcess(ctx context.Context) (*Server, error) {
	tools, err := cluster.ToolDir(ctx, io.Discard, "pouchdb")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kedactl-pouchdb-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the pouchdb-server dir: %w", err)
	}
	port, err := proc.FreePort()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	pw := make([]byte, 12)
	_, _ = rand.Read(pw)
	s := &Server{Host: "127.0.0.1", Port: strconv.Itoa(port), Username: "keda", Password: "pw-" + hex.EncodeToString(pw), dir: dir,
		client: &http.Client{Timeout: 10 * time.Second}}
	s.URL = "http://" + s.Host + ":" + s.Port
	bin := filepath.Join(tools, "node_modules", ".bin", "pouchdb-server")
	// Its config.json and log stay in dir; --no-stdout-logs keeps the request log in that file.
	args := []string{"--in-memory", "--port", s.Port, "--host", s.Host, "--dir", dir, "--config", filepath.Join(dir, "config.json"), "--no-stdout-logs"}
	if s.proc, err = proc.Start(bin, args, dir, "pouchdb-server", nil); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := s.proc.WaitUntil(ctx, readyTimeout, "answer on "+s.URL, func(ctx context.Context) error {
		_, err := s.do(ctx, http.MethodGet, "/", nil, false)
		return err
	}); err != nil {
		s.Stop()
		return nil, err
	}
	// The first admin ends the "admin party": from then on a wrong password is refused.
	if _, err := s.do(ctx, http.MethodPut, "/_config/admins/"+s.Username, strconv.Quote(s.Password), false); err != nil {
		s.Stop()
		return nil, fmt.Errorf("failed to make the pouchdb-server admin: %w", err)
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

// CreateDB creates database db.
func (s *Server) CreateDB(ctx context.Context, db string) error {
	_, err := s.do(ctx, http.MethodPut, "/"+url.PathEscape(db), nil, true)
	return err
}

// AddDocs adds n documents with fields to db, in one _bulk_docs request.
func (s *Server) AddDocs(ctx context.Context, db string, n int, fields map[string]any) error {
	docs := make([]map[string]any, n)
	for i := range docs {
		docs[i] = fields
	}
	_, err := s.do(ctx, http.MethodPost, "/"+url.PathEscape(db)+"/_bulk_docs", map[string]any{"docs": docs}, true)
	return err
}

// SetDocs makes db hold exactly n documents matching selector, adding ones with fields or
// deleting matching ones, as producers and workers do.
func (s *Server) SetDocs(ctx context.Context, db string, selector, fields map[string]any, n int) error {
	found, err := s.Find(ctx, db, selector)
	if err != nil {
		return err
	}
	if len(found) < n {
		return s.AddDocs(ctx, db, n-len(found), fields)
	}
	var del []map[string]any
	for _, d := range found[n:] {
		del = append(del, map[string]any{"_id": d["_id"], "_rev": d["_rev"], "_deleted": true})
	}
	if len(del) == 0 {
		return nil
	}
	_, err = s.do(ctx, http.MethodPost, "/"+url.PathEscape(db)+"/_bulk_docs", map[string]any{"docs": del}, true)
	return err
}

// Find returns every document of db matching selector.
func (s *Server) Find(ctx context.Context, db string, selector map[string]any) ([]map[string]any, error) {
	body, err := s.do(ctx, http.MethodPost, "/"+url.PathEscape(db)+"/_find", map[string]any{"selector": selector, "limit": 100000}, true)
	if err != nil {
		return nil, err
	}
	var a struct {
		Docs []map[string]any `json:"docs"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, fmt.Errorf("failed to read pouchdb-server's _find answer: %w", err)
	}
	return a.Docs, nil
}

// Raw sends one request with the given credentials (none when user is ""), for tests of the
// server's conventions; it returns the status and body.
func (s *Server) Raw(ctx context.Context, method, path string, body any, user, pass string) (int, []byte, error) {
	req, err := s.request(ctx, method, path, body)
	if err != nil {
		return 0, nil, err
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

func (s *Server) request(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		b, ok := body.(string)
		if !ok {
			j, err := json.Marshal(body)
			if err != nil {
				return nil, err
			}
			b = string(j)
		}
		r = bytes.NewReader([]byte(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// do sends one request, as the admin when admin, and wants a 2xx answer.
func (s *Server) do(ctx context.Context, method, path string, body any, admin bool) ([]byte, error) {
	user, pass := "", ""
	if admin {
		user, pass = s.Username, s.Password
	}
	status, out, err := s.Raw(ctx, method, path, body, user, pass)
	if err != nil {
		return nil, fmt.Errorf("pouchdb-server: %s %s: %w", method, path, err)
	}
	if status/100 != 2 {
		return nil, fmt.Errorf("pouchdb-server: %s %s: %d %s", method, path, status, bytes.TrimSpace(out))
	}
	return out, nil
}

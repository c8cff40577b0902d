// Package mongodb runs FerretDB v1.24.2 (built by hack/tools.sh ferretdb into the tools cache), a
// server speaking MongoDB's wire protocol, for tests: its SQLite backend in a temporary directory
// (no other server needed), on a free 127.0.0.1 port, in its own process group, dying with the
// test binary and stopped by Stop (which Start registers with t.Cleanup).
//
// Authentication is set up as FerretDB 1.24 documents it: --test-enable-new-auth (SCRAM-SHA-1 and
// SCRAM-SHA-256, users in admin.system.users) with --setup-database, --setup-username and
// --setup-password creating the first user, defined in the setup database, at start. From then on
// every command but the handshake ones needs an authenticated connection.
//
// With Options.TLS it serves TLS only (FerretDB's --listen-tls), with a certificate for
// 127.0.0.1 signed by a CA made for it; with TLSClientAuth it also asks clients for a
// certificate that CA signed (FerretDB does once given --listen-tls-ca-file).
//
// A small client seeds documents the way producers and workers do (SetDocs).
package mongodb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/kedactl/kedactl/test/cluster"
	"github.com/kedactl/kedactl/test/servers/internal/proc"
	"github.com/kedactl/kedactl/test/servers/internal/testca"
)

// Bounds of the server's start: building FerretDB cold takes minutes of CPU (modernc's SQLite),
// and a started server answers within seconds.
const (
	buildTimeout = 20 * time.Minute
	readyTimeout = 30 * time.Second
	// callTimeout bounds each of the client's operations.
	callTimeout = 10 * time.Second
)

// Options configure a server.
type Options struct {
	// TLS serves TLS only; Server.TLS holds what a client needs.
	TLS bool
	// TLSClientAuth, with TLS, requires clients to present a certificate the CA signed.
	TLSClientAuth bool
}

// Server is a running FerretDB with one user.
type Server struct {
	// Host and Port are where it listens; Addr is host:port.
	Host, Port, Addr string
	// Database is the database the user is defined in (and authenticates against); Username and
	// Password are the user's. The password has characters a URI must escape.
	Database, Username, Password string
	// TLS is set when the server serves TLS: its CA and a client certificate.
	TLS *testca.Files

	proc   *proc.Process
	dir    string
	client *mongo.Client
}

// Start starts a server for one test, with the user defined in database, and stops it when the
// test ends.
func Start(t testing.TB, database string) *Server {
	t.Helper()
	return StartWith(t, database, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, database string, opts Options) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	if _, err := cluster.ToolDir(ctx, io.Discard, "ferretdb"); err != nil {
		t.Fatalf("failed to build ferretdb: %v", err)
	}
	return proc.ForTest(t, "ferretdb", func(ctx context.Context) (*Server, error) { return StartProcess(ctx, database, opts) })
}

// StartProcess builds FerretDB if needed and starts it, waiting until the user can run a
// command.
func StartProcess(ctx context.Context, database string, opts Options) (*Server, error) {
	tools, err := cluster.ToolDir(ctx, io.Discard, "ferretdb")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kedactl-ferretdb-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the ferretdb dir: %w", err)
	}
	port, err := proc.FreePort()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	pw := make([]byte, 8)
	_, _ = rand.Read(pw)
	s := &Server{Host: "127.0.0.1", Port: strconv.Itoa(port), Database: database, Username: "keda", Password: "p@ss/" + hex.EncodeToString(pw), dir: dir}
	s.Addr = net.JoinHostPort(s.Host, s.Port)
	listen := []string{"--listen-addr=" + s.Addr}
	if opts.TLS {
		if s.TLS, err = testca.New("kedactl test FerretDB CA"); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		paths, err := s.TLS.WriteServer(dir)
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		listen = []string{"--listen-addr=", "--listen-tls=" + s.Addr, "--listen-tls-cert-file=" + paths.Cert, "--listen-tls-key-file=" + paths.Key}
		if opts.TLSClientAuth {
			listen = append(listen, "--listen-tls-ca-file="+paths.CA)
		}
	}
	args := append([]string{
		"--handler=sqlite", "--sqlite-url=file:" + dir + "/", "--state-dir=" + dir,
	}, listen...)
	args = append(args,
		// No debug listener (its default port would collide between servers) and no telemetry
		// (the tests reach nothing but loopback).
		"--debug-addr=-", "--telemetry=disable", "--log-level=warn",
		"--test-enable-new-auth", "--setup-database="+database, "--setup-username="+s.Username, "--setup-password="+s.Password,
	)
	if s.proc, err = proc.Start(filepath.Join(tools, "ferretdb"), args, dir, "ferretdb", nil); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	clientOpts := options.Client().ApplyURI(s.URI()).SetTimeout(callTimeout)
	if s.TLS != nil {
		clientOpts.SetTLSConfig(s.TLS.ClientConfig())
	}
	if s.client, err = mongo.Connect(clientOpts); err != nil {
		s.Stop()
		return nil, fmt.Errorf("ferretdb: could not set up the client: %w", err)
	}
	if err := s.proc.WaitUntil(ctx, readyTimeout, "an authenticated ping on "+s.Addr, func(ctx context.Context) error {
		return s.client.Database(database).RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
	}); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// URI is the connection string of the user: mongodb://keda:<escaped password>@127.0.0.1:<port>/<database>.
func (s *Server) URI() string {
	return s.URIAs(s.Username, s.Password)
}

// URIAs is the connection string with other credentials (none when username is "").
func (s *Server) URIAs(username, password string) string {
	u := url.URL{Scheme: "mongodb", Host: s.Addr, Path: "/" + s.Database}
	if username != "" {
		u.User = url.UserPassword(username, password)
	}
	return u.String()
}

// Stop stops the server and removes its dir.
func (s *Server) Stop() {
	if s.client != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.client.Disconnect(ctx)
		cancel()
	}
	if s.proc != nil {
		s.proc.Stop(syscall.SIGTERM)
	}
	_ = os.RemoveAll(s.dir)
}

// Client is the user's client, for tests of the server's conventions.
func (s *Server) Client() *mongo.Client { return s.client }

// SetDocs makes collection coll of the user's database hold exactly n documents matching
// filter, inserting copies of fields or deleting matching ones, as producers and workers do.
func (s *Server) SetDocs(ctx context.Context, coll string, filter, fields bson.D, n int) error {
	c := s.client.Database(s.Database).Collection(coll)
	have, err := c.CountDocuments(ctx, filter)
	if err != nil {
		return fmt.Errorf("ferretdb: count in %s: %w", coll, err)
	}
	if have < int64(n) {
		docs := make([]any, int64(n)-have)
		for i := range docs {
			docs[i] = fields
		}
		if _, err := c.InsertMany(ctx, docs); err != nil {
			return fmt.Errorf("ferretdb: insert into %s: %w", coll, err)
		}
	}
	for ; have > int64(n); have-- {
		r, err := c.DeleteOne(ctx, filter)
		if err != nil {
			return fmt.Errorf("ferretdb: delete from %s: %w", coll, err)
		}
		if r.DeletedCount != 1 {
			return errors.New("ferretdb: a matching document vanished while deleting")
		}
	}
	return nil
}

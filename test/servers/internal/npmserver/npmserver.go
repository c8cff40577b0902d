// Package npmserver runs an emulator from npm (installed into the tools cache by hack/tools.sh)
// whose module exports a function of options returning an http.Server, as kinesalite and dynalite
// do, listening on a free 127.0.0.1 port: their own commands listen on every interface (kinesalite
// has no host option), which the tests must not.
package npmserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/kedactl/kedactl/test/cluster"
	"github.com/kedactl/kedactl/test/servers/internal/proc"
)

// readyTimeout bounds the wait for a started server to answer.
const readyTimeout = time.Minute

// listen is the script node runs: load the module, make its server with the options and listen on
// loopback.
const listen = `const [mod, opts, port] = process.argv.slice(1);
require(mod)(JSON.parse(opts)).listen(Number(port), "127.0.0.1", () => console.log("listening on 127.0.0.1:" + port));`

// Server is a running emulator.
type Server struct {
	// URL is its http://127.0.0.1:port address.
	URL  string
	proc *proc.Process
}

// Start installs tool if needed (hack/tools.sh tool), starts module with options on a free
// loopback port and waits until ready (given the URL) succeeds.
func Start(ctx context.Context, tool, module string, options map[string]any, ready func(ctx context.Context, url string) error) (*Server, error) {
	dir, err := cluster.ToolDir(ctx, io.Discard, tool)
	if err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%s needs node on PATH: %w", tool, err)
	}
	opts, err := json.Marshal(options)
	if err != nil {
		return nil, fmt.Errorf("failed to encode %s's options: %w", tool, err)
	}
	port, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	args := []string{"-e", listen, filepath.Join(dir, "node_modules", module), string(opts), strconv.Itoa(port)}
	if s.proc, err = proc.Start(node, args, dir, tool, nil); err != nil {
		return nil, err
	}
	if err := s.proc.WaitUntil(ctx, readyTimeout, "answer on "+s.URL, func(ctx context.Context) error { return ready(ctx, s.URL) }); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Stop stops the server.
func (s *Server) Stop() {
	if s.proc != nil {
		s.proc.Stop(syscall.SIGTERM)
	}
}

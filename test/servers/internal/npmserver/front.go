package npmserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"

	"github.com/kedactl/kedactl/test/servers/internal/sigv4"
)

// The emulators accept any signature; the front the tests talk to verifies SigV4 with the
// test's credentials (as AWS does, refusing with the JSON protocols' error codes) and records
// each request, then hands it to the emulator.

// Request is one request the front saw.
type Request struct {
	Target, AccessKeyID, Region string
	// Body is the request's JSON body (what the scaler asked for).
	Body   []byte
	Status int
}

// Front is the verifying, recording proxy in front of an emulator.
type Front struct {
	// URL is its http://127.0.0.1:port address, the awsEndpoint the scalers are given.
	URL string

	creds sigv4.Credentials
	srv   *http.Server
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	reqs  []Request
}

// maxBody bounds a request body the front reads.
const maxBody = 1 << 20

// NewFront listens on a free loopback port and forwards to target what creds signed.
func NewFront(target string, creds sigv4.Credentials) (*Front, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("failed to parse the emulator's URL %s: %w", target, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("failed to listen for the %s front: %w", creds.Service, err)
	}
	f := &Front{URL: "http://" + ln.Addr().String(), creds: creds, proxy: httputil.NewSingleHostReverseProxy(u)}
	f.srv = &http.Server{Handler: f}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

// Close stops the front.
func (f *Front) Close() { _ = f.srv.Close() }

// Requests are the requests seen so far.
func (f *Front) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.reqs...)
}

func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rec := Request{Target: r.Header.Get("X-Amz-Target"), Body: body}
	keyID, region, e := sigv4.Verify(r, body, f.creds)
	rec.AccessKeyID, rec.Region = keyID, region
	if e != nil {
		rec.Status = e.Status
		f.record(rec)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-ErrorType", e.Code)
		w.WriteHeader(e.Status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	f.proxy.ServeHTTP(sw, r)
	rec.Status = sw.status
	f.record(rec)
}

func (f *Front) record(r Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, r)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// Fronted is an emulator behind its front.
type Fronted struct {
	// URL is the front's address: the awsEndpoint the scalers are given.
	URL string
	// Emulator is the emulator's own address, for the tests' set-up requests (not recorded).
	Emulator string
	emu      *Server
	front    *Front
}

// StartFronted starts module as Start does and a front verifying creds before it.
func StartFronted(ctx context.Context, tool, module string, options map[string]any, ready func(ctx context.Context, url string) error, creds sigv4.Credentials) (*Fronted, error) {
	emu, err := Start(ctx, tool, module, options, ready)
	if err != nil {
		return nil, err
	}
	front, err := NewFront(emu.URL, creds)
	if err != nil {
		emu.Stop()
		return nil, err
	}
	return &Fronted{URL: front.URL, Emulator: emu.URL, emu: emu, front: front}, nil
}

// Stop stops the front and the emulator.
func (f *Fronted) Stop() {
	f.front.Close()
	f.emu.Stop()
}

// Requests are the requests the front saw, refused ones included.
func (f *Fronted) Requests() []Request { return f.front.Requests() }

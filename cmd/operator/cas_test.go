package main

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCertDirsWith(t *testing.T) {
	exists := func(d string) bool { return d == "/custom/ca" || d == "/more/ca" }
	for _, tt := range []struct {
		name    string
		caDirs  []string
		current string
		want    string
	}{
		{"no custom CA mounted", []string{"/custom/ca-missing"}, "", ""},
		{"KEDA's default directory", []string{"/custom/ca"}, "", "/custom/ca:/etc/ssl/certs:/etc/pki/tls/certs"},
		{"several, one missing", []string{"/custom/ca", "/gone", "/more/ca"}, "", "/custom/ca:/more/ca:/etc/ssl/certs:/etc/pki/tls/certs"},
		{"kept beside the SSL_CERT_DIR already set", []string{"/custom/ca"}, "/opt/certs:/srv/certs", "/custom/ca:/opt/certs:/srv/certs"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := certDirsWith(tt.caDirs, tt.current, exists); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCADirIsTrusted checks the mechanism end to end: a process whose SSL_CERT_DIR comes from
// certDirsWith verifies a server signed by a CA in that directory with the system pool, as every
// scaler that names no CA of its own does; without it the same request fails.
func TestCADirIsTrusted(t *testing.T) {
	if url := os.Getenv("KEDACTL_TEST_DIAL"); url != "" {
		resp, err := http.Get(url) //nolint:noctx // a one-off request in a child process
		if err != nil {
			fmt.Fprint(os.Stderr, err)
			os.Exit(3)
		}
		resp.Body.Close()
		os.Exit(0)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	dir := t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(dir, "source-ca.pem"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	dial := func(sslCertDir string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCADirIsTrusted$")
		cmd.Env = append(os.Environ(), "KEDACTL_TEST_DIAL="+srv.URL, "SSL_CERT_DIR="+sslCertDir)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := dial(certDirsWith([]string{dir}, "", dirExists)); err != nil {
		t.Errorf("with --ca-dir %s the request failed: %v %s", dir, err, out)
	}
	if out, err := dial(strings.Join(goCertDirs, ":")); err == nil || !strings.Contains(out, "certificate") {
		t.Errorf("without --ca-dir the request gave %v %s, want a certificate error", err, out)
	}
}

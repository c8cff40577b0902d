package scalers_test

import (
	"fmt"
	"os"
	"testing"

	asbserver "github.com/kedactl/kedactl/test/servers/azureservicebus"
)

// serviceBusCA is a CA this test binary trusts beside the system's, set before any test runs:
// the azure-servicebus trigger takes no ca parameter and verifies the namespace against the
// system's CAs, which Go reads once a process from SSL_CERT_DIR (the operator adds its --ca-dir
// there the same way).
var serviceBusCA *asbserver.TLSFiles

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ca, dir, err := asbserver.NewCADir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "test/scalers:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	// Go's own directories stay (SSL_CERT_DIR replaces them), so the system's CAs are trusted too.
	dirs := os.Getenv("SSL_CERT_DIR")
	if dirs == "" {
		dirs = "/etc/ssl/certs:/etc/pki/tls/certs"
	}
	if err := os.Setenv("SSL_CERT_DIR", dir+":"+dirs); err != nil {
		fmt.Fprintln(os.Stderr, "test/scalers:", err)
		return 1
	}
	serviceBusCA = ca
	return m.Run()
}

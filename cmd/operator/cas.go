package main

import (
	"os"
	"strings"
)

// goCertDirs are the directories Go reads a Linux system's CA certificates from when SSL_CERT_DIR
// is unset (crypto/x509's certDirectories).
var goCertDirs = []string{"/etc/ssl/certs", "/etc/pki/tls/certs"}

// certDirsWith is the SSL_CERT_DIR that adds the existing ones of caDirs (KEDA's --ca-dir) to the
// directories Go reads otherwise: current's, or Go's own. Every TLS connection to an event source
// that does not name its own CA verifies against the system pool, so this is how a custom CA
// reaches all of them. It is "" when no caDir exists (nothing to change).
func certDirsWith(caDirs []string, current string, exists func(string) bool) string {
	var added []string
	for _, d := range caDirs {
		if d != "" && exists(d) {
			added = append(added, d)
		}
	}
	if len(added) == 0 {
		return ""
	}
	rest := goCertDirs
	if current != "" {
		rest = strings.Split(current, ":")
	}
	return strings.Join(append(added, rest...), ":")
}

func dirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

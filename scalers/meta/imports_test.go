package meta

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// allowedImports are the only non-standard packages meta may import: the point of the package is
// that the webhook and kubectl keda check validate metadata without linking any event source's
// client (pgx, mysql, AMQP, go-redis, franz-go, gRPC, cloud SDKs). A scaler's metadata that needs
// one of those to validate keeps that part with its driver in package scalers.
//
// Besides the Kubernetes API types, a few libraries that only parse what a trigger's metadata
// says are allowed: they open no connection to any event source.
var allowedImports = []string{
	"k8s.io/api/", "k8s.io/apimachinery/",
	"github.com/robfig/cron/v3",             // cron's start and end expressions
	"github.com/gobwas/glob",                // azure-blob's globPattern
	"github.com/prometheus/common/model",    // metrics-api's Prometheus metric name syntax
	"golang.org/x/oauth2/clientcredentials", // the HTTP scalers' oauth settings, a config value until used
}

func TestImportsNoDriver(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !strings.Contains(strings.Split(path, "/")[0], ".") {
				continue // the standard library
			}
			ok := false
			for _, prefix := range allowedImports {
				ok = ok || strings.HasPrefix(path, prefix)
			}
			if !ok {
				t.Errorf("%s imports %s: scalers/meta must not import event-source clients (allowed: the standard library and %s)", name, path, strings.Join(allowedImports, ", "))
			}
		}
	}
}

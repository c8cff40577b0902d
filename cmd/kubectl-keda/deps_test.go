package main

import (
	"os/exec"
	"strings"
	"testing"
)

// drivers are the event sources' clients, which only the operator needs: the plugin validates
// metadata offline through scalers/meta, and links none of them (nor package scalers, which
// holds them). A new import that pulls one in fails here, naming the chain to cut.
var drivers = []string{
	"github.com/kedactl/kedactl/scalers",
	"github.com/jackc/pgx",
	"github.com/go-sql-driver/mysql",
	"github.com/rabbitmq/amqp091-go",
	"github.com/redis/go-redis",
	"github.com/twmb/franz-go",
	"github.com/jcmturner/gokrb5",
	"google.golang.org/grpc",
	"go.etcd.io/etcd/client",
	"github.com/aws/aws-sdk-go-v2",
	"github.com/Azure/azure-sdk-for-go",
	"cloud.google.com/go",
}

func TestPluginLinksNoDriver(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the plugin's dependencies")
	}
	// One line per package: its path, then the packages it imports.
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	importedBy := map[string]string{}
	var deps []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		deps = append(deps, fields[0])
		for _, imp := range fields[1:] {
			if _, seen := importedBy[imp]; !seen {
				importedBy[imp] = fields[0]
			}
		}
	}
	reported := map[string]bool{} // one error per driver, its first package
	for _, pkg := range deps {
		for _, d := range drivers {
			if reported[d] {
				continue
			}
			// Package scalers itself, not scalers/meta, which is what the plugin validates with.
			exact := d == "github.com/kedactl/kedactl/scalers"
			if pkg == d || (!exact && strings.HasPrefix(pkg, d+"/")) {
				chain := []string{pkg}
				for p := importedBy[pkg]; p != "" && len(chain) < 20; p = importedBy[p] {
					chain = append(chain, p)
				}
				t.Errorf("kubectl-keda links %s, a driver: imported through %s", pkg, strings.Join(chain, " <- "))
				reported[d] = true
				break
			}
		}
	}
}

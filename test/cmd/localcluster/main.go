// Command localcluster starts the local control plane (and, with -operator, the operator) and
// keeps it running until Ctrl-C, for trying things by hand with kubectl.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/kedactl/kedactl/test/cluster"
	"github.com/kedactl/kedactl/test/env"
)

func main() {
	dir := flag.String("dir", "", "directory for the cluster's files; a temp dir when empty")
	nodes := flag.Int("nodes", 2, "number of kwok fake nodes")
	withOperator := flag.Bool("operator", true, "also install the CRDs and run the operator")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := cluster.Options{Dir: *dir, Nodes: *nodes, Out: os.Stdout}
	var kubeconfig string
	if *withOperator {
		e, err := env.Start(ctx, env.Options{Cluster: opts, Out: os.Stdout})
		if err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(1)
		}
		defer e.Stop()
		kubeconfig = e.Cluster.KubeconfigPath()
		fmt.Println("operator log:", e.OperatorLog)
	} else {
		c, err := cluster.Start(ctx, opts)
		if err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(1)
		}
		defer c.Stop()
		kubeconfig = c.KubeconfigPath()
	}
	fmt.Printf("\nexport KUBECONFIG=%s\n\nCtrl-C stops everything.\n", kubeconfig)
	<-ctx.Done()
}

// Command vault is HashiCorp Vault's CLI and server, built from the Go module proxy for the
// hashiCorpVault TriggerAuthentication tests (a dev server on 127.0.0.1).
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() {
	os.Exit(command.Run(os.Args[1:]))
}

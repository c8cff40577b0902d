//go:build tools

// Package tools records the ferretdb command in this module's requirements.
package tools

import (
	_ "github.com/FerretDB/FerretDB/cmd/ferretdb"
)

//go:build tools

// Package tools records the goaws command in this module's requirements.
package tools

import _ "github.com/Admiral-Piett/goaws/app/cmd"

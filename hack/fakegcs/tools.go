//go:build tools

// Package tools records the fake-gcs-server command in this module's requirements.
package tools

import _ "github.com/fsouza/fake-gcs-server"

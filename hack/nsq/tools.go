//go:build tools

// Package tools records the nsqd and nsqlookupd commands in this module's requirements.
package tools

import (
	_ "github.com/nsqio/nsq/apps/nsqd"
	_ "github.com/nsqio/nsq/apps/nsqlookupd"
)

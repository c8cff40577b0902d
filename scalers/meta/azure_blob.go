package meta

import (
	"fmt"
	"strings"

	"github.com/gobwas/glob"
)

// AzureBlobMetadata is the azure-blob trigger's metadata, with KEDA's parameter names.
type AzureBlobMetadata struct {
	BlobContainerName   string `keda:"name=blobContainerName, order=triggerMetadata"`
	BlobCount           int64  `keda:"name=blobCount, order=triggerMetadata, default=5"`
	ActivationBlobCount int64  `keda:"name=activationBlobCount, order=triggerMetadata, default=0"`
	BlobDelimiter       string `keda:"name=blobDelimiter, order=triggerMetadata, default=/"`
	BlobPrefix          string `keda:"name=blobPrefix, order=triggerMetadata, optional"`
	Recursive           bool   `keda:"name=recursive, order=triggerMetadata, default=false"`
	GlobPattern         string `keda:"name=globPattern, order=triggerMetadata, optional"`
	Connection          string `keda:"name=connection, order=authParams;resolvedEnv;triggerMetadata, optional, secret"`
	// KEDA declares connectionFromEnv as a second name of connection: a TriggerAuthentication
	// parameter of that name holds the string too.
	ConnectionFromEnv string `keda:"name=connectionFromEnv, order=authParams;resolvedEnv;triggerMetadata, optional, secret"`
	azureConnectionParams

	// Set by Validate and ValidateConfig.
	Prefix  string
	Pattern *glob.Pattern
	Account *AzureStorageAccount
}

// Validate checks what the metadata alone decides and derives the listing's prefix and
// delimiter as KEDA does: recursive drops the delimiter, and a prefix ends with the delimiter.
func (m *AzureBlobMetadata) Validate() error {
	if m.BlobCount < 1 {
		// KEDA takes any number, but the HPA refuses a target that is not above 0.
		return &ParamError{Param: "blobCount", Problem: fmt.Sprintf("is %d", m.BlobCount), Fix: "must be at least 1: it is the number of blobs per replica the HPA aims at"}
	}
	if m.Recursive {
		m.BlobDelimiter = ""
	}
	if m.GlobPattern != "" {
		// Blob names never start with "/": a path-style pattern would match nothing.
		g, err := glob.Compile(strings.TrimPrefix(m.GlobPattern, "/"))
		if err != nil {
			return &ParamError{Param: "globPattern", Problem: "is not a glob pattern (" + Clip(err.Error(), 120) + ")",
				Fix: "use *, ?, [abc], [!abc], {a,b} and ** as in *.json or data/**/input-?.csv"}
		}
		m.Pattern = g
	}
	m.Prefix = m.BlobPrefix
	if m.Prefix != "" && m.BlobDelimiter != "" {
		m.Prefix += m.BlobDelimiter
	}
	return nil
}

// ValidateConfig checks metadata.cloud and the connection string.
func (m *AzureBlobMetadata) ValidateConfig(cfg *Trigger) error {
	conn := m.Connection
	// Read from the metadata, connectionFromEnv is the name of an env var, never a connection
	// string.
	if conn == "" && m.ConnectionFromEnv != strings.TrimSpace(cfg.Metadata["connectionFromEnv"]) {
		conn = m.ConnectionFromEnv
	}
	var err error
	m.Account, err = azureStorageAccountFor(cfg, conn, &m.azureConnectionParams, AzureBlobService)
	return err
}

package meta

import (
	"fmt"
)

// GCPStorageMetadata is the gcp-storage trigger's metadata, with KEDA's parameter names.
type GCPStorageMetadata struct {
	BucketName                  string `keda:"name=bucketName, order=triggerMetadata"`
	TargetObjectCount           int64  `keda:"name=targetObjectCount, order=triggerMetadata, default=100"`
	ActivationTargetObjectCount int64  `keda:"name=activationTargetObjectCount, order=triggerMetadata, default=0"`
	MaxBucketItemsToScan        int64  `keda:"name=maxBucketItemsToScan, order=triggerMetadata, default=1000"`
	BlobDelimiter               string `keda:"name=blobDelimiter, order=triggerMetadata, optional"`
	BlobPrefix                  string `keda:"name=blobPrefix, order=triggerMetadata, optional"`
	gcpAuthParams
}

// Validate checks the counts as KEDA does.
func (m *GCPStorageMetadata) Validate() error {
	if m.TargetObjectCount <= 0 {
		return &ParamError{Param: "targetObjectCount", Problem: fmt.Sprintf("is %d", m.TargetObjectCount), Fix: "must be at least 1: it is the number of objects per replica the HPA aims at"}
	}
	if m.ActivationTargetObjectCount < 0 {
		return &ParamError{Param: "activationTargetObjectCount", Problem: fmt.Sprintf("is %d", m.ActivationTargetObjectCount), Fix: "must not be negative"}
	}
	if m.MaxBucketItemsToScan <= 0 {
		return &ParamError{Param: "maxBucketItemsToScan", Problem: fmt.Sprintf("is %d", m.MaxBucketItemsToScan), Fix: "must be at least 1: it is the most objects one poll counts"}
	}
	return nil
}

package scaledjob

import (
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// Bounds are a ScaledJob's replica limits as KEDA's scaling arithmetic uses them. KEDA does not cap
// the total number of Jobs by maxReplicaCount directly: it keeps Min Jobs whatever the queue, and
// lets the queue ask for at most MaxAboveMin Jobs on top of those.
type Bounds struct {
	// Min is minReplicaCount, lowered to maxReplicaCount when it is larger.
	Min int64
	// MaxAboveMin is maxReplicaCount - minReplicaCount. Two KEDA quirks are kept: when
	// maxReplicaCount is omitted it is 100 whatever the minimum (so up to min+100 Jobs run), and
	// when minReplicaCount > maxReplicaCount it is maxReplicaCount (so up to 2*max Jobs run).
	MaxAboveMin int64
}

// Total is the most unfinished Jobs the ScaledJob can have: Min + MaxAboveMin.
func (b Bounds) Total() int64 { return b.Min + b.MaxAboveMin }

// BoundsFor returns spec's Bounds.
func BoundsFor(spec *kedav1alpha1.ScaledJobSpec) Bounds {
	var b Bounds
	if spec.MinReplicaCount != nil {
		b.Min = int64(*spec.MinReplicaCount)
	}
	if spec.MaxReplicaCount == nil {
		b.MaxAboveMin = kedav1alpha1.DefaultMaxReplicaCount
		return b
	}
	maxJobs := int64(*spec.MaxReplicaCount)
	if b.Min > maxJobs {
		b.Min = maxJobs
		b.MaxAboveMin = maxJobs
		return b
	}
	b.MaxAboveMin = maxJobs - b.Min
	return b
}

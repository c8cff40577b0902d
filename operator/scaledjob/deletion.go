package scaledjob

import (
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// JobRef names a Job to delete. The UID lets the caller delete with a precondition, so that a Job
// deleted and recreated under the same name meanwhile is left alone.
type JobRef struct {
	Namespace string
	Name      string
	UID       types.UID
}

// Deletion is a set of Jobs to delete, in order, with the propagation policy to delete them with.
type Deletion struct {
	Jobs        []JobRef
	Propagation metav1.DeletionPropagation
	// Why says in words what the Jobs are, or why there are none.
	Why string
}

func refOf(job *batchv1.Job) JobRef {
	return JobRef{Namespace: job.Namespace, Name: job.Name, UID: job.UID}
}

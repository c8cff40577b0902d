package engine

import (
	"container/heap"
	"time"
)

// dueQueue orders poll jobs by their next due time. It is not safe for concurrent use: the engine
// guards it with its own mutex.
type dueQueue []*pollJob

func (q dueQueue) Len() int           { return len(q) }
func (q dueQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q dueQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].heapIndex = i
	q[j].heapIndex = j
}

func (q *dueQueue) Push(x any) {
	job := x.(*pollJob)
	job.heapIndex = len(*q)
	*q = append(*q, job)
}

func (q *dueQueue) Pop() any {
	old := *q
	n := len(old)
	job := old[n-1]
	old[n-1] = nil
	job.heapIndex = -1
	*q = old[:n-1]
	return job
}

// schedule puts job into the queue at due, or moves it there if it is queued already.
func (q *dueQueue) schedule(job *pollJob, due time.Time) {
	job.due = due
	if job.heapIndex >= 0 {
		heap.Fix(q, job.heapIndex)
		return
	}
	heap.Push(q, job)
}

// remove takes job out of the queue if it is queued.
func (q *dueQueue) remove(job *pollJob) {
	if job.heapIndex >= 0 {
		heap.Remove(q, job.heapIndex)
	}
}

// peek returns the job due first, or nil.
func (q dueQueue) peek() *pollJob {
	if len(q) == 0 {
		return nil
	}
	return q[0]
}

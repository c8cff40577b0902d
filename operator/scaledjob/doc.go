// Package scaledjob holds the decisions of the ScaledJob controller as pure functions: how the
// triggers' readings combine into a queue length, which Jobs are running or pending, how many new
// Jobs a scaling strategy asks for, what a new Job looks like, and which Jobs a history limit, a
// rollout or a removal deletes.
//
// It exists so that the reconciler stays a thin fetch-decide-apply loop and every number KEDA users
// rely on can be checked in a table test without a cluster. KEDA 2.21 is the specification: where
// KEDA behaves oddly, the odd behaviour is kept (and said so next to it) so that ScaledJobs written
// for KEDA start the same number of Jobs here.
package scaledjob

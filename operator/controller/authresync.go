package controller

import (
	"math/rand/v2"
	"time"
)

// authResyncDelay is how long an object that uses an authentication waits before its Secrets are
// read again. Each re-read costs a handful of apiserver requests, so with many such objects the
// period stretches until all of them together re-read at most perSecond objects a second: a
// thousand ScaledObjects with TriggerAuthentications must not eat the client rate the rest of the
// operator needs (KEDA re-reads Secrets only when a scaler is rebuilt). Up to a tenth of jitter
// keeps objects created together from re-reading together.
func authResyncDelay(period time.Duration, users int, perSecond float64, jitter float64) time.Duration {
	d := period
	if perSecond > 0 {
		if spread := time.Duration(float64(users) / perSecond * float64(time.Second)); spread > d {
			d = spread
		}
	}
	return d + time.Duration(float64(d)*0.1*min(max(jitter, 0), 1))
}

// nextAuthResync is authResyncDelay with the reconciler's settings and a random jitter.
func (r *ScaledObjectReconciler) nextAuthResync() time.Duration {
	return authResyncDelay(r.AuthResync, r.authUsers.total(), r.AuthResyncObjectsPerSecond, rand.Float64())
}

// Package engine polls every trigger of every ScaledObject from one scheduler and keeps the latest
// result of each in one cache. Activation (0 <-> min) and the external metrics server both read that
// cache, so an event source is asked once per polling interval however many readers there are, and
// identical triggers (same scaler, same resolved parameters) are polled once and shared.
package engine

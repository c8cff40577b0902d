package meta

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// graphiteRenderPath is graphite-web's render endpoint, under serverAddress.
const graphiteRenderPath = "/render"

// GraphiteMetadata is the graphite trigger's metadata, with KEDA's parameter names.
type GraphiteMetadata struct {
	ServerAddress       string  `keda:"name=serverAddress, order=triggerMetadata"`
	Query               string  `keda:"name=query, order=triggerMetadata"`
	Threshold           float64 `keda:"name=threshold, order=triggerMetadata, default=100"`
	ActivationThreshold float64 `keda:"name=activationThreshold, order=triggerMetadata, default=0"`
	QueryTime           string  `keda:"name=queryTime, order=triggerMetadata"`
	// The authentication parameters every HTTP scaler shares; KEDA takes only authModes basic
	// here, and turns basic on by itself when a username is set without authModes.
	HTTPAuthParams

	// Set by Validate.
	RenderURL *url.URL
	Auth      *HTTPAuth
}

// Validate checks the parameters and prepares the request. The credentials come last: offline,
// where a TriggerAuthentication may hold them, their absence ends validation without hiding
// other mistakes.
func (m *GraphiteMetadata) Validate() error {
	u, err := httpURL("serverAddress", m.ServerAddress, "http://graphite.monitoring:8080")
	if err != nil {
		return err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return &ParamError{Param: "serverAddress", Problem: "has a query or fragment", Fix: "use graphite-web's base address, such as http://graphite.monitoring:8080; the trigger adds /render and its query"}
	}
	r := *u
	r.RawPath = ""
	r.Path = strings.TrimRight(r.Path, "/") + graphiteRenderPath
	m.RenderURL = &r
	if m.Threshold <= 0 || math.IsInf(m.Threshold, 0) {
		return &ParamError{Param: "threshold", Problem: fmt.Sprintf("is %g", m.Threshold), Fix: "must be above 0: it is the query value per replica the HPA aims at"}
	}
	p := m.HTTPAuthParams
	for _, list := range []struct {
		param string
		modes []string
	}{{"authModes", p.AuthModes}, {"authMode", p.AuthMode}} {
		for _, mode := range list.modes {
			if mode != AuthModeBasic {
				return &ParamError{Param: list.param, Problem: "has " + strconv.Quote(mode),
					Fix: "the graphite trigger takes only basic (username and password in a TriggerAuthentication), or no authModes"}
			}
		}
	}
	// KEDA's bridge for manifests older than authModes: a username alone turns basic on.
	if len(p.AuthModes)+len(p.AuthMode) == 0 && p.Username != "" {
		p.AuthModes = []string{AuthModeBasic}
	}
	m.Auth, err = p.Validate()
	return err
}

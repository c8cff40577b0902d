package meta

import (
	"net/url"
	"strings"
)

// JolokiaRead is what a trigger reading a queue's size through Jolokia's REST API (artemis-queue,
// activemq) needs for each poll: the read request's URL, the Origin header KEDA sends (corsHeader,
// which a Jolokia agent with strict CORS checking compares with its allowed origins) and the
// basic credentials and TLS of the shared HTTP client. Set by the metadata's Validate.
type JolokiaRead struct {
	URL    *url.URL
	Origin string
	Creds  HTTPAuthParams
	Auth   *HTTPAuth
}

// newJolokiaRead checks the expanded read URL and fills the rest. endpoint is the
// managementEndpoint (host:port) the default Origin names, as KEDA's http://<managementEndpoint>.
func newJolokiaRead(templateParam, rawURL, endpoint, corsHeader string, creds HTTPAuthParams, auth *HTTPAuth) (JolokiaRead, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return JolokiaRead{}, &ParamError{Param: templateParam, Problem: "does not make an http(s) URL (" + Quote(rawURL, 200) + ")",
			Fix: "use the address of the broker's Jolokia read endpoint, such as http://broker:8161/api/jolokia/read/<mbean>/<attribute>"}
	}
	if strings.ContainsAny(corsHeader, "\r\n") {
		return JolokiaRead{}, &ParamError{Param: "corsHeader", Problem: "holds a line break", Fix: "use an origin such as http://broker:8161"}
	}
	if corsHeader == "" {
		corsHeader = "http://" + endpoint
	}
	return JolokiaRead{URL: u, Origin: corsHeader, Creds: creds, Auth: auth}, nil
}

// jolokiaKeyProperties reads the key properties of the MBean name in a Jolokia read URL's path
// (.../read/<domain>:<key>=<value>,.../<attribute>) as KEDA does to find the queue a
// restApiTemplate/restAPITemplate names: what follows the path's first colon up to the next
// slash, split at commas. Values keep their quotes (an Artemis name's "queue"), as in KEDA.
func jolokiaKeyProperties(path string) map[string]string {
	_, rest, ok := strings.Cut(path, ":")
	if !ok {
		return nil
	}
	rest, _, _ = strings.Cut(rest, "/")
	props := map[string]string{}
	for _, kv := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(kv, "=")
		if _, seen := props[k]; !seen {
			props[k] = v
		}
	}
	return props
}

// templateURL parses a restApiTemplate/restAPITemplate as KEDA does before it reads the queue's
// names from it: an absolute URL whose host becomes managementEndpoint.
func templateURL(param, raw string) (*url.URL, error) {
	u, err := url.ParseRequestURI(raw)
	if err != nil || u.Host == "" {
		return nil, &ParamError{Param: param, Problem: "is not an absolute URL",
			Fix: "use the full Jolokia read URL, such as http://broker:8161/console/jolokia/read/<mbean>/<attribute>"}
	}
	return u, nil
}

package meta

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// CouchDBMetadata is the couchdb trigger's metadata, with KEDA's parameter names.
type CouchDBMetadata struct {
	ConnectionString     string `keda:"name=connectionString, order=authParams;triggerMetadata;resolvedEnv, optional, secret"`
	Host                 string `keda:"name=host, order=authParams;triggerMetadata, optional"`
	Port                 string `keda:"name=port, order=authParams;triggerMetadata, optional"`
	Username             string `keda:"name=username, order=authParams;triggerMetadata, optional"`
	Password             string `keda:"name=password, order=authParams;triggerMetadata;resolvedEnv, optional, secret"`
	DBName               string `keda:"name=dbName, order=authParams;triggerMetadata, optional"`
	Query                string `keda:"name=query, order=triggerMetadata, optional"`
	QueryValue           int64  `keda:"name=queryValue, order=triggerMetadata, optional"`
	ActivationQueryValue int64  `keda:"name=activationQueryValue, order=triggerMetadata, default=0"`
	MetricSource

	// Set by Validate.
	// Server is CouchDB's address, without credentials.
	Server *url.URL
	// User and Pass are the basic credentials: the connection string's own, else username and
	// password.
	User, Pass string
	// FindBody is the body of each POST /{db}/_find.
	FindBody []byte
}

// CouchDBFind is the Mango query the trigger sends: KEDA keeps only selector and fields of
// the query parameter (no limit: CouchDB answers its default of 25 documents at most).
type CouchDBFind struct {
	Selector map[string]any `json:"selector"`
	Fields   []string       `json:"fields,omitempty"`
}

// Validate checks the parameters, as KEDA does: without a connection string, host, port,
// username, password and dbName are all required. The query is read here rather than at each
// poll, so that a query that is no JSON is refused before the trigger runs; it is checked first,
// being the metadata's alone.
func (m *CouchDBMetadata) Validate() error {
	if m.AsMetricSource() {
		m.QueryValue = 0
	} else if m.QueryValue <= 0 {
		return &ParamError{Param: "queryValue", Problem: fmt.Sprintf("is %d", m.QueryValue), Fix: "must be above 0: it is the number of matching documents per replica the HPA aims at"}
	}
	var find CouchDBFind
	if err := json.Unmarshal([]byte(m.Query), &find); err != nil {
		return &ParamError{Param: "query", Problem: "is not a JSON Mango query: " + err.Error(), Fix: `use a query such as {"selector": {"status": "queued"}, "fields": ["_id"]}`}
	}
	if find.Selector == nil {
		return &ParamError{Param: "query", Problem: "has no selector object", Fix: `use a query such as {"selector": {"status": "queued"}, "fields": ["_id"]}`}
	}
	m.FindBody, _ = json.Marshal(find)
	// Then what a TriggerAuthentication may hold: offline, a missing one ends validation.
	required := func(param string) error {
		return &ParamError{Param: param, Problem: "is required without connectionString", Fix: "set " + param + " (or connectionString) in metadata or a TriggerAuthentication"}
	}
	if m.ConnectionString == "" {
		for _, p := range []struct{ name, value string }{{"host", m.Host}, {"port", m.Port}, {"username", m.Username}, {"password", m.Password}, {"dbName", m.DBName}} {
			if p.value == "" {
				return required(p.name)
			}
		}
		m.Server = &url.URL{Scheme: "http", Host: net.JoinHostPort(m.Host, m.Port)}
		m.User, m.Pass = m.Username, m.Password
	} else {
		u, err := url.Parse(m.ConnectionString)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// Never quoted: it may hold a password.
			return &ParamError{Param: "connectionString", Problem: "is not an http(s) URL", Fix: "use CouchDB's address, such as http://admin:password@couchdb.db:5984"}
		}
		m.User, m.Pass = m.Username, m.Password
		if u.User != nil {
			m.User = u.User.Username()
			m.Pass, _ = u.User.Password()
		}
		u.User = nil
		u.Path = strings.TrimRight(u.Path, "/")
		m.Server = u
		if m.DBName == "" {
			return &ParamError{Param: "dbName", Problem: "is required", Fix: "name the database the query reads"}
		}
	}
	return nil
}

// CouchDBFindURL is the _find endpoint of db on server.
func CouchDBFindURL(server *url.URL, db string) *url.URL {
	u := *server
	u.RawPath = ""
	u.Path = strings.TrimRight(u.Path, "/") + "/" + db + "/_find"
	u.RawPath = strings.TrimRight(server.EscapedPath(), "/") + "/" + url.PathEscape(db) + "/_find"
	return &u
}

package meta

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// MongoDBMetadata is the mongodb trigger's metadata, with KEDA's parameter names and sources: a
// connection string, or its parts (scheme, host, port, username, password, dbName), and the
// collection whose documents matching query are counted.
type MongoDBMetadata struct {
	ConnectionString     string  `keda:"name=connectionString, order=authParams;triggerMetadata;resolvedEnv, optional, secret"`
	Scheme               string  `keda:"name=scheme, order=authParams;triggerMetadata, default=mongodb"`
	Host                 string  `keda:"name=host, order=authParams;triggerMetadata, optional"`
	Port                 string  `keda:"name=port, order=authParams;triggerMetadata, optional"`
	Username             string  `keda:"name=username, order=authParams;triggerMetadata, optional"`
	Password             string  `keda:"name=password, order=authParams;triggerMetadata;resolvedEnv, optional, secret"`
	DBName               string  `keda:"name=dbName, order=authParams;triggerMetadata"`
	Collection           string  `keda:"name=collection, order=triggerMetadata"`
	Query                string  `keda:"name=query, order=triggerMetadata"`
	QueryValue           float64 `keda:"name=queryValue, order=triggerMetadata"`
	ActivationQueryValue float64 `keda:"name=activationQueryValue, order=triggerMetadata, default=0"`

	TLS         string `keda:"name=tls, order=authParams, default=disable, enum=enable;disable"`
	Cert        string `keda:"name=cert, order=authParams, optional, secret"`
	Key         string `keda:"name=key, order=authParams, optional, secret"`
	KeyPassword string `keda:"name=keyPassword, order=authParams, optional, secret"`
	CA          string `keda:"name=ca, order=authParams, optional, secret"`
	MetricSource

	// Set by Validate.
	// URI is the connection string the driver reads: connectionString as given, or the one KEDA
	// writes from the parts. It holds the password; empty when offline validation lacked the
	// connection.
	URI string
	// TLSConfig is the client's TLS with tls "enable"; nil otherwise.
	TLSConfig *tls.Config
}

// MongoDB's connection string schemes, the only two its drivers read.
const (
	mongoDBScheme    = "mongodb"
	mongoDBSRVScheme = "mongodb+srv"
)

// Validate checks the parameters together, as KEDA does, and settles the connection string.
// Those only the trigger's metadata holds come first: offline, a missing connection part ends
// validation. KEDA reads the query at each poll; it is checked here so that a query that is no
// JSON document is refused before the trigger runs (the driver's Extended JSON parser reads it
// when the trigger is built, see scalers/mongodb.go).
func (m *MongoDBMetadata) Validate() error {
	if m.QueryValue < 0 || (m.QueryValue == 0 && !m.AsMetricSource()) {
		// KEDA takes any number, but the HPA refuses a target that is not above 0.
		return &ParamError{Param: "queryValue", Problem: fmt.Sprintf("is %g", m.QueryValue), Fix: "must be above 0: it is the number of matching documents per replica the HPA aims at"}
	}
	if err := CheckMongoDBQuery(m.Query); err != nil {
		return err
	}
	if m.Scheme != mongoDBScheme && m.Scheme != mongoDBSRVScheme {
		return &ParamError{Param: "scheme", Problem: fmt.Sprintf("is %s", Quote(m.Scheme, 40)), Fix: "use mongodb, or mongodb+srv to find the hosts through DNS SRV records"}
	}
	if m.TLS == "enable" {
		// KEDA asks for at least one of them: tls: enable alone says nothing the system's roots
		// would not (a connection string's tls=true does that).
		if m.CA == "" && m.Cert == "" && m.Key == "" {
			return &ParamError{Param: "tls", Problem: `is "enable" without ca, cert or key`, Fix: "put the server's CA (ca), or a client certificate and key (cert, key), in the TriggerAuthentication; or set tls=true in the connection string to trust the system's roots"}
		}
		cfg, err := pemTLSConfig("MongoDB server's", m.CA, m.Cert, m.Key, m.KeyPassword)
		if err != nil {
			return err
		}
		m.TLSConfig = cfg
	}
	if m.ConnectionString != "" {
		if !strings.HasPrefix(m.ConnectionString, mongoDBScheme+"://") && !strings.HasPrefix(m.ConnectionString, mongoDBSRVScheme+"://") {
			// Never quoted: it may hold a password.
			return MongoDBConnectionError()
		}
		m.URI = m.ConnectionString
		return nil
	}
	required := func(param string) error {
		return &ParamError{Param: param, Problem: "is required without connectionString",
			Fix: "set host, port, username and password (in metadata, passwordFromEnv or a TriggerAuthentication), or a connection string through connectionStringFromEnv or a TriggerAuthentication"}
	}
	switch {
	case m.Host == "":
		return required("host")
	case m.Port == "" && m.Scheme != mongoDBSRVScheme:
		// A mongodb+srv address is a DNS name whose SRV records give the hosts and ports.
		return required("port")
	case m.Username == "":
		return required("username")
	case m.Password == "":
		return required("password")
	}
	host := m.Host
	if m.Scheme != mongoDBSRVScheme {
		if !isPort(m.Port) {
			return &ParamError{Param: "port", Problem: fmt.Sprintf("is %s", Quote(m.Port, 20)), Fix: "use a number from 1 to 65535"}
		}
		host = net.JoinHostPort(m.Host, m.Port)
	}
	m.URI = MongoDBURI(m.Scheme, host, m.Username, m.Password, m.DBName)
	return nil
}

// MongoDBURI writes the parts of a connection as KEDA does: the credentials escaped, dbName as
// the path, which is also the database the driver authenticates against.
func MongoDBURI(scheme, host, username, password, dbName string) string {
	u := url.URL{Scheme: scheme, User: url.UserPassword(username, password), Host: host, Path: "/" + dbName}
	return u.String()
}

// MongoDBConnectionError is the refusal of a connection string, whichever parser refused it. The
// drivers' messages may quote the string, password included: none of it is shown.
func MongoDBConnectionError() *ParamError {
	return &ParamError{Param: "connectionString", Problem: "is not a MongoDB connection string",
		Fix: "use mongodb://user:password@host:27017/db (options after ?, such as authSource=admin or tls=true), or mongodb+srv://user:password@cluster.example.com/db"}
}

// CheckMongoDBQuery checks that query is a JSON document with at least one field, as KEDA wants
// of the filter it counts with (an empty one is refused: count every document with, e.g.,
// {"_id": {"$exists": true}}).
func CheckMongoDBQuery(query string) error {
	var doc map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader([]byte(query)))
	if err := d.Decode(&doc); err != nil || d.More() {
		why := "more than one JSON value"
		if err != nil {
			why = err.Error()
		}
		return MongoDBQueryError("is not a JSON document: " + why)
	}
	if len(doc) == 0 {
		return MongoDBQueryError("is an empty document, which KEDA refuses")
	}
	return nil
}

// MongoDBQueryError is the refusal of the query, with problem saying why.
func MongoDBQueryError(problem string) *ParamError {
	return &ParamError{Param: "query", Problem: problem,
		Fix: `use a filter in MongoDB Extended JSON, such as {"status": "queued"} or {"attempts": {"$lt": 3}}; {"_id": {"$exists": true}} counts every document`}
}

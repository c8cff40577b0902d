package meta

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// PostgresqlMetadata is the postgresql trigger's metadata, with KEDA's parameter names: a full
// connection string (connection, from a TriggerAuthentication or connectionFromEnv), or its parts.
type PostgresqlMetadata struct {
	TargetQueryValue           float64 `keda:"name=targetQueryValue, order=triggerMetadata, optional"`
	ActivationTargetQueryValue float64 `keda:"name=activationTargetQueryValue, order=triggerMetadata, optional"`
	Connection                 string  `keda:"name=connection, order=authParams;resolvedEnv, optional, secret"`
	Query                      string  `keda:"name=query, order=triggerMetadata"`

	Host     string `keda:"name=host, order=authParams;triggerMetadata, optional"`
	Port     string `keda:"name=port, order=authParams;triggerMetadata, optional"`
	UserName string `keda:"name=userName, order=authParams;triggerMetadata, optional"`
	DBName   string `keda:"name=dbName, order=authParams;triggerMetadata, optional"`
	SSLMode  string `keda:"name=sslmode, order=authParams;triggerMetadata, optional"`
	Password string `keda:"name=password, order=authParams;resolvedEnv, optional, secret"`

	// ConnString is the connection the driver parses: connection as given, or the parts written
	// as libpq key=value pairs. Validate sets it; it stays empty when offline validation lacked
	// the connection. It holds the password.
	ConnString string
	MetricSource
}

// postgresqlSSLModes are libpq's sslmode values.
var postgresqlSSLModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// Validate checks the target and settles the connection string. Checks of parameters that only
// the trigger's metadata holds come first: offline, a missing connection part ends validation.
func (m *PostgresqlMetadata) Validate() error {
	if m.TargetQueryValue < 0 || (m.TargetQueryValue == 0 && !m.AsMetricSource()) {
		return &ParamError{Param: "targetQueryValue", Problem: "is missing or not above 0", Fix: "set metadata.targetQueryValue, the query value per replica the HPA aims at"}
	}
	if m.SSLMode != "" && !slices.Contains(postgresqlSSLModes, m.SSLMode) {
		return &ParamError{Param: "sslmode", Problem: strconv.Quote(m.SSLMode) + " is not an sslmode", Fix: "use one of " + strings.Join(postgresqlSSLModes, ", ")}
	}
	if m.Connection != "" {
		if checkPostgresqlConnString(m.Connection) != nil {
			return PostgresqlConnectionError()
		}
		m.ConnString = m.Connection
		return nil
	}
	for _, p := range []struct{ name, value string }{{"host", m.Host}, {"port", m.Port}, {"userName", m.UserName}, {"dbName", m.DBName}, {"sslmode", m.SSLMode}} {
		if p.value == "" {
			return &ParamError{Param: p.name, Problem: "is required when no connection string is given",
				Fix: "set host, port, userName, dbName and sslmode (and password through passwordFromEnv or a TriggerAuthentication), or a full connection string through connectionFromEnv or a TriggerAuthentication"}
		}
	}
	if !isPort(m.Port) {
		return &ParamError{Param: "port", Problem: strconv.Quote(m.Port) + " is not a port", Fix: "use a number from 1 to 65535"}
	}
	kv := []string{"host=" + pgQuote(m.Host), "port=" + m.Port, "user=" + pgQuote(m.UserName), "dbname=" + pgQuote(m.DBName), "sslmode=" + m.SSLMode}
	if m.Password != "" {
		kv = append(kv, "password="+pgQuote(m.Password))
	}
	m.ConnString = strings.Join(kv, " ")
	return nil
}

// PostgresqlConnectionError is the refusal of a connection string, whichever parser refused it.
// The parsers' own messages may quote the string, password included: none of it is shown.
func PostgresqlConnectionError() *ParamError {
	return &ParamError{Param: "connection", Problem: "is not a valid PostgreSQL connection string",
		Fix: "use a URL such as postgres://user:password@host:5432/db?sslmode=require or key=value pairs such as host=db port=5432 user=u dbname=db sslmode=require"}
}

// PostgresqlPartsError is the refusal of the parts (host, port, ...) as a connection.
func PostgresqlPartsError() *ParamError {
	return &ParamError{Param: "host", Problem: "and the other connection parameters do not make a valid PostgreSQL connection", Fix: "check host, port, userName, dbName and sslmode"}
}

// pgQuote quotes a libpq key=value connection string value.
func pgQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535
}

// checkPostgresqlConnString checks the syntax of a libpq connection string, a URL or key=value
// pairs, and the settings whose values it can judge alone (port, sslmode). The driver parses it
// again where it connects; what only the driver knows (a certificate file it cannot read, an
// option value of its own) is found there.
func checkPostgresqlConnString(s string) error {
	settings := map[string]string{}
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		u, err := url.Parse(s)
		if err != nil {
			return err
		}
		for _, host := range strings.Split(u.Host, ",") {
			if i := strings.LastIndex(host, ":"); i >= 0 && !strings.HasSuffix(host, "]") {
				settings["port"] += "," + host[i+1:]
			}
		}
		settings["port"] = strings.TrimPrefix(settings["port"], ",")
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return err
		}
		for k, v := range q {
			settings[k] = v[len(v)-1]
		}
	} else {
		var err error
		if settings, err = pgKeyValues(s); err != nil {
			return err
		}
	}
	if ports, ok := settings["port"]; ok && ports != "" {
		for _, p := range strings.Split(ports, ",") {
			if !isPort(p) {
				return fmt.Errorf("port %q is not a port", p)
			}
		}
	}
	if mode, ok := settings["sslmode"]; ok && !slices.Contains(postgresqlSSLModes, mode) {
		return fmt.Errorf("sslmode %q is not an sslmode", mode)
	}
	return nil
}

// pgKeyValues splits libpq's key=value form: keys and values separated by blanks, a value bare
// or in single quotes, a backslash escaping the next character in either.
func pgKeyValues(s string) (map[string]string, error) {
	out := map[string]string{}
	rest := strings.TrimLeft(s, " \t\n\r\f\v")
	for rest != "" {
		eq := strings.IndexByte(rest, '=')
		if eq < 0 {
			return nil, fmt.Errorf("a setting has no =")
		}
		key := strings.TrimRight(rest[:eq], " \t\n\r\f\v")
		if key == "" || strings.ContainsAny(key, " \t\n\r\f\v") {
			return nil, fmt.Errorf("a key is empty or holds a blank")
		}
		rest = strings.TrimLeft(rest[eq+1:], " \t\n\r\f\v")
		var value strings.Builder
		quoted := strings.HasPrefix(rest, "'")
		if quoted {
			rest = rest[1:]
		}
		closed := !quoted
		i := 0
		for ; i < len(rest); i++ {
			c := rest[i]
			if c == '\\' && i+1 < len(rest) {
				i++
				value.WriteByte(rest[i])
				continue
			}
			if quoted && c == '\'' {
				closed = true
				i++
				break
			}
			if !quoted && strings.IndexByte(" \t\n\r\f\v", c) >= 0 {
				break
			}
			value.WriteByte(c)
		}
		if !closed {
			return nil, fmt.Errorf("a quoted value is not closed")
		}
		out[key] = value.String()
		rest = strings.TrimLeft(rest[i:], " \t\n\r\f\v")
	}
	return out, nil
}

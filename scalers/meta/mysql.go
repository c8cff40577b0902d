package meta

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// MysqlMetadata is the mysql trigger's metadata, with KEDA's parameter names: a DSN
// (connectionString, from a TriggerAuthentication or connectionStringFromEnv), or its parts.
type MysqlMetadata struct {
	ConnectionString string `keda:"name=connectionString, order=authParams;resolvedEnv, optional, secret"`
	Username         string `keda:"name=username, order=triggerMetadata;authParams;resolvedEnv, optional"`
	Password         string `keda:"name=password, order=authParams;resolvedEnv, optional, secret"`
	Host             string `keda:"name=host, order=triggerMetadata;authParams, optional"`
	Port             string `keda:"name=port, order=triggerMetadata;authParams, optional"`
	DBName           string `keda:"name=dbName, order=triggerMetadata;authParams, optional"`

	Query                string  `keda:"name=query, order=triggerMetadata"`
	QueryValue           float64 `keda:"name=queryValue, order=triggerMetadata"`
	ActivationQueryValue float64 `keda:"name=activationQueryValue, order=triggerMetadata, default=0"`
	// MetricName is accepted as KEDA accepts it, and ignored as KEDA ignores it: the metric is
	// named after the database.
	MetricName string `keda:"name=metricName, order=triggerMetadata, optional"`
}

// Validate checks the target and the connection. Checks of parameters that only the trigger's
// metadata holds come first: offline, a missing connection part ends validation.
func (m *MysqlMetadata) Validate() error {
	if m.QueryValue <= 0 {
		return &ParamError{Param: "queryValue", Problem: fmt.Sprintf("is %g", m.QueryValue), Fix: "must be above 0: it is the query value per replica the HPA aims at"}
	}
	if m.ConnectionString != "" {
		if err := checkMysqlDSN(m.ConnectionString); err != nil {
			return MysqlDSNError(err.Error())
		}
		return nil
	}
	for _, p := range []struct{ name, value string }{{"host", m.Host}, {"port", m.Port}} {
		if p.value == "" {
			return &ParamError{Param: p.name, Problem: "is required when no connectionString is given",
				Fix: "set host, port, username and dbName (and password through passwordFromEnv or a TriggerAuthentication), or a DSN through connectionStringFromEnv or a TriggerAuthentication"}
		}
	}
	if !isPort(m.Port) {
		return &ParamError{Param: "port", Problem: strconv.Quote(m.Port) + " is not a port", Fix: "use a number from 1 to 65535"}
	}
	return nil
}

// MysqlDSNError is the refusal of a DSN, whichever parser refused it; reason is a fixed text that
// quotes nothing of the DSN (which holds the password), or empty.
func MysqlDSNError(reason string) *ParamError {
	fix := "use a DSN such as user:password@tcp(host:3306)/dbname"
	if reason != "" {
		fix = reason + "; " + fix
	}
	return &ParamError{Param: "connectionString", Problem: "is not a valid MySQL DSN", Fix: fix}
}

// checkMysqlDSN checks the shape of a MySQL DSN,
// [user[:password]@][net[(address)]]/dbname[?param=value&...]. The driver parses it again when
// the trigger is built, not at admission, so that the webhook and kubectl keda check refuse the
// same DSNs: the values of its parameters (timeouts, booleans, TLS config names, time zones) are
// judged there, and a refusal is the trigger's error in status and events. The errors quote
// nothing of the DSN.
func checkMysqlDSN(dsn string) error {
	slash := strings.LastIndexByte(dsn, '/')
	if slash < 0 {
		return errors.New("missing the slash separating the database name")
	}
	// The address part may hold a slash (a unix socket path), so the database's slash is the
	// last one before the parameters.
	if q := strings.IndexByte(dsn, '?'); q >= 0 && q < slash {
		if slash = strings.LastIndexByte(dsn[:q], '/'); slash < 0 {
			return errors.New("missing the slash separating the database name")
		}
	}
	head := dsn[:slash]
	if at := strings.LastIndexByte(head, '@'); at >= 0 {
		head = head[at+1:]
	}
	if open := strings.IndexByte(head, '('); open >= 0 && !strings.HasSuffix(head, ")") {
		return errors.New("network address not terminated (missing closing brace)")
	} else if open < 0 && head != "" && head != "tcp" && head != "unix" {
		// A network without an address takes the driver's default address, which only tcp
		// (127.0.0.1:3306) and unix (/tmp/mysql.sock) have.
		return errors.New("a network other than tcp or unix needs an address in brackets")
	}
	tail := dsn[slash+1:]
	name, params, hasParams := strings.Cut(tail, "?")
	if _, err := url.PathUnescape(name); err != nil {
		return errors.New("the database name is not validly escaped")
	}
	if !hasParams {
		return nil
	}
	for _, p := range strings.Split(params, "&") {
		// The driver skips a parameter without a value.
		key, value, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		if _, err := url.QueryUnescape(value); err != nil || key == "" {
			return fmt.Errorf("a parameter is not validly escaped")
		}
	}
	return nil
}

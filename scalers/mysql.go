package scalers

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// mysqlMetadata is the mysql trigger's metadata, with KEDA's parameter names: a DSN
// (connectionString, from a TriggerAuthentication or connectionStringFromEnv), or its parts.
type mysqlMetadata struct {
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

	// dsn is the parsed connection, set by Validate unless offline validation lacked it.
	dsn *mysql.Config
}

// Validate checks the target and builds the connection config. Checks of parameters that only
// the trigger's metadata holds come first: offline, a missing connection part ends validation.
func (m *mysqlMetadata) Validate() error {
	if m.QueryValue <= 0 {
		return &ParamError{Param: "queryValue", Problem: fmt.Sprintf("is %g", m.QueryValue), Fix: "must be above 0: it is the query value per replica the HPA aims at"}
	}
	if m.ConnectionString != "" {
		dsn, err := mysql.ParseDSN(m.ConnectionString)
		if err != nil {
			fix := "use a DSN such as user:password@tcp(host:3306)/dbname"
			// Only the driver's fixed messages: others may quote parts of the DSN.
			if msg := err.Error(); strings.HasPrefix(msg, "invalid DSN: ") {
				fix = strings.TrimPrefix(msg, "invalid DSN: ") + "; " + fix
			}
			return &ParamError{Param: "connectionString", Problem: "is not a valid MySQL DSN", Fix: fix}
		}
		m.dsn = dsn
		return nil
	}
	for _, p := range []struct{ name, value string }{{"host", m.Host}, {"port", m.Port}} {
		if p.value == "" {
			return &ParamError{Param: p.name, Problem: "is required when no connectionString is given",
				Fix: "set host, port, username and dbName (and password through passwordFromEnv or a TriggerAuthentication), or a DSN through connectionStringFromEnv or a TriggerAuthentication"}
		}
	}
	if n, err := strconv.Atoi(m.Port); err != nil || n < 1 || n > 65535 {
		return &ParamError{Param: "port", Problem: strconv.Quote(m.Port) + " is not a port", Fix: "use a number from 1 to 65535"}
	}
	dsn := mysql.NewConfig()
	dsn.Net, dsn.Addr = "tcp", net.JoinHostPort(m.Host, m.Port)
	dsn.User, dsn.Passwd, dsn.DBName = m.Username, m.Password, m.DBName
	m.dsn = dsn
	return nil
}

func newMySQLScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m mysqlMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	dsn := m.dsn
	if dsn.Timeout == 0 || dsn.Timeout > cfg.Timeout {
		dsn.Timeout = cfg.Timeout
	}
	connector, err := mysql.NewConnector(dsn)
	if err != nil {
		return nil, redact(fmt.Errorf("trigger %d (mysql): the connection settings are not usable: %w", cfg.TriggerIndex, err), []string{dsn.Passwd, m.ConnectionString})
	}
	// FormatDSN writes every setting, password and timeout included.
	return newSharedSQLScaler(cfg, []any{"mysql", dsn.FormatDSN()}, func() *sql.DB { return sql.OpenDB(connector) }, sqlQuery{
		query:      m.Query,
		target:     m.QueryValue,
		activation: m.ActivationQueryValue,
		// KEDA names it s<index>-mysql-<database>, the database coming from the DSN when one is given.
		metricName: MetricName(cfg.TriggerIndex, "mysql-"+dsn.DBName),
		source:     fmt.Sprintf("database %q on %s as user %q", dsn.DBName, dsn.Addr, dsn.User),
		secrets:    []string{m.Password, dsn.Passwd, m.ConnectionString},
	})
}

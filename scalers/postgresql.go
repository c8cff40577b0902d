package scalers

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// postgresqlMetadata is the postgresql trigger's metadata, with KEDA's parameter names: a full
// connection string (connection, from a TriggerAuthentication or connectionFromEnv), or its parts.
type postgresqlMetadata struct {
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

	// connConfig is the parsed connection, set by Validate unless offline validation lacked it.
	connConfig *pgx.ConnConfig
	metricSource
}

// postgresqlSSLModes are libpq's sslmode values.
var postgresqlSSLModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// Validate checks the target and builds the connection config. Checks of parameters that only
// the trigger's metadata holds come first: offline, a missing connection part ends validation.
func (m *postgresqlMetadata) Validate() error {
	if m.TargetQueryValue < 0 || (m.TargetQueryValue == 0 && !m.AsMetricSource()) {
		return &ParamError{Param: "targetQueryValue", Problem: "is missing or not above 0", Fix: "set metadata.targetQueryValue, the query value per replica the HPA aims at"}
	}
	if m.SSLMode != "" && !slices.Contains(postgresqlSSLModes, m.SSLMode) {
		return &ParamError{Param: "sslmode", Problem: strconv.Quote(m.SSLMode) + " is not an sslmode", Fix: "use one of " + strings.Join(postgresqlSSLModes, ", ")}
	}
	if m.Connection != "" {
		cc, err := pgx.ParseConfig(m.Connection)
		if err != nil {
			// pgx's message quotes the connection string: keep all of it out of the error.
			return &ParamError{Param: "connection", Problem: "is not a valid PostgreSQL connection string",
				Fix: "use a URL such as postgres://user:password@host:5432/db?sslmode=require or key=value pairs such as host=db port=5432 user=u dbname=db sslmode=require"}
		}
		m.connConfig = cc
		return nil
	}
	for _, p := range []struct{ name, value string }{{"host", m.Host}, {"port", m.Port}, {"userName", m.UserName}, {"dbName", m.DBName}, {"sslmode", m.SSLMode}} {
		if p.value == "" {
			return &ParamError{Param: p.name, Problem: "is required when no connection string is given",
				Fix: "set host, port, userName, dbName and sslmode (and password through passwordFromEnv or a TriggerAuthentication), or a full connection string through connectionFromEnv or a TriggerAuthentication"}
		}
	}
	if n, err := strconv.Atoi(m.Port); err != nil || n < 1 || n > 65535 {
		return &ParamError{Param: "port", Problem: strconv.Quote(m.Port) + " is not a port", Fix: "use a number from 1 to 65535"}
	}
	kv := []string{"host=" + pgQuote(m.Host), "port=" + m.Port, "user=" + pgQuote(m.UserName), "dbname=" + pgQuote(m.DBName), "sslmode=" + m.SSLMode}
	if m.Password != "" {
		kv = append(kv, "password="+pgQuote(m.Password))
	}
	cc, err := pgx.ParseConfig(strings.Join(kv, " "))
	if err != nil {
		return &ParamError{Param: "host", Problem: "and the other connection parameters do not make a valid PostgreSQL connection", Fix: "check host, port, userName, dbName and sslmode"}
	}
	m.connConfig = cc
	return nil
}

// pgQuote quotes a libpq key=value connection string value.
func pgQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func newPostgreSQLScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m postgresqlMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	cc := m.connConfig
	if cc.ConnectTimeout == 0 || cc.ConnectTimeout > cfg.Timeout {
		cc.ConnectTimeout = cfg.Timeout
	}
	// No prepared statements: they break behind PgBouncer in transaction mode, and a poll runs one
	// query now and then.
	cc.DefaultQueryExecMode = pgx.QueryExecModeExec
	// ConnString is the connection as written, password included; with the timeout it is
	// everything the connection is made of.
	dsn := []any{"postgresql", cc.ConnString(), cc.ConnectTimeout.String(), m.Password}
	return newSharedSQLScaler(cfg, dsn, func() *sql.DB { return stdlib.OpenDB(*cc) }, sqlQuery{
		query:      m.Query,
		target:     m.TargetQueryValue,
		activation: m.ActivationTargetQueryValue,
		// KEDA names it s<index>-postgresql whatever the database.
		metricName: MetricName(cfg.TriggerIndex, "postgresql"),
		source:     fmt.Sprintf("database %q on %s as user %q", cc.Database, net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port))), cc.User),
		secrets:    []string{m.Password, cc.Password, m.Connection},
	})
}

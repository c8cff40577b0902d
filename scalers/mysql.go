package scalers

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/kedactl/kedactl/scalers/meta"
)

// mysqlConfig is the driver's connection config: the DSN Validate accepted, parsed by the driver,
// which refuses what only it knows (a parameter value of its own, a TLS config name it was not
// given), or the parts. Nil when offline validation lacked the connection.
func mysqlConfig(m *meta.MysqlMetadata) (*mysql.Config, error) {
	if m.ConnectionString != "" {
		dsn, err := mysql.ParseDSN(m.ConnectionString)
		if err != nil {
			reason := ""
			// Only the driver's fixed messages: others may quote parts of the DSN.
			if msg := err.Error(); strings.HasPrefix(msg, "invalid DSN: ") {
				reason = strings.TrimPrefix(msg, "invalid DSN: ")
			}
			return nil, meta.MysqlDSNError(reason)
		}
		return dsn, nil
	}
	if m.Host == "" || m.Port == "" {
		return nil, nil
	}
	dsn := mysql.NewConfig()
	dsn.Net, dsn.Addr = "tcp", net.JoinHostPort(m.Host, m.Port)
	dsn.User, dsn.Passwd, dsn.DBName = m.Username, m.Password, m.DBName
	return dsn, nil
}

func newMySQLScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m meta.MysqlMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	dsn, err := mysqlConfig(&m)
	if err != nil {
		return nil, identify(cfg, err)
	}
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

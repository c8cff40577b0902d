package scalers

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/kedactl/kedactl/scalers/meta"
)

// postgresqlConnConfig parses the connection string Validate settled on with pgx, which refuses
// what only it knows (an option value of its own, a certificate file it cannot read). Nil when
// offline validation lacked the connection.
func postgresqlConnConfig(m *meta.PostgresqlMetadata) (*pgx.ConnConfig, error) {
	if m.ConnString == "" {
		return nil, nil
	}
	cc, err := pgx.ParseConfig(m.ConnString)
	if err != nil {
		if m.Connection != "" {
			return nil, meta.PostgresqlConnectionError()
		}
		return nil, meta.PostgresqlPartsError()
	}
	return cc, nil
}

func postgresqlDriverCheck(m any) error {
	_, err := postgresqlConnConfig(m.(*meta.PostgresqlMetadata))
	return err
}

func newPostgreSQLScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m meta.PostgresqlMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	cc, err := postgresqlConnConfig(&m)
	if err != nil {
		return nil, identify(cfg, err)
	}
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

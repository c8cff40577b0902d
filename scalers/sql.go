package scalers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// sqlScaler is what the SQL scalers (postgresql, mysql) share once their metadata is parsed: a
// pooled database/sql handle and a query whose single numeric result is the metric. Each scaler
// file only turns its metadata into a *sql.DB, a description and a metric name.
type sqlScaler struct {
	cfg        *Config
	db         *sql.DB
	query      string
	target     float64
	activation float64
	metricName string
	// source names the database for errors ("postgresql database "jobs" on 10.0.0.1:5432 as
	// user "keda""); it never holds a password.
	source string
	// secrets are removed from every error text (the password, the connection string).
	secrets []string
	// release gives the *sql.DB back: closes it, or releases the trigger's reference to the
	// one of cfg.Clients.
	release func()
}

// sqlQuery is the part of a SQL trigger's metadata the shared scaler needs.
type sqlQuery struct {
	query      string
	target     float64
	activation float64
	metricName string
	source     string
	secrets    []string
}

// Connection pool limits of one SQL trigger: a poll needs one connection; a second lets a poll
// proceed while a broken one is being replaced.
const (
	sqlMaxOpenConns    = 2
	sqlConnMaxIdleTime = 5 * time.Minute
	sqlConnMaxLifetime = 30 * time.Minute
)

// One *sql.DB shared by many triggers: a poll holds a connection for one query; four let four
// polls of one database run at once and keep the server's connection count small
// (PostgreSQL's default max_connections is 100); more wait their turn, within their timeout.
const sqlSharedMaxOpenConns = 4

// newSQLScaler polls the query on a *sql.DB of its own, closed with the scaler.
func newSQLScaler(cfg *Config, db *sql.DB, q sqlQuery) *sqlScaler {
	limitSQLDB(db, sqlMaxOpenConns)
	return newSQLScalerOn(cfg, db, func() { _ = db.Close() }, q)
}

// newSharedSQLScaler polls the query on the *sql.DB of cfg.Clients for the connection dsn
// (driver name, then everything the connection is made of, password and timeout included;
// hashed by the pool), opened with open when the pool has none.
func newSharedSQLScaler(cfg *Config, dsn []any, open func() *sql.DB, q sqlQuery) (*sqlScaler, error) {
	if cfg.Clients == nil {
		return newSQLScaler(cfg, open(), q), nil
	}
	db, release, err := acquirePooled(cfg.Clients, "sql", dsn, func() (*sql.DB, func(), error) {
		db := open()
		limitSQLDB(db, sqlSharedMaxOpenConns)
		return db, func() { _ = db.Close() }, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s %s: could not share the connection: %w", cfg.TriggerType, q.source, err)
	}
	return newSQLScalerOn(cfg, db, release, q), nil
}

func limitSQLDB(db *sql.DB, maxOpen int) {
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxOpen)
	db.SetConnMaxIdleTime(sqlConnMaxIdleTime)
	db.SetConnMaxLifetime(sqlConnMaxLifetime)
}

func newSQLScalerOn(cfg *Config, db *sql.DB, release func(), q sqlQuery) *sqlScaler {
	// Longest first: a connection string goes whole before the password inside it.
	secrets := slices.Clone(q.secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	return &sqlScaler{cfg: cfg, db: db, query: q.query, target: q.target, activation: q.activation,
		metricName: q.metricName, source: q.source, secrets: secrets, release: release}
}

func (s *sqlScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, s.target)
}

// GetMetricsAndActivity runs the query once, bounded by the trigger's timeout; the trigger is
// active when the result is above the activation value.
func (s *sqlScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	v, err := queryFloat(ctx, s.db, s.query, s.cfg.Timeout)
	if err != nil {
		return nil, false, redact(fmt.Errorf("%s %s: %w", s.cfg.TriggerType, s.source, err), s.secrets)
	}
	return oneMetricValue(metricName, v), v > s.activation, nil
}

func (s *sqlScaler) Close(context.Context) error {
	s.release()
	return nil
}

// queryFloat runs query with a deadline of timeout and returns the first column of its first row
// as a number. No row, NULL, a second column or a value that is not a number are errors.
func queryFloat(ctx context.Context, db *sql.DB, query string, timeout time.Duration) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return 0, queryError(ctx, timeout, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, queryError(ctx, timeout, err)
	}
	if len(cols) != 1 {
		return 0, fmt.Errorf("the query returned %d columns (%s): make it return one number, e.g. SELECT COUNT(*) FROM jobs", len(cols), strings.Join(cols, ", "))
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return 0, queryError(ctx, timeout, err)
		}
		return 0, errors.New("the query returned no row: make it return one number, e.g. SELECT COUNT(*) FROM jobs")
	}
	var raw any
	if err := rows.Scan(&raw); err != nil {
		return 0, queryError(ctx, timeout, err)
	}
	return toFloat(raw)
}

// queryError words a driver error, saying so when the trigger's timeout cut the call short.
func queryError(ctx context.Context, timeout time.Duration, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no answer within the trigger's timeout of %s: %w", timeout, err)
	}
	return fmt.Errorf("could not run the query: %w", err)
}

// toFloat converts what database/sql drivers return for one column into a number.
func toFloat(raw any) (float64, error) {
	switch v := raw.(type) {
	case nil:
		return 0, errors.New("the query returned NULL: wrap the expression in COALESCE(..., 0)")
	case int64:
		return float64(v), nil
	case int32:
		return float64(v), nil
	case float64, float32:
		// Checked as text numbers are: a driver hands over a float column's NaN or Infinity
		// (PostgreSQL's 'NaN'::float8) as it is.
		f := reflect.ValueOf(v).Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("the query returned %g, not a finite number: make it return a number (e.g. guard a division with NULLIF and COALESCE)", f)
		}
		return f, nil
	case []byte:
		return parseNumber(string(v))
	case string:
		return parseNumber(v)
	default:
		return 0, fmt.Errorf("the query returned a %T, not a number", raw)
	}
}

func parseNumber(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		if len(s) > 40 {
			s = s[:40] + "..."
		}
		return 0, fmt.Errorf("the query returned %q, which is not a number", s)
	}
	return f, nil
}

// redact removes every non-empty secret from err's text.
func redact(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "(redacted)")
		}
	}
	return &rewordedError{msg: msg, err: err}
}

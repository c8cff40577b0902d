package scalers

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// fakeSQL is a database/sql driver whose only query answers with the rows of the DSN's entry in
// fakeResults, so queryFloat's handling of results is tested without a server.
type fakeSQL struct{}

type fakeResult struct {
	cols []string
	rows [][]driver.Value
	err  error
	hang bool // block until the context ends
}

var fakeResults = map[string]fakeResult{}

func init() { sql.Register("kedactl-fake", fakeSQL{}) }

func (fakeSQL) Open(name string) (driver.Conn, error) { return &fakeConn{res: fakeResults[name]}, nil }

type fakeConn struct{ res fakeResult }

func (c *fakeConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("not supported") }
func (c *fakeConn) Close() error                        { return nil }
func (c *fakeConn) Begin() (driver.Tx, error)           { return nil, errors.New("not supported") }
func (c *fakeConn) QueryContext(ctx context.Context, _ string, _ []driver.NamedValue) (driver.Rows, error) {
	if c.res.hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if c.res.err != nil {
		return nil, c.res.err
	}
	return &fakeRows{res: c.res}, nil
}

type fakeRows struct {
	res fakeResult
	i   int
}

func (r *fakeRows) Columns() []string { return r.res.cols }
func (r *fakeRows) Close() error      { return nil }
func (r *fakeRows) Next(dest []driver.Value) error {
	if r.i >= len(r.res.rows) {
		return io.EOF
	}
	copy(dest, r.res.rows[r.i])
	r.i++
	return nil
}

func TestQueryFloat(t *testing.T) {
	one := []string{"count"}
	tests := []struct {
		name    string
		res     fakeResult
		want    float64
		wantErr []string
	}{
		{name: "int64", res: fakeResult{cols: one, rows: [][]driver.Value{{int64(42)}}}, want: 42},
		{name: "float64", res: fakeResult{cols: one, rows: [][]driver.Value{{2.5}}}, want: 2.5},
		{name: "text protocol bytes", res: fakeResult{cols: one, rows: [][]driver.Value{{[]byte("12.50")}}}, want: 12.5},
		{name: "numeric as string", res: fakeResult{cols: one, rows: [][]driver.Value{{" 7 "}}}, want: 7},
		{name: "first row wins", res: fakeResult{cols: one, rows: [][]driver.Value{{int64(1)}, {int64(2)}}}, want: 1},
		{name: "no row", res: fakeResult{cols: one}, wantErr: []string{"returned no row", "COUNT(*)"}},
		{name: "NULL", res: fakeResult{cols: one, rows: [][]driver.Value{{nil}}}, wantErr: []string{"NULL", "COALESCE"}},
		{name: "text", res: fakeResult{cols: one, rows: [][]driver.Value{{"abc"}}}, wantErr: []string{`returned "abc", which is not a number`}},
		{name: "NaN", res: fakeResult{cols: one, rows: [][]driver.Value{{"NaN"}}}, wantErr: []string{"not a number"}},
		{name: "bool", res: fakeResult{cols: one, rows: [][]driver.Value{{true}}}, wantErr: []string{"returned a bool"}},
		{name: "two columns", res: fakeResult{cols: []string{"a", "b"}, rows: [][]driver.Value{{int64(1), int64(2)}}}, wantErr: []string{"2 columns (a, b)"}},
		{name: "driver error", res: fakeResult{err: errors.New("relation \"jobs\" does not exist")}, wantErr: []string{"could not run the query", `relation "jobs" does not exist`}},
		{name: "hangs", res: fakeResult{hang: true}, wantErr: []string{"no answer within the trigger's timeout of 100ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fakeResults[tt.name] = tt.res
			db, err := sql.Open("kedactl-fake", tt.name)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			start := time.Now()
			got, err := queryFloat(t.Context(), db, "SELECT", 100*time.Millisecond)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %s with a 100ms timeout", took)
			}
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("got %g, want an error mentioning %q", got, tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %g, %v; want %g", got, err, tt.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	inner := context.DeadlineExceeded
	err := redact(errors.New("dial postgres://u:pa55word@h/db failed: "+inner.Error()), []string{"", "pa55word"})
	if strings.Contains(err.Error(), "pa55word") || !strings.Contains(err.Error(), "u:(redacted)@h") {
		t.Errorf("redacted error = %q", err)
	}
	wrapped := redact(&wrapErr{inner}, []string{"x-secret"})
	if !errors.Is(wrapped, context.DeadlineExceeded) {
		t.Errorf("redact hides the wrapped error from errors.Is")
	}
}

type wrapErr struct{ err error }

func (e *wrapErr) Error() string { return "x-secret: " + e.err.Error() }
func (e *wrapErr) Unwrap() error { return e.err }

func TestFloatQuantity(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 3: "3", 2.5: "2500m", 0.001: "1m", 1e6: "1M"} {
		if got := floatQuantity(v); got.String() != want {
			t.Errorf("floatQuantity(%g) = %s, want %s", v, got, want)
		}
	}
}

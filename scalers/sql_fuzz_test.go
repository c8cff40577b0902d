package scalers

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"math"
	"testing"
	"time"
)

// fuzzSQLValue is the column value a fuzzed driver answers with: kind picks its Go type, as
// database/sql drivers return them.
func fuzzSQLValue(kind uint8, text string, f float64, i int64) driver.Value {
	switch kind % 9 {
	case 0:
		return nil
	case 1:
		return i
	case 2:
		return int32(i)
	case 3:
		return f
	case 4:
		return float32(f)
	case 5:
		return []byte(text)
	case 6:
		return text
	case 7:
		return i%2 == 0
	default:
		return time.Unix(i, 0)
	}
}

// FuzzSQLResult feeds arbitrary query results to toFloat and, through a fake driver, to a SQL
// trigger's poll: a result is a finite number or an error, and the poll reports it.
func FuzzSQLResult(f *testing.F) {
	f.Add(uint8(1), "", 0.0, int64(42))
	f.Add(uint8(3), "", 2.5, int64(0))
	f.Add(uint8(3), "", math.NaN(), int64(0))
	f.Add(uint8(3), "", math.Inf(-1), int64(0))
	f.Add(uint8(3), "", 1e300, int64(0))
	f.Add(uint8(4), "", 3.4e38, int64(0))
	f.Add(uint8(5), "12.50", 0.0, int64(0))
	f.Add(uint8(5), "NaN", 0.0, int64(0))
	f.Add(uint8(6), " 7 ", 0.0, int64(0))
	f.Add(uint8(6), "1e400", 0.0, int64(0))
	f.Add(uint8(6), "0x1p-2", 0.0, int64(0))
	f.Add(uint8(6), "9223372036854775807", 0.0, int64(0))
	f.Add(uint8(1), "", 0.0, int64(math.MinInt64))
	f.Add(uint8(0), "", 0.0, int64(0))
	f.Add(uint8(7), "", 0.0, int64(1))
	f.Add(uint8(8), "", 0.0, int64(1700000000))
	f.Fuzz(func(t *testing.T, kind uint8, text string, fl float64, i int64) {
		raw := fuzzSQLValue(kind, text, fl, i)
		want, wantErr := toFloat(raw)
		if wantErr == nil && (math.IsNaN(want) || math.IsInf(want, 0)) {
			t.Fatalf("toFloat(%#v) = %g", raw, want)
		}
		if wantErr != nil {
			checkErr(t, wantErr)
		}

		// One DSN per fuzz worker process, whose inputs run one at a time.
		const dsn = "fuzz"
		fakeResults[dsn] = fakeResult{cols: []string{"n"}, rows: [][]driver.Value{{raw}}}
		db, err := sql.Open("kedactl-fake", dsn)
		if err != nil {
			t.Fatal(err)
		}
		cfg := &Config{TriggerType: "postgresql", TriggerIndex: 6, Timeout: fuzzPollTimeout}
		s := newSQLScaler(cfg, db, sqlQuery{query: "SELECT n", target: 5, activation: 1, metricName: "s6-postgresql", source: "database fuzz"})
		defer s.Close(context.Background())
		vals, active, err := poll(t, s, "s6-postgresql")
		if wantErr != nil {
			if err == nil {
				t.Fatalf("toFloat(%#v) failed (%v), the poll did not", raw, wantErr)
			}
			checkErr(t, err, "postgresql database fuzz", wantErr.Error())
			return
		}
		if err != nil {
			t.Fatalf("toFloat(%#v) = %g, the poll failed: %v", raw, want, err)
		}
		checkPoll(t, vals, active, "s6-postgresql", want, 1)
	})
}

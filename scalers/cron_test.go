package scalers

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestCronScaler(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]string{"timezone": "Europe/Paris", "start": "0 9 * * *", "end": "0 17 * * *", "desiredReplicas": "4"}
	tests := []struct {
		name   string
		now    time.Time
		value  int64
		active bool
	}{
		{name: "inside the window", now: time.Date(2026, 11, 23, 12, 0, 0, 0, paris), value: 4, active: true},
		{name: "at the start", now: time.Date(2026, 11, 23, 9, 0, 0, 0, paris), value: 4, active: true},
		{name: "before the window", now: time.Date(2026, 11, 23, 8, 59, 0, 0, paris), value: 1, active: false},
		{name: "after the window", now: time.Date(2026, 11, 23, 17, 0, 0, 0, paris), value: 1, active: false},
		{name: "timezone applies", now: time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC), value: 4, active: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newCronScalerWithClock(&Config{TriggerType: "cron", TriggerMetadata: meta}, func() time.Time { return tt.now })
			if err != nil {
				t.Fatal(err)
			}
			vals, active, err := s.GetMetricsAndActivity(context.Background(), s.metricName)
			if err != nil {
				t.Fatal(err)
			}
			if vals[0].Value.Value() != tt.value || active != tt.active {
				t.Errorf("value=%d active=%v, want %d %v", vals[0].Value.Value(), active, tt.value, tt.active)
			}
		})
	}
	s, _ := newCronScalerWithClock(&Config{TriggerType: "cron", TriggerIndex: 2, TriggerMetadata: meta}, time.Now)
	if want := "s2-cron-Europe-Paris-09xxx-017xxx"; s.metricName != want {
		t.Errorf("metric name = %s, want %s", s.metricName, want)
	}
	specs := s.GetMetricSpecForScaling(context.Background())
	if len(specs) != 1 || specs[0].External.Target.AverageValue.Value() != 1 {
		t.Errorf("spec = %+v, want an AverageValue target of 1", specs)
	}
}

func TestCronMetadataErrors(t *testing.T) {
	base := map[string]string{"timezone": "Etc/UTC", "start": "0 9 * * *", "end": "0 17 * * *", "desiredReplicas": "2"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for kk, vv := range base {
			m[kk] = vv
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name string
		meta map[string]string
		want []string
	}{
		{"missing timezone", with("timezone", ""), []string{"metadata.timezone", "is required"}},
		{"bad timezone", with("timezone", "Mars/Olympus"), []string{"metadata.timezone", "IANA"}},
		{"bad start", with("start", "every day"), []string{"metadata.start", "five fields"}},
		{"bad end", with("end", "61 * * * *"), []string{"metadata.end"}},
		{"same start and end", with("end", "0 9 * * *"), []string{"metadata.end", "same as start"}},
		{"desired not a number", with("desiredReplicas", "many"), []string{"metadata.desiredReplicas", "integer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newCronScalerWithClock(&Config{TriggerType: "cron", TriggerMetadata: tt.meta}, time.Now)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestCronNextBoundary(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		start, end string
		now        time.Time
		want       time.Time
		ok         bool
	}{
		{name: "before the window: its start", start: "0 9 * * *", end: "0 17 * * *",
			now: time.Date(2026, 11, 23, 8, 0, 0, 0, paris), want: time.Date(2026, 11, 23, 9, 0, 0, 0, paris), ok: true},
		{name: "inside the window: its end", start: "0 9 * * *", end: "0 17 * * *",
			now: time.Date(2026, 11, 23, 12, 0, 0, 0, paris), want: time.Date(2026, 11, 23, 17, 0, 0, 0, paris), ok: true},
		{name: "at the start: the end, not the same start", start: "0 9 * * *", end: "0 17 * * *",
			now: time.Date(2026, 11, 23, 9, 0, 0, 0, paris), want: time.Date(2026, 11, 23, 17, 0, 0, 0, paris), ok: true},
		{name: "after the window: tomorrow's start", start: "0 9 * * *", end: "0 17 * * *",
			now: time.Date(2026, 11, 23, 18, 0, 0, 0, paris), want: time.Date(2026, 11, 24, 9, 0, 0, 0, paris), ok: true},
		{name: "the time zone of the trigger, not of now", start: "0 9 * * *", end: "0 17 * * *",
			now: time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC), want: time.Date(2026, 11, 23, 9, 0, 0, 0, paris), ok: true},
		{name: "across a daylight saving change", start: "0 9 * * *", end: "0 17 * * *",
			now: time.Date(2026, 3, 28, 18, 0, 0, 0, paris), want: time.Date(2026, 3, 29, 9, 0, 0, 0, paris), ok: true},
		{name: "a start that never comes: the end", start: "0 9 30 2 *", end: "0 17 * * *",
			now: time.Date(2026, 11, 23, 18, 0, 0, 0, paris), want: time.Date(2026, 11, 24, 17, 0, 0, 0, paris), ok: true},
		{name: "neither ever comes", start: "0 9 30 2 *", end: "0 17 31 2 *",
			now: time.Date(2026, 11, 23, 18, 0, 0, 0, paris), ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meta := map[string]string{"timezone": "Europe/Paris", "start": tt.start, "end": tt.end, "desiredReplicas": "4"}
			s, err := newCronScalerWithClock(&Config{TriggerType: "cron", TriggerMetadata: meta}, time.Now)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := s.nextBoundary(tt.now)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("nextBoundary(%s) = %s, %v; want %s, %v", tt.now, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestCronPushesAtTheBoundary runs the push stream on a clock set just before a window starts:
// it pushes once the start has passed, with the trigger active, well before any poll would.
func TestCronPushesAtTheBoundary(t *testing.T) {
	meta := map[string]string{"timezone": "Etc/UTC", "start": "0 9 * * *", "end": "0 17 * * *", "desiredReplicas": "4"}
	// The scaler's clock reads 200ms before 09:00 UTC when the test starts, and runs on from there.
	offset := time.Date(2026, 11, 23, 8, 59, 59, 800_000_000, time.UTC).Sub(time.Now())
	s, err := newCronScalerWithClock(&Config{TriggerType: "cron", TriggerMetadata: meta}, func() time.Time { return time.Now().Add(offset) })
	if err != nil {
		t.Fatal(err)
	}
	var ps PushScaler = s
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pushed := make(chan bool, 1)
	go ps.Run(ctx, func(active bool) {
		select {
		case pushed <- active:
		default:
		}
	})
	select {
	case active := <-pushed:
		if !active {
			t.Error("pushed inactive at the start of the window")
		}
		if _, active, _ := s.GetMetricsAndActivity(ctx, s.metricName); !active {
			t.Error("a poll after the push is not active")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no push at the window's start")
	}
}

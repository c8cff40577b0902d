package scalers

import (
	"context"
	"strings"
	"testing"
	"time"

	redisserver "github.com/kedactl/kedactl/test/servers/redis"
)

// TestRedisScalerAgainstRealServer reads a list on a real redis-server.
func TestRedisScalerAgainstRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	srv := redisserver.Start(t, redisserver.Options{Password: "pw-for-test"})
	rc := srv.Client()
	defer rc.Close()
	ctx := context.Background()

	build := func(t *testing.T, meta map[string]string, env map[string]string) Scaler {
		t.Helper()
		s, err := New(ctx, &Config{TriggerType: "redis", TriggerIndex: 1, TriggerMetadata: meta, ResolvedEnv: env, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(ctx) })
		return s
	}
	read := func(t *testing.T, s Scaler) (int64, bool, error) {
		t.Helper()
		vals, active, err := s.GetMetricsAndActivity(ctx, "s1-redis-jobs")
		if err != nil {
			return 0, false, err
		}
		return vals[0].Value.Value(), active, nil
	}

	s := build(t, map[string]string{"address": srv.Addr, "listName": "jobs", "activationListLength": "2", "passwordFromEnv": "PW"}, map[string]string{"PW": "pw-for-test"})
	specs := s.GetMetricSpecForScaling(ctx)
	if len(specs) != 1 || specs[0].External.Metric.Name != "s1-redis-jobs" || specs[0].External.Target.AverageValue.Value() != 5 {
		t.Fatalf("metric spec = %+v", specs)
	}
	steps := []struct {
		push   int
		value  int64
		active bool
	}{{0, 0, false}, {2, 2, false}, {1, 3, true}, {10, 13, true}}
	for _, step := range steps {
		for range step.push {
			if err := rc.RPush(ctx, "jobs", "x").Err(); err != nil {
				t.Fatal(err)
			}
		}
		v, active, err := read(t, s)
		if err != nil {
			t.Fatal(err)
		}
		if v != step.value || active != step.active {
			t.Errorf("after pushing to %d: value=%d active=%v, want %d %v", step.value, v, active, step.value, step.active)
		}
	}

	t.Run("wrong password", func(t *testing.T) {
		bad := build(t, map[string]string{"address": srv.Addr, "listName": "jobs", "password": "wrong"}, nil)
		if _, _, err := read(t, bad); err == nil || strings.Contains(err.Error(), "wrong") {
			t.Fatalf("want an error that does not echo the password, got %v", err)
		}
	})

	t.Run("server gone", func(t *testing.T) {
		gone := redisserver.Start(t, redisserver.Options{})
		s := build(t, map[string]string{"address": gone.Addr, "listName": "jobs"}, nil)
		gone.Stop()
		start := time.Now()
		if _, _, err := read(t, s); err == nil {
			t.Fatal("want an error from a stopped server")
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("a dead server took %s to fail: the timeout is not applied", took)
		}
	})
}

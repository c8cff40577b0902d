package observability

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/types"
)

func TestPollAndForget(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New()
	if err := m.Register(reg, "v1.0.0", "abc"); err != nil {
		t.Fatal(err)
	}
	key := types.NamespacedName{Namespace: "ns", Name: "worker"}
	m.Poll(key, TypeScaledObject, 0, "redis", "s0-redis-jobs", 7, true, nil, 20*time.Millisecond, time.Millisecond)
	m.Poll(key, TypeScaledObject, 1, "redis", "s1-redis-other", 0, false, errors.New("down"), time.Second, 0)
	// A ScaledJob of the same name: its series are told apart by type, its errors counted apart.
	m.Poll(key, TypeScaledJob, 0, "redis", "s0-redis-jobs", 3, true, nil, 0, 0)
	m.Poll(key, TypeScaledJob, 0, "redis", "s0-redis-jobs", 3, true, errors.New("down"), 0, 0)
	m.Paused(key, true)
	m.Registered("ns", 1)
	want := `
# HELP keda_scaler_metrics_value The current value of each scaler's metric, as served to the HPA.
# TYPE keda_scaler_metrics_value gauge
keda_scaler_metrics_value{metric="s0-redis-jobs",namespace="ns",scaledObject="worker",scaler="redisScaler",triggerIndex="0",type="scaledjob"} 3
keda_scaler_metrics_value{metric="s0-redis-jobs",namespace="ns",scaledObject="worker",scaler="redisScaler",triggerIndex="0",type="scaledobject"} 7
# HELP keda_scaler_detail_errors_total Errors met by each scaler.
# TYPE keda_scaler_detail_errors_total counter
keda_scaler_detail_errors_total{metric="s0-redis-jobs",namespace="ns",scaledObject="worker",scaler="redisScaler",triggerIndex="0",type="scaledjob"} 1
keda_scaler_detail_errors_total{metric="s0-redis-jobs",namespace="ns",scaledObject="worker",scaler="redisScaler",triggerIndex="0",type="scaledobject"} 0
keda_scaler_detail_errors_total{metric="s1-redis-other",namespace="ns",scaledObject="worker",scaler="redisScaler",triggerIndex="1",type="scaledobject"} 1
# HELP keda_scaled_object_paused 1 when the ScaledObject is paused, else 0.
# TYPE keda_scaled_object_paused gauge
keda_scaled_object_paused{namespace="ns",scaledObject="worker"} 1
# HELP keda_scaled_job_errors_total Errors met while scaling each ScaledJob.
# TYPE keda_scaled_job_errors_total counter
keda_scaled_job_errors_total{namespace="ns",scaledJob="worker"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "keda_scaler_metrics_value", "keda_scaler_detail_errors_total", "keda_scaled_object_paused", "keda_scaled_job_errors_total"); err != nil {
		t.Error(err)
	}
	m.Forget(key, TypeScaledObject)
	if n := testutil.CollectAndCount(m.scalerValue); n != 1 {
		t.Errorf("%d value series left after forgetting the ScaledObject, want the ScaledJob's 1", n)
	}
	m.Forget(key, TypeScaledJob)
	if n := testutil.CollectAndCount(m.scalerValue); n != 0 {
		t.Errorf("%d value series left after Forget", n)
	}
	if n := testutil.CollectAndCount(m.jobErrors); n != 0 {
		t.Errorf("%d ScaledJob error series left after Forget", n)
	}
	if n := testutil.CollectAndCount(m.buildInfo); n != 1 {
		t.Errorf("build info series = %d", n)
	}
}

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
	m.Poll(key, 0, "redis", "s0-redis-jobs", 7, true, nil, 20*time.Millisecond, time.Millisecond)
	m.Poll(key, 1, "redis", "s1-redis-other", 0, false, errors.New("down"), time.Second, 0)
	m.Paused(key, true)
	m.Registered("ns", 1)
	want := `
# HELP keda_scaler_metrics_value The current value of each scaler's metric, as served to the HPA.
# TYPE keda_scaler_metrics_value gauge
keda_scaler_metrics_value{metric="s0-redis-jobs",namespace="ns",scaledObject="worker",scaler="redisScaler",triggerIndex="0",type="scaledobject"} 7
# HELP keda_scaler_detail_errors_total Errors met by each scaler.
# TYPE keda_scaler_detail_errors_total counter
keda_scaler_detail_errors_total{metric="s0-redis-jobs",namespace="ns",scaledObject="worker",scaler="redisScaler",triggerIndex="0",type="scaledobject"} 0
keda_scaler_detail_errors_total{metric="s1-redis-other",namespace="ns",scaledObject="worker",scaler="redisScaler",triggerIndex="1",type="scaledobject"} 1
# HELP keda_scaled_object_paused 1 when the ScaledObject is paused, else 0.
# TYPE keda_scaled_object_paused gauge
keda_scaled_object_paused{namespace="ns",scaledObject="worker"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "keda_scaler_metrics_value", "keda_scaler_detail_errors_total", "keda_scaled_object_paused"); err != nil {
		t.Error(err)
	}
	m.Forget(key)
	if n := testutil.CollectAndCount(m.scalerValue); n != 0 {
		t.Errorf("%d value series left after Forget", n)
	}
	if n := testutil.CollectAndCount(m.buildInfo); n != 1 {
		t.Errorf("build info series = %d", n)
	}
}

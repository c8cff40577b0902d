package observability

import (
	"errors"
	"runtime"
	"strconv"
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
	if n := testutil.CollectAndCount(m.objects, "keda_scaler_metrics_value"); n != 1 {
		t.Errorf("%d value series left after forgetting the ScaledObject, want the ScaledJob's 1", n)
	}
	m.Forget(key, TypeScaledJob)
	if n := testutil.CollectAndCount(m.objects, "keda_scaler_metrics_value"); n != 0 {
		t.Errorf("%d value series left after Forget", n)
	}
	if n := testutil.CollectAndCount(m.objects, "keda_scaled_job_errors_total"); n != 0 {
		t.Errorf("%d ScaledJob error series left after Forget", n)
	}
	if n := testutil.CollectAndCount(m.buildInfo); n != 1 {
		t.Errorf("build info series = %d", n)
	}
}

func TestHandledCountsResourcesAndTriggers(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New()
	if err := m.Register(reg, "v1.0.0", "abc"); err != nil {
		t.Fatal(err)
	}
	a, b := types.NamespacedName{Namespace: "ns", Name: "a"}, types.NamespacedName{Namespace: "ns", Name: "b"}
	m.Handled(ResourceScaledObject, a, []string{"redis", "cron"})
	m.Handled(ResourceScaledObject, b, []string{"redis"})
	m.Handled(ResourceScaledObject, a, []string{"redis", "cron"}) // a resync changes nothing
	m.Handled(ResourceScaledJob, a, []string{"rabbitmq"})         // a ScaledJob of the same name counts apart
	m.Handled(ResourceTriggerAuthentication, a, nil)
	m.Handled(ResourceScaledObject, b, []string{"kafka"}) // an edit moves b's trigger
	want := `
# HELP keda_resource_registered_total KEDA resources the operator handles, by type and namespace.
# TYPE keda_resource_registered_total gauge
keda_resource_registered_total{namespace="ns",type="scaled_job"} 1
keda_resource_registered_total{namespace="ns",type="scaled_object"} 2
keda_resource_registered_total{namespace="ns",type="trigger_authentication"} 1
# HELP keda_trigger_registered_total Triggers of the ScaledObjects and ScaledJobs the operator handles, by trigger type.
# TYPE keda_trigger_registered_total gauge
keda_trigger_registered_total{type="cron"} 1
keda_trigger_registered_total{type="kafka"} 1
keda_trigger_registered_total{type="rabbitmq"} 1
keda_trigger_registered_total{type="redis"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "keda_resource_registered_total", "keda_trigger_registered_total"); err != nil {
		t.Error(err)
	}
	m.Gone(ResourceScaledObject, a)
	m.Gone(ResourceScaledObject, a) // twice: a deletion seen again
	want = `
# HELP keda_trigger_registered_total Triggers of the ScaledObjects and ScaledJobs the operator handles, by trigger type.
# TYPE keda_trigger_registered_total gauge
keda_trigger_registered_total{type="cron"} 0
keda_trigger_registered_total{type="kafka"} 1
keda_trigger_registered_total{type="rabbitmq"} 1
keda_trigger_registered_total{type="redis"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "keda_trigger_registered_total"); err != nil {
		t.Error(err)
	}
}

func TestValidated(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New()
	if err := m.Register(reg, "v1.0.0", "abc"); err != nil {
		t.Fatal(err)
	}
	m.Validated("ns", "create", "")
	m.Validated("ns", "update", "incorrect-replicas")
	want := `
# HELP keda_webhook_scaled_object_validation_errors_total ScaledObjects the admission webhook refused, by namespace, action and reason.
# TYPE keda_webhook_scaled_object_validation_errors_total counter
keda_webhook_scaled_object_validation_errors_total{action="update",namespace="ns",reason="incorrect-replicas"} 1
# HELP keda_webhook_scaled_object_validations_total ScaledObjects the admission webhook validated, by namespace and action (create, update).
# TYPE keda_webhook_scaled_object_validations_total counter
keda_webhook_scaled_object_validations_total{action="create",namespace="ns"} 1
keda_webhook_scaled_object_validations_total{action="update",namespace="ns"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "keda_webhook_scaled_object_validations_total", "keda_webhook_scaled_object_validation_errors_total"); err != nil {
		t.Error(err)
	}
}

func TestPollSeriesFollowTheSpec(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New()
	if err := m.Register(reg, "v1.0.0", "abc"); err != nil {
		t.Fatal(err)
	}
	key := types.NamespacedName{Namespace: "ns", Name: "worker"}
	m.Poll(key, TypeScaledObject, 0, "redis", "s0-redis-jobs", 7, true, nil, 20*time.Millisecond, 3*time.Millisecond)
	m.Poll(key, TypeScaledObject, 0, "redis", "s0-redis-jobs", 7, true, errors.New("down"), 20*time.Millisecond, 3*time.Millisecond)
	// An edit made trigger 0 another trigger: its series start again under the new labels, and
	// the old ones go (they would otherwise report a trigger that no longer exists).
	m.Poll(key, TypeScaledObject, 0, "prometheus", "s0-prometheus", 2, false, nil, 10*time.Millisecond, time.Millisecond)
	m.Paused(key, false)
	want := `
# HELP keda_scaler_active 1 when the scaler is active, else 0.
# TYPE keda_scaler_active gauge
keda_scaler_active{metric="s0-prometheus",namespace="ns",scaledObject="worker",scaler="prometheusScaler",triggerIndex="0",type="scaledobject"} 0
# HELP keda_scaler_metrics_latency_seconds The time the last read of each scaler's source took.
# TYPE keda_scaler_metrics_latency_seconds gauge
keda_scaler_metrics_latency_seconds{metric="s0-prometheus",namespace="ns",scaledObject="worker",scaler="prometheusScaler",triggerIndex="0",type="scaledobject"} 0.01
# HELP keda_scaler_detail_errors_total Errors met by each scaler.
# TYPE keda_scaler_detail_errors_total counter
keda_scaler_detail_errors_total{metric="s0-prometheus",namespace="ns",scaledObject="worker",scaler="prometheusScaler",triggerIndex="0",type="scaledobject"} 0
# HELP keda_scaled_object_errors_total Errors met while scaling each ScaledObject.
# TYPE keda_scaled_object_errors_total counter
keda_scaled_object_errors_total{namespace="ns",scaledObject="worker"} 1
# HELP keda_scaled_object_paused 1 when the ScaledObject is paused, else 0.
# TYPE keda_scaled_object_paused gauge
keda_scaled_object_paused{namespace="ns",scaledObject="worker"} 0
# HELP keda_internal_scale_loop_latency_seconds How late the last poll of each object ran against its schedule.
# TYPE keda_internal_scale_loop_latency_seconds gauge
keda_internal_scale_loop_latency_seconds{namespace="ns",resource="worker",type="scaledobject"} 0.001
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "keda_scaler_active", "keda_scaler_metrics_latency_seconds",
		"keda_scaler_detail_errors_total", "keda_scaled_object_errors_total", "keda_scaled_object_paused", "keda_internal_scale_loop_latency_seconds"); err != nil {
		t.Error(err)
	}
	// A negative index (no trigger) records nothing and does not panic.
	m.Poll(key, TypeScaledObject, -1, "redis", "x", 1, true, nil, 0, 0)
}

// BenchmarkSeriesMemory reports the heap the per-object series hold for 10,000 ScaledObjects of
// one trigger each, polled once (bytes/object).
func BenchmarkSeriesMemory(b *testing.B) {
	const objects = 10000
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := New()
		for i := range objects {
			key := types.NamespacedName{Namespace: "bench", Name: "so-" + strconv.Itoa(i)}
			m.Poll(key, TypeScaledObject, 0, "metrics-api", "s0-metric-api-value", 0, false, nil, time.Millisecond, time.Millisecond)
			m.Paused(key, false)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/objects, "bytes/object")
		runtime.KeepAlive(m)
	}
}

package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Annotations a test sets on a pod (or its template) to choose the cpu and memory kwok reports for
// each of its containers, e.g. "400m" and "300Mi". Without them a container uses 1m and 1Mi.
const (
	UsageCPUAnnotation    = "kwok.x-k8s.io/usage-cpu"
	UsageMemoryAnnotation = "kwok.x-k8s.io/usage-memory"
)

// resourceMetricsPath is where kwok serves a node's emulated kubelet /metrics/resource; metrics-server
// reads it from the node annotation metrics.k8s.io/resource-metrics-path.
func resourceMetricsPath(node string) string {
	return "/metrics/nodes/" + node + "/metrics/resource"
}

// kwokMetricsConfig makes kwok emulate what a kubelet's /metrics/resource serves to metrics-server
// (the five series it decodes), with each container's usage taken from the pod annotations above;
// cpu is integrated over time into the cumulative counter metrics-server derives a rate from.
const kwokMetricsConfig = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterResourceUsage
metadata:
  name: usage-from-annotations
spec:
  usages:
  - usage:
      cpu:
        expression: '"` + UsageCPUAnnotation + `" in pod.metadata.annotations ? Quantity(pod.metadata.annotations["` + UsageCPUAnnotation + `"]) : Quantity("1m")'
      memory:
        expression: '"` + UsageMemoryAnnotation + `" in pod.metadata.annotations ? Quantity(pod.metadata.annotations["` + UsageMemoryAnnotation + `"]) : Quantity("1Mi")'
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Metric
metadata:
  name: kubelet-resource-metrics
spec:
  path: /metrics/nodes/{nodeName}/metrics/resource
  metrics:
  - name: node_cpu_usage_seconds_total
    help: Cumulative cpu time consumed by the node in core-seconds
    kind: counter
    dimension: node
    value: node.CumulativeUsage("cpu")
  - name: node_memory_working_set_bytes
    help: Current working set of the node in bytes
    kind: gauge
    dimension: node
    value: node.Usage("memory")
  - name: container_start_time_seconds
    help: Start time of the container since unix epoch in seconds
    kind: gauge
    dimension: container
    labels: &container
    - {name: container, value: container.name}
    - {name: namespace, value: pod.metadata.namespace}
    - {name: pod, value: pod.metadata.name}
    value: pod.SinceSecond()
  - name: container_cpu_usage_seconds_total
    help: Cumulative cpu time consumed by the container in core-seconds
    kind: counter
    dimension: container
    labels: *container
    value: pod.CumulativeUsage("cpu", container.name)
  - name: container_memory_working_set_bytes
    help: Current working set of the container in bytes
    kind: gauge
    dimension: container
    labels: *container
    value: pod.Usage("memory", container.name)
`

// JobOutcomeLabel, on a pod template of a Job, says what kwok does with the Job's pods once they
// run: absent, they succeed at once (kwok's own pod-complete stage); JobOutcomeRun keeps them
// running; JobOutcomeFail makes them fail. Tests of ScaledJobs use it to hold Jobs running or fail
// them.
const (
	JobOutcomeLabel = "kedactl_job_outcome"
	JobOutcomeRun   = "run"
	JobOutcomeFail  = "fail"
)

// podCompleteSelector is the match expression of kwok's pod-complete stage that the job outcome
// label is added after.
const podCompleteSelector = `    - key: '.metadata.ownerReferences.[].kind'
      operator: 'In'
      values:
      - 'Job'
`

// kwokPodFailStage fails the running pods of Jobs labelled JobOutcomeLabel=JobOutcomeFail.
const kwokPodFailStage = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-fail
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values:
      - 'Running'
    - key: '.metadata.labels.` + JobOutcomeLabel + `'
      operator: 'In'
      values:
      - '` + JobOutcomeFail + `'
  next:
    statusTemplate: |
      {{ $now := Now }}
      containerStatuses:
      {{ range $index, $item := .spec.containers }}
      - image: {{ $item.image | Quote }}
        name: {{ $item.name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: 1
            finishedAt: {{ $now | Quote }}
            reason: Error
            startedAt: {{ $now | Quote }}
      {{ end }}
      phase: Failed
`

// withJobOutcomes makes kwok's pod-complete stage skip pods with JobOutcomeLabel, and adds the
// stage that fails those labelled JobOutcomeFail.
func withJobOutcomes(stages []byte) ([]byte, error) {
	text := string(stages)
	if strings.Count(text, podCompleteSelector) != 1 {
		return nil, fmt.Errorf("kwok's stages do not have the one pod-complete selector on Job pods this harness expects")
	}
	text = strings.Replace(text, podCompleteSelector, podCompleteSelector+`    - key: '.metadata.labels.`+JobOutcomeLabel+`'
      operator: 'DoesNotExist'
`, 1)
	return []byte(text + "\n---\n" + kwokPodFailStage), nil
}

// writeKwokConfig writes kwok's --config: the lifecycle stages (with the job outcomes), plus the
// emulated resource metrics when metrics-server is to scrape them.
func writeKwokConfig(dir, stagesPath string, metrics bool) (string, error) {
	stages, err := os.ReadFile(stagesPath)
	if err != nil {
		return "", fmt.Errorf("failed to read kwok's stages: %w", err)
	}
	if stages, err = withJobOutcomes(stages); err != nil {
		return "", err
	}
	if metrics {
		stages = append(stages, []byte("\n---\n"+kwokMetricsConfig)...)
	}
	path := filepath.Join(dir, "kwok-config.yaml")
	if err := os.WriteFile(path, stages, 0o644); err != nil {
		return "", fmt.Errorf("failed to write kwok's config: %w", err)
	}
	return path, nil
}

// startMetricsServer runs metrics-server on 127.0.0.1:port, scraping the kwok nodes (InternalIP
// 127.0.0.1, kwok's port) with insecure TLS (kwok's own certificate), and registers it as
// v1beta1.metrics.k8s.io so that the HPA controller reads Resource metrics from it.
func (c *Cluster) startMetricsServer(ctx context.Context, bin string, port, kwokPort int) error {
	const group, version = "metrics.k8s.io", "v1beta1"
	certPEM, keyPEM, caPEM, err := c.ServingCert("localhost", "127.0.0.1", APIServiceHost(group, version))
	if err != nil {
		return err
	}
	pki := filepath.Join(c.dir, "pki")
	certFile, keyFile := filepath.Join(pki, "metrics-server.crt"), filepath.Join(pki, "metrics-server.key")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	kc := filepath.Join(c.dir, "metrics-server.kubeconfig")
	if err := c.run("metrics-server", bin,
		"--kubeconfig", kc, "--authentication-kubeconfig", kc, "--authorization-kubeconfig", kc,
		"--bind-address=127.0.0.1", "--secure-port", strconv.Itoa(port),
		"--tls-cert-file", certFile, "--tls-private-key-file", keyFile,
		"--kubelet-preferred-address-types=InternalIP",
		"--kubelet-port", strconv.Itoa(kwokPort),
		"--kubelet-insecure-tls",
		"--metric-resolution=10s", "--kubelet-request-timeout=3s",
	); err != nil {
		return err
	}
	return c.RegisterAPIService(ctx, group, version, port, caPEM)
}

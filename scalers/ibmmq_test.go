package scalers

import (
	"testing"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseIBMMQMetadata(t *testing.T) {
	const host = "https://mq:9443/ibmmq/rest/v2/admin/action/qmgr/QM1/mqsc"
	base := func(extra ...string) map[string]string {
		m := map[string]string{"host": host, "queueName": "DEV.QUEUE.1"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	creds := map[string]string{"username": "app", "password": "s3cret"}
	tests := []parseCase[meta.IBMMQMetadata]{
		{name: "defaults", meta: base(), auth: creds, check: func(t *testing.T, m *meta.IBMMQMetadata) {
			if m.HostURL.String() != host || len(m.QueueName) != 1 || m.QueueDepth != 20 || m.ActivationQueueDepth != 0 || m.Operation != "max" || m.UnsafeSsl {
				t.Errorf("parsed %+v", m)
			}
			if !m.Auth.Has(meta.AuthModeBasic) || m.Auth.Username != "app" || m.Auth.Password != "s3cret" {
				t.Errorf("auth %+v", m.Auth)
			}
		}},
		{name: "queueNames, the other name of queueName", meta: map[string]string{"host": host, "queueNames": "A, B,C", "operation": "avg"}, auth: creds,
			check: func(t *testing.T, m *meta.IBMMQMetadata) {
				if len(m.QueueName) != 3 || m.QueueName[1] != "B" || m.Operation != "avg" {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "queueName wins over queueNames", meta: base("queueNames", "X,Y"), auth: creds, check: func(t *testing.T, m *meta.IBMMQMetadata) {
			if len(m.QueueName) != 1 || m.QueueName[0] != "DEV.QUEUE.1" {
				t.Errorf("parsed %v", m.QueueName)
			}
		}},
		{name: "credentials from env", meta: base("usernameFromEnv", "MQ_USER", "passwordFromEnv", "MQ_PASS"), env: map[string]string{"MQ_USER": "e", "MQ_PASS": "s3cret"},
			check: func(t *testing.T, m *meta.IBMMQMetadata) {
				if m.Auth.Username != "e" || m.Auth.Password != "s3cret" {
					t.Errorf("auth %+v", m.Auth)
				}
			}},
		{name: "no queue", meta: map[string]string{"host": host}, auth: creds, wantErr: []string{"metadata.queueName", "is required", "metadata.queueName or metadata.queueNames"}},
		{name: "a list of no queue", meta: base("queueName", " , "), auth: creds, wantErr: []string{"metadata.queueName", "names no queue"}},
		{name: "no host", meta: map[string]string{"queueName": "Q"}, auth: creds, wantErr: []string{"metadata.host", "is required"}},
		{name: "host not a URL", meta: base("host", "mq:9443"), auth: creds, wantErr: []string{"metadata.host", "not an http(s) URL"}},
		{name: "bad operation", meta: base("operation", "median"), auth: creds, wantErr: []string{"metadata.operation", "max, avg, sum"}},
		{name: "zero queueDepth", meta: base("queueDepth", "0"), auth: creds, wantErr: []string{"metadata.queueDepth", "above 0"}},
		{name: "no password", meta: base(), auth: map[string]string{"username": "app"}, wantErr: []string{"metadata.password", "is required"}},
		{name: "cert without key", meta: base(), auth: map[string]string{"username": "u", "password": "s3cret", "cert": "x"}, wantErr: []string{"metadata.key"}},
		{name: "offline: credentials may come later", meta: base(), offline: true, check: func(*testing.T, *meta.IBMMQMetadata) {}},
	}
	runParseCases(t, "ibmmq", tests, "s3cret")
}

// TestIBMMQCombine: KEDA's operations over several queues' depths; avg rounds down.
func TestIBMMQCombine(t *testing.T) {
	for _, tc := range []struct {
		depths []int64
		op     string
		want   int64
	}{
		{nil, "max", 0}, {[]int64{3}, "sum", 3}, {[]int64{1, 4, 2}, "max", 4}, {[]int64{1, 4, 2}, "sum", 7}, {[]int64{1, 4, 2}, "avg", 2}, {[]int64{0, 0}, "avg", 0},
	} {
		if got := ibmmqCombine(tc.depths, tc.op); got != tc.want {
			t.Errorf("ibmmqCombine(%v, %s) = %d, want %d", tc.depths, tc.op, got, tc.want)
		}
	}
}

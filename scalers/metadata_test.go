package scalers

import (
	"strings"
	"testing"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseRedisMetadata(t *testing.T) {
	tests := []struct {
		name    string
		meta    map[string]string
		auth    map[string]string
		env     map[string]string
		wantErr []string
		check   func(t *testing.T, m *meta.RedisMetadata)
	}{
		{name: "address and defaults", meta: map[string]string{"address": "127.0.0.1:6379", "listName": "jobs"}, check: func(t *testing.T, m *meta.RedisMetadata) {
			if m.Address != "127.0.0.1:6379" || m.ListLength != 5 || m.ActivationListLength != 0 || m.DatabaseIndex != 0 {
				t.Errorf("got %+v", m)
			}
		}},
		{name: "host and port", meta: map[string]string{"host": "localhost", "port": "6380", "listName": "jobs", "listLength": "10", "activationListLength": "3", "databaseIndex": "2"}, check: func(t *testing.T, m *meta.RedisMetadata) {
			if m.Address != "localhost:6380" || m.ListLength != 10 || m.ActivationListLength != 3 || m.DatabaseIndex != 2 {
				t.Errorf("got %+v", m)
			}
		}},
		{name: "password from env", meta: map[string]string{"address": "a:1", "listName": "l", "passwordFromEnv": "REDIS_PASSWORD"}, env: map[string]string{"REDIS_PASSWORD": "s3cret"}, check: func(t *testing.T, m *meta.RedisMetadata) {
			if m.Password != "s3cret" {
				t.Errorf("password not resolved from env")
			}
		}},
		{name: "auth params win over metadata", meta: map[string]string{"address": "meta:1", "listName": "l"}, auth: map[string]string{"address": "auth:2"}, check: func(t *testing.T, m *meta.RedisMetadata) {
			if m.Address != "auth:2" {
				t.Errorf("address = %s, want the TriggerAuthentication's", m.Address)
			}
		}},
		{name: "missing listName", meta: map[string]string{"address": "a:1"}, wantErr: []string{"trigger 0 (redis)", "metadata.listName", "is required"}},
		{name: "missing address", meta: map[string]string{"listName": "l"}, wantErr: []string{"metadata.address", "host and metadata.port"}},
		{name: "host without port", meta: map[string]string{"listName": "l", "host": "h"}, wantErr: []string{"metadata.port"}},
		{name: "listLength not a number", meta: map[string]string{"address": "a:1", "listName": "l", "listLength": "five"}, wantErr: []string{"metadata.listLength", `"five" is not a valid integer`}},
		{name: "listLength zero", meta: map[string]string{"address": "a:1", "listName": "l", "listLength": "0"}, wantErr: []string{"metadata.listLength", "greater than 0"}},
		{name: "env var missing", meta: map[string]string{"address": "a:1", "listName": "l", "passwordFromEnv": "NOPE"}, wantErr: []string{"metadata.password", `"NOPE"`}},
		{name: "bad tls value hides nothing secret", meta: map[string]string{"address": "a:1", "listName": "l"}, auth: map[string]string{"tls": "maybe"}, wantErr: []string{"metadata.tls", "enable, disable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &Config{TriggerType: "redis", TriggerMetadata: tt.meta, AuthParams: tt.auth, ResolvedEnv: tt.env}
			var m meta.RedisMetadata
			err := ParseMetadata(cfg, &m)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("want an error mentioning %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, &m)
		})
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	cfg := &Config{TriggerType: "redis", TriggerMetadata: map[string]string{"address": "a:1", "listName": "l"}, AuthParams: map[string]string{"password": "hunter2-secret"}}
	type withEnum struct {
		Password string `keda:"name=password, order=authParams, secret, enum=a;b"`
	}
	err := ParseMetadata(cfg, &withEnum{})
	if err == nil || strings.Contains(err.Error(), "hunter2-secret") {
		t.Fatalf("error %v leaks or misses the secret parameter", err)
	}
}

func TestMetricName(t *testing.T) {
	tests := map[string]string{
		"redis-jobs":                    "s0-redis-jobs",
		"redis-my.list:a/b":             "s0-redis-my-list-a-b",
		"cron-Etc/UTC-0xxxx-5xxxx":      "s0-cron-Etc-UTC-0xxxx-5xxxx",
		"metric (with) \"odd\" {chars}": "s0-metric--with---odd---chars-",
	}
	for in, want := range tests {
		if got := MetricName(0, in); got != want {
			t.Errorf("MetricName(0, %q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewUnknownType(t *testing.T) {
	_, err := New(t.Context(), &Config{TriggerIndex: 1, TriggerType: "nope"})
	if err == nil || !strings.Contains(err.Error(), `spec.triggers[1].type "nope"`) || !strings.Contains(err.Error(), "redis") {
		t.Fatalf("error = %v", err)
	}
}

// TestParseMetadataReadsEmbeddedStructs: parameters several scalers share live in one embedded
// struct; ParseMetadata fills them, and the schema lists them, as if declared in place.
func TestParseMetadataReadsEmbeddedStructs(t *testing.T) {
	type shared struct {
		Password string `keda:"name=password, order=authParams, secret"`
		Port     int    `keda:"name=port, order=triggerMetadata, default=6379"`
	}
	type meta struct {
		Queue string `keda:"name=queue, order=triggerMetadata"`
		shared
	}
	m := &meta{}
	cfg := &Config{TriggerType: "x", TriggerMetadata: map[string]string{"queue": "q"}, AuthParams: map[string]string{"password": "s3cret"}}
	if err := ParseMetadata(cfg, m); err != nil {
		t.Fatal(err)
	}
	if m.Queue != "q" || m.Password != "s3cret" || m.Port != 6379 {
		t.Errorf("parsed %+v", m)
	}
	cfg.AuthParams = nil
	if err := ParseMetadata(cfg, &meta{}); err == nil || !strings.Contains(err.Error(), "password") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a missing embedded parameter: %v", err)
	}
	params, err := parametersOf(meta{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range params {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "queue,password,port" {
		t.Errorf("schema parameters %v, want queue,password,port", names)
	}
}

// TestOfflineRequiredParameters: offline, a required parameter missing from the metadata is
// excused only where it can still come: from the TriggerAuthentication the trigger names, or from
// the env var its <name>FromEnv key names.
func TestOfflineRequiredParameters(t *testing.T) {
	kafka := func(extra ...string) map[string]string {
		m := map[string]string{"consumerGroup": "g", "topic": "t"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	for _, tt := range []struct {
		name    string
		typ     string
		meta    map[string]string
		authRef bool
		wantErr string
	}{
		{name: "kafka without bootstrapServers", typ: "kafka", meta: kafka(), wantErr: "metadata.bootstrapServers is required"},
		{name: "kafka without bootstrapServers, with an authenticationRef", typ: "kafka", meta: kafka(), authRef: true, wantErr: "metadata.bootstrapServers is required"},
		{name: "kafka naming an env var for bootstrapServers", typ: "kafka", meta: kafka("bootstrapServersFromEnv", "BROKERS")},
		{name: "rabbitmq host from a TriggerAuthentication", typ: "rabbitmq", meta: map[string]string{"queueName": "q", "mode": "QueueLength", "value": "5"}, authRef: true},
		{name: "rabbitmq without host or authenticationRef", typ: "rabbitmq", meta: map[string]string{"queueName": "q", "mode": "QueueLength", "value": "5"}, wantErr: "metadata.host is required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateTrigger(&Config{TriggerType: tt.typ, TriggerMetadata: tt.meta, Offline: true, HasAuthenticationRef: tt.authRef})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one saying %q", err, tt.wantErr)
			}
		})
	}
}

package meta

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type shared struct {
	Password string `keda:"name=password, order=authParams;resolvedEnv, secret"`
}

type sample struct {
	Queue  string        `keda:"name=queue, order=triggerMetadata"`
	Length int64         `keda:"name=length, order=triggerMetadata, default=5"`
	Mode   string        `keda:"name=mode, order=triggerMetadata, optional, enum=a;b"`
	Every  time.Duration `keda:"name=every, order=triggerMetadata, optional"`
	Hosts  []string      `keda:"name=hosts, order=triggerMetadata, optional, separator=;"`
	shared
	MetricSource
}

func (s *sample) Validate() error {
	if s.Length <= 0 && !s.AsMetricSource() {
		return &ParamError{Param: "length", Problem: "is not positive", Fix: "use a number above 0"}
	}
	return nil
}

// TestParse: the parser fills every kind of field from the sources a tag allows, runs Validate
// with the trigger's identity in its error, hides secrets, and excuses offline what a
// TriggerAuthentication or the target's env may still supply.
func TestParse(t *testing.T) {
	ps := NewParser(sample{})
	for _, tc := range []struct {
		name    string
		trigger Trigger
		wantErr string
		check   func(*sample) bool
	}{
		{name: "every kind of field", trigger: Trigger{Metadata: map[string]string{"queue": "q", "mode": "b", "every": "30s", "hosts": "a; b"}, AuthParams: map[string]string{"password": "s3cret"}},
			check: func(s *sample) bool {
				return s.Queue == "q" && s.Length == 5 && s.Mode == "b" && s.Every == 30*time.Second && strings.Join(s.Hosts, ",") == "a,b" && s.Password == "s3cret"
			}},
		{name: "env through FromEnv", trigger: Trigger{Metadata: map[string]string{"queue": "q", "passwordFromEnv": "PW"}, ResolvedEnv: map[string]string{"PW": "from-env"}},
			check: func(s *sample) bool { return s.Password == "from-env" }},
		{name: "required missing", trigger: Trigger{Index: 2, Type: "x", Metadata: map[string]string{}}, wantErr: "trigger 2 (x): spec.triggers[2].metadata.queue is required: set metadata.queue"},
		{name: "enum", trigger: Trigger{Metadata: map[string]string{"queue": "q", "mode": "c"}, AuthParams: map[string]string{"password": "p"}}, wantErr: `metadata.mode is "c": must be one of a, b`},
		{name: "Validate named with the trigger", trigger: Trigger{Index: 1, Type: "x", Name: "n", Metadata: map[string]string{"queue": "q", "length": "0"}, AuthParams: map[string]string{"password": "p"}},
			wantErr: `trigger 1 (x "n"): spec.triggers[1].metadata.length is not positive: use a number above 0`},
		{name: "metric source excuses the target", trigger: Trigger{AsMetricSource: true, Metadata: map[string]string{"queue": "q", "length": "0"}, AuthParams: map[string]string{"password": "p"}},
			check: func(s *sample) bool { return s.AsMetricSource() }},
		{name: "offline with an authenticationRef", trigger: Trigger{Offline: true, HasAuthenticationRef: true, Metadata: map[string]string{"queue": "q"}}, check: func(s *sample) bool { return s.Password == "" }},
		{name: "offline without one", trigger: Trigger{Offline: true, Metadata: map[string]string{"queue": "q"}}, wantErr: "metadata.password is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s sample
			err := ps.Parse(&tc.trigger, &s)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error shows the secret: %v", err)
				}
				return
			}
			if err != nil || !tc.check(&s) {
				t.Errorf("err %v, parsed %+v", err, s)
			}
		})
	}
}

// TestParseHidesSecretValues: a secret that is not a valid value is not echoed.
func TestParseHidesSecretValues(t *testing.T) {
	type withSecretNumber struct {
		Key int `keda:"name=key, order=authParams, secret"`
	}
	err := (&Parser{}).Parse(&Trigger{AuthParams: map[string]string{"key": "hunter2"}}, &withSecretNumber{})
	var pe *ParamError
	if !errors.As(err, &pe) || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "(value hidden)") {
		t.Errorf("error = %v", err)
	}
}

// TestParameters: the schema lists embedded structs' parameters as if declared in place.
func TestParameters(t *testing.T) {
	params, err := NewParser().Parameters(&sample{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range params {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "queue,length,mode,every,hosts,password" {
		t.Errorf("parameters %s", got)
	}
	if p := params[5]; !p.TriggerAuthenticationVariableReadable || !p.EnvVariableReadable || p.MetadataVariableReadable {
		t.Errorf("password's sources = %+v", p)
	}
}

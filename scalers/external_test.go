package scalers

import (
	"maps"
	"strings"
	"testing"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseExternalMetadata(t *testing.T) {
	tests := []struct {
		name    string
		meta    map[string]string
		auth    map[string]string
		wantErr []string
		wantTLS bool
	}{
		{name: "host:port, plaintext", meta: map[string]string{"scalerAddress": "scaler.keda:6000"}},
		{name: "gRPC target form", meta: map[string]string{"scalerAddress": "dns:///scaler.keda:6000"}},
		{name: "enableTLS", meta: map[string]string{"scalerAddress": "scaler:6000", "enableTLS": "true"}, wantTLS: true},
		{name: "unsafeSsl alone keeps plaintext, as KEDA", meta: map[string]string{"scalerAddress": "scaler:6000", "unsafeSsl": "true"}},
		{name: "no address", meta: map[string]string{}, wantErr: []string{"trigger 0 (external)", "metadata.scalerAddress", "is required"}},
		{name: "address with a scheme", meta: map[string]string{"scalerAddress": "https://scaler:6000"}, wantErr: []string{"metadata.scalerAddress", "is not host:port"}},
		{name: "address without port", meta: map[string]string{"scalerAddress": "scaler"}, wantErr: []string{"is not host:port"}},
		{name: "enableTLS not a boolean", meta: map[string]string{"scalerAddress": "scaler:6000", "enableTLS": "yes"}, wantErr: []string{"metadata.enableTLS", "true or false"}},
		{name: "caCert in the metadata is not read", meta: map[string]string{"scalerAddress": "scaler:6000", "caCert": "x"}},
		{name: "bad caCert", meta: map[string]string{"scalerAddress": "scaler:6000"}, auth: map[string]string{"caCert": "x"}, wantErr: []string{"metadata.caCert", "holds no PEM"}},
		{name: "cert without key", meta: map[string]string{"scalerAddress": "scaler:6000"}, auth: map[string]string{"tlsClientCert": "x"}, wantErr: []string{"metadata.tlsClientKey", "is required with tlsClientCert"}},
		{name: "bad key is not shown", meta: map[string]string{"scalerAddress": "scaler:6000"}, auth: map[string]string{"tlsClientCert": "x", "tlsClientKey": "secret-key-text"}, wantErr: []string{"do not make a client certificate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m meta.ExternalMetadata
			err := ParseMetadata(&Config{TriggerType: "external", TriggerMetadata: tt.meta, AuthParams: tt.auth}, &m)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("want an error mentioning %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "secret-key-text") {
					t.Errorf("error %q shows the key", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (m.TLSConfig != nil) != tt.wantTLS {
				t.Errorf("TLS = %v, want %v", m.TLSConfig != nil, tt.wantTLS)
			}
		})
	}
}

func TestExternalMetricNameWithoutIndex(t *testing.T) {
	for in, want := range map[string]string{"s0-jobs": "jobs", "s12-queue-a": "queue-a", "sx-jobs": "sx-jobs", "jobs": "jobs", "s-jobs": "s-jobs"} {
		if got := withoutIndex(in); got != want {
			t.Errorf("withoutIndex(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExternalScalerMetadata: the server gets the metadata as written, each ...FromEnv key with
// the value of the env var it names (left out when that is missing), as KEDA hands it over.
func TestExternalScalerMetadata(t *testing.T) {
	got := scalerMetadata(&Config{
		TriggerMetadata: map[string]string{"scalerAddress": "s:1", "queue": "q", "hostFromEnv": "HOST", "portFromEnv": "NOPE"},
		ResolvedEnv:     map[string]string{"HOST": "h"},
		AuthParams:      map[string]string{"tlsClientKey": "never handed over"},
	})
	want := map[string]string{"scalerAddress": "s:1", "queue": "q", "hostFromEnv": "h"}
	if !maps.Equal(got, want) {
		t.Errorf("scalerMetadata = %v, want %v", got, want)
	}
}

package scalers

import (
	"strings"
	"testing"

	"github.com/kedactl/kedactl/scalers/meta"
)

// parseCase is one row of a scaler's metadata parsing table: metadata, TriggerAuthentication
// parameters and container env in (offline: as kubectl keda check sees a trigger with an authenticationRef); either an error mentioning every wantErr or a parsed struct
// that check accepts.
type parseCase[M any] struct {
	name    string
	meta    map[string]string
	auth    map[string]string
	env     map[string]string
	offline bool
	wantErr []string
	check   func(t *testing.T, m *M)
}

// runParseCases parses each case as a triggerType trigger; no error may show any of secrets.
func runParseCases[M any](t *testing.T, triggerType string, cases []parseCase[M], secrets ...string) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &Config{TriggerType: triggerType, TriggerMetadata: tt.meta, AuthParams: tt.auth, ResolvedEnv: tt.env, Offline: tt.offline, HasAuthenticationRef: tt.offline}
			var m M
			err := ParseMetadata(cfg, &m)
			if err == nil {
				err = checkDriver(cfg, &m)
			}
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("want an error mentioning %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				for _, s := range secrets {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q shows a secret", err)
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

// parametersOf describes any metadata struct, registered or a test's own.
func parametersOf(metadata any) ([]meta.SchemaParameter, error) {
	return new(meta.Parser).Parameters(metadata)
}

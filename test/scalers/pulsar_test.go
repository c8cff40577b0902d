package scalers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	oauthserver "github.com/kedactl/kedactl/test/servers/oauth2"
	pulsarserver "github.com/kedactl/kedactl/test/servers/pulsar"
)

const pulsarTestToken = "Pulsar-token-never-in-errors-5e1b"

// newPulsarTrigger builds a pulsar trigger on srv with extra metadata.
func newPulsarTrigger(t *testing.T, srv *pulsarserver.Server, auth map[string]string, extra ...string) scalers.Scaler {
	t.Helper()
	m := map[string]string{"adminURL": srv.URL, "topic": "persistent://public/default/orders", "subscription": "workers",
		"msgBacklogThreshold": "5", "activationMsgBacklogThreshold": "1"}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "pulsar", TriggerMetadata: m, AuthParams: auth, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

const pulsarMetric = "s0-pulsar-persistent---public-default-orders-workers"

func pollPulsar(t *testing.T, s scalers.Scaler) (float64, bool, error) {
	t.Helper()
	vals, active, err := s.GetMetricsAndActivity(context.Background(), pulsarMetric)
	if err != nil {
		return 0, false, err
	}
	if len(vals) != 1 {
		t.Fatalf("poll gave %+v", vals)
	}
	return vals[0].Value.AsApproximateFloat64(), active, nil
}

// TestPulsarBacklogWithEachCredential: the trigger reads the subscription's msgBacklog from the
// topic's stats (through the broker's 307 to the owner) with a bearer token (named token in
// X-Pulsar-Auth-Method-Name), basic credentials (basic), an OAuth 2.0 client's access token
// from the token endpoint, or a client certificate over TLS (tls); partitioned topics through
// partitioned-stats. KEDA's metric name pulsar-<topic>-<subscription>.
func TestPulsarBacklogWithEachCredential(t *testing.T) {
	idp := oauthserver.Start(t, oauthserver.Options{ClientID: "keda", ClientSecret: pulsarTestToken, Scopes: []string{"admin"}})
	for _, tt := range []struct {
		name     string
		opts     pulsarserver.Options
		auth     map[string]string
		extra    []string
		provider string
	}{
		{"bearer", pulsarserver.Options{Tokens: []string{pulsarTestToken}, Redirect: true}, map[string]string{"bearerToken": pulsarTestToken}, []string{"authModes", "bearer"}, "token"},
		{"basic", pulsarserver.Options{Username: "admin", Password: pulsarTestToken}, map[string]string{"username": "admin", "password": pulsarTestToken}, []string{"authModes", "basic"}, "basic"},
		{"oauth", pulsarserver.Options{ValidToken: idp.Valid}, map[string]string{"oauthTokenURI": idp.TokenURL, "clientID": "keda", "clientSecret": pulsarTestToken, "scope": "admin"}, []string{"authModes", "oauth"}, "token"},
		{"tls enable with a client certificate", pulsarserver.Options{TLS: true}, nil, []string{"tls", "enable"}, "tls"},
		{"partitioned", pulsarserver.Options{Tokens: []string{pulsarTestToken}}, map[string]string{"bearerToken": pulsarTestToken}, []string{"authModes", "bearer", "isPartitionedTopic", "true"}, "token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := pulsarserver.Start(t, tt.opts)
			if tt.opts.TLS {
				tt.auth = map[string]string{"ca": srv.CAPEM, "cert": srv.ClientCertPEM, "key": srv.ClientKeyPEM}
			}
			partitions := 0
			if tt.name == "partitioned" {
				partitions = 4
			}
			srv.CreateTopic("public/default/orders", partitions, "workers", "audit")
			srv.SetBacklog("public/default/orders", "audit", 100)
			srv.SetBacklog("public/default/orders", "workers", 1)
			s := newPulsarTrigger(t, srv, tt.auth, tt.extra...)
			if v, active, err := pollPulsar(t, s); err != nil || v != 1 || active {
				t.Fatalf("at activation: %g %t %v", v, active, err)
			}
			srv.SetBacklog("public/default/orders", "workers", 23)
			if v, active, err := pollPulsar(t, s); err != nil || v != 23 || !active {
				t.Fatalf("above activation: %g %t %v", v, active, err)
			}
			specs := s.GetMetricSpecForScaling(context.Background())
			if len(specs) != 1 || specs[0].External.Metric.Name != pulsarMetric || specs[0].External.Target.AverageValue.String() != "5" {
				t.Errorf("metric spec %+v", specs)
			}
			leaf := "/stats"
			if partitions > 0 {
				leaf = "/partitioned-stats"
			}
			for _, r := range srv.Requests() {
				if r.Status == 307 {
					continue
				}
				if r.Status != 200 || r.Path != "/admin/v2/persistent/public/default/orders"+leaf || r.Provider != tt.provider {
					t.Errorf("request %+v", r)
				}
			}
		})
	}
}

// TestPulsarFailures: refused credentials, a missing topic or subscription, a partitioned topic
// read as a plain one and an unreachable broker fail the poll with what to check.
func TestPulsarFailures(t *testing.T) {
	srv := pulsarserver.Start(t, pulsarserver.Options{Tokens: []string{pulsarTestToken}})
	srv.CreateTopic("public/default/orders", 0, "workers")
	srv.CreateTopic("public/default/events", 2, "workers")
	good := map[string]string{"bearerToken": pulsarTestToken}
	for _, tt := range []struct {
		name     string
		auth     map[string]string
		extra    []string
		mentions []string
	}{
		{"wrong token", map[string]string{"bearerToken": "not-" + pulsarTestToken}, []string{"authModes", "bearer"}, []string{"401", "refused the credentials"}},
		{"no credentials", nil, nil, []string{"401", "wants credentials"}},
		{"missing topic", good, []string{"authModes", "bearer", "topic", "public/default/nope"}, []string{"404", `Pulsar has no topic "public/default/nope"`, "Topic not found"}},
		{"partitioned topic read as plain", good, []string{"authModes", "bearer", "topic", "public/default/events"}, []string{"404", "isPartitionedTopic"}},
		{"missing subscription", good, []string{"authModes", "bearer", "subscription", "billing"}, []string{`subscription "billing" does not exist`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := pollPulsar(t, newPulsarTrigger(t, srv, tt.auth, tt.extra...))
			if err == nil {
				t.Fatal("the poll succeeded")
			}
			for _, m := range append(tt.mentions, "trigger 0 (pulsar)") {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if strings.Contains(err.Error(), pulsarTestToken) {
				t.Errorf("error %q shows the token", err)
			}
		})
	}
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "pulsar", Timeout: 5 * time.Second,
		TriggerMetadata: map[string]string{"adminURL": "http://127.0.0.1:1", "topic": "public/default/orders", "subscription": "workers"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if _, _, err := s.GetMetricsAndActivity(context.Background(), "m"); err == nil || !strings.Contains(err.Error(), "could not reach the server") || !strings.Contains(err.Error(), "metadata.adminURL") {
		t.Errorf("unreachable: %v", err)
	}
}

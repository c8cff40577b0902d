package scalers

import (
	"context"
	"testing"
)

// FuzzPulsarResponse feeds arbitrary answers of Pulsar's topic stats to pulsarBacklog and,
// served on 127.0.0.1 with a fuzzed status code, to a pulsar trigger's poll: only a 200 with the
// subscription's msgBacklog is a value, and no error shows the token.
func FuzzPulsarResponse(f *testing.F) {
	for _, body := range []string{
		`{"msgRateIn":1.5,"subscriptions":{"workers":{"msgBacklog":12,"msgBacklogNoDelayed":12,"type":"Shared"}},"publishers":[],"replication":{}}`,
		`{"subscriptions":{}}`,
		`{"subscriptions":{"workers":{"msgBacklog":"5"}}}`,
		`{"reason":"Topic not found"}`,
		`{"reason":"Fuzz-pulsar-token"}`,
		`null`,
		``,
	} {
		f.Add([]byte(body), uint8(0))
	}
	f.Add([]byte(`{"reason":"Fuzz-pulsar-token"}`), uint8(2))
	srv := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte, statusIndex uint8) {
		want, wantErr := pulsarBacklog(body, "workers")
		s, err := New(context.Background(), &Config{TriggerType: "pulsar", TriggerIndex: 1, TriggerName: "bk", Timeout: fuzzPollTimeout,
			TriggerMetadata: map[string]string{"adminURL": srv.URL, "topic": "persistent://public/default/orders", "subscription": "workers",
				"msgBacklogThreshold": "10", "activationMsgBacklogThreshold": "2", "authModes": "bearer"},
			AuthParams: map[string]string{"bearerToken": "Fuzz-pulsar-token"}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		status := fuzzStatuses[int(statusIndex)%len(fuzzStatuses)]
		srv.serve(status, body, nil)
		vals, active, err := poll(t, s, "s1-pulsar")
		fuzzOutcome{status: status, want: float64(want), wantErr: wantErr, who: `trigger 1 (pulsar "bk")`, metric: "s1-pulsar", activation: 2, secret: "Fuzz-pulsar-token"}.check(t, vals, active, err)
	})
}

package scalers

import (
	"context"
	"net/http"
	"strings"
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
		if wantErr != nil {
			checkErr(t, wantErr)
		}
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
		if err != nil && strings.Contains(err.Error(), "Fuzz-pulsar-token") {
			t.Fatalf("error shows the token: %v", err)
		}
		switch {
		case status != http.StatusOK:
			if err == nil {
				t.Fatalf("a %d answer read as %+v", status, vals)
			}
			checkErr(t, err, `trigger 1 (pulsar "bk")`)
		case wantErr != nil:
			if err == nil {
				t.Fatalf("pulsarBacklog failed (%v), the poll did not", wantErr)
			}
			checkErr(t, err, `trigger 1 (pulsar "bk")`, wantErr.Error())
		case err != nil:
			t.Fatalf("pulsarBacklog read %d, the poll failed: %v", want, err)
		default:
			checkPoll(t, vals, active, "s1-pulsar", float64(want), 2)
		}
	})
}

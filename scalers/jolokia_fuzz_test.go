package scalers

import (
	"context"
	"net/http"
	"net/url"
	"testing"
)

// FuzzJolokiaResponse feeds arbitrary answers of a Jolokia read to jolokiaCount and, served on
// 127.0.0.1 with a fuzzed status code, to an activemq trigger's poll: a 2xx answer reads as
// jolokiaCount reads it, any other fails the poll, and a count is never negative.
func FuzzJolokiaResponse(f *testing.F) {
	for _, body := range []string{
		`{"request":{"mbean":"org.apache.activemq:type=Broker,brokerName=b,destinationType=Queue,destinationName=q","attribute":"QueueSize","type":"read"},"value":42,"timestamp":1700000000,"status":200}`,
		`{"value":0,"status":200}`,
		`{"value":1.5,"status":200}`,
		`{"value":-3,"status":200}`,
		`{"value":"7","status":200}`,
		`{"value":null,"status":200}`,
		`{"value":99999999999999999999,"status":200}`,
		`{"request":{"type":"read"},"error_type":"javax.management.InstanceNotFoundException","error":"javax.management.InstanceNotFoundException : x","stacktrace":"...","status":404}`,
		`{"error_type":"java.lang.Exception","error":"java.lang.Exception : Origin http://x is not allowed to call this agent","status":403}`,
		`[{"value":1,"status":200}]`,
		`{"value":1}`,
		`null`,
		``,
		`<html>login</html>`,
	} {
		f.Add([]byte(body), uint8(0))
	}
	f.Add([]byte(`Unauthorized`), uint8(2))
	srv := newFuzzServer(f)
	u, err := url.Parse(srv.URL)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, statusIndex uint8) {
		want, wantErr := jolokiaCount(body)
		if wantErr == nil && want < 0 {
			t.Fatalf("read %d from the answer", want)
		}
		if wantErr != nil {
			checkErr(t, wantErr)
		}
		s, err := New(context.Background(), &Config{TriggerType: "activemq", TriggerIndex: 1, TriggerName: "q", Timeout: fuzzPollTimeout,
			TriggerMetadata: map[string]string{"managementEndpoint": u.Host, "brokerName": "b", "destinationName": "jobs", "activationTargetQueueSize": "2"},
			AuthParams:      map[string]string{"username": "u", "password": "fuzz-pa55-w0rd"}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		status := fuzzStatuses[int(statusIndex)%len(fuzzStatuses)]
		srv.serve(status, body, nil)
		vals, active, err := poll(t, s, "s1-activemq-jobs")
		if status == http.StatusNoContent {
			want, wantErr = jolokiaCount(nil)
		}
		switch {
		case status/100 != 2:
			if err == nil {
				t.Fatalf("a %d answer read as %+v", status, vals)
			}
			checkErr(t, err, `trigger 1 (activemq "q")`)
		case wantErr != nil:
			if err == nil {
				t.Fatalf("jolokiaCount failed (%v), the poll did not", wantErr)
			}
			checkErr(t, err, `trigger 1 (activemq "q")`, wantErr.Error())
		case err != nil:
			t.Fatalf("jolokiaCount read %d, the poll failed: %v", want, err)
		default:
			checkPoll(t, vals, active, "s1-activemq-jobs", float64(want), 2)
		}
	})
}

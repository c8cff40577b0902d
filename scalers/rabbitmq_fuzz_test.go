package scalers

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/kedactl/kedactl/scalers/meta"
)

// FuzzRabbitMQResponse feeds arbitrary answers of the management API to parseRabbitAnswer and,
// served on 127.0.0.1 with a fuzzed status code, to a rabbitmq trigger's poll, for one queue and
// for a regex's page of queues: counts and rates read are never negative or infinite, the poll
// reports what parseRabbitAnswer reads, and no error shows the password.
func FuzzRabbitMQResponse(f *testing.F) {
	for _, body := range []string{
		`{"name":"jobs","messages":12,"messages_ready":10,"message_stats":{"publish_details":{"rate":2.5}}}`,
		`{"name":"jobs","messages":0,"messages_ready":0}`,
		`{"name":"jobs","messages":-5,"messages_ready":-1,"message_stats":{"publish_details":{"rate":-1}}}`,
		`{"name":"jobs","messages":9223372036854775807,"message_stats":{"publish_details":{"rate":1.7976931348623157e308}}}`,
		`{"name":"jobs","messages":1e3}`,
		`{"name":"jobs","messages":"12"}`,
		`{"name":"","messages":1}`,
		`{"name":"jobs","message_stats":null}`,
		`{"name":"jobs","message_stats":{"publish_details":[]}}`,
		`{"error":"Object Not Found","reason":"Not Found"}`,
		`null`,
		``,
	} {
		f.Add([]byte(body), uint8(0), false, uint8(0))
	}
	for _, body := range []string{
		`{"items":[{"name":"q1","messages":3,"messages_ready":1,"message_stats":{"publish_details":{"rate":1}}},{"name":"q2","messages":5,"messages_ready":5}],"page_count":1,"page":1,"page_size":100,"filtered_count":2,"item_count":2,"total_count":9}`,
		`{"items":[],"page_count":0}`,
		`{"items":null,"page_count":1}`,
		`{"items":[null,{"name":"q","messages":1}],"page_count":1}`,
		`{"items":[{"messages":9223372036854775807},{"messages":9223372036854775807}],"page_count":1}`,
		`{"items":[{"message_stats":{"publish_details":{"rate":1.7976931348623157e308}}},{"message_stats":{"publish_details":{"rate":1.7976931348623157e308}}}],"page_count":1}`,
		`{"items":[{"messages":-1}],"page_count":1}`,
		`{"items":[],"page_count":3}`,
		`{"items":[]}`,
	} {
		for op := range uint8(3) {
			f.Add([]byte(body), op, true, uint8(0))
		}
	}
	f.Add([]byte(`{"error":"not_authorised","reason":"Login failed for fz-secret-pw"}`), uint8(0), false, uint8(2))
	f.Add([]byte(`{"error":"Object Not Found"}`), uint8(0), true, uint8(4))
	srv := newFuzzServer(f)
	const password = "fz-secret-pw"
	f.Fuzz(func(t *testing.T, body []byte, opIndex uint8, useRegex bool, statusIndex uint8) {
		op := []string{meta.RabbitOperationSum, meta.RabbitOperationMax, meta.RabbitOperationAvg}[int(opIndex)%3]
		q, wantErr := parseRabbitAnswer(body, useRegex, op, 100)
		if wantErr == nil {
			rate := q.MessageStats.PublishDetails.Rate
			if q.Messages < 0 || q.MessagesReady < 0 || rate < 0 || math.IsInf(rate, 0) || math.IsNaN(rate) {
				t.Fatalf("read %+v", q)
			}
		} else {
			checkErr(t, wantErr)
		}

		// Both modes and both counts in one poll each: the bits of opIndex above the operation's.
		rateMode := opIndex&4 != 0
		excludeUnacked := opIndex&8 != 0
		md := map[string]string{"host": "http://user:" + password + "@" + strings.TrimPrefix(srv.URL, "http://") + "/vh", "queueName": "jobs",
			"mode": meta.RabbitModeQueueLength, "value": "10", "activationValue": "2", "operation": op,
			"useRegex": strconv.FormatBool(useRegex), "excludeUnacknowledged": strconv.FormatBool(excludeUnacked)}
		if rateMode {
			md["mode"] = meta.RabbitModeMessageRate
		}
		s, err := New(context.Background(), &Config{TriggerType: "rabbitmq", Timeout: fuzzPollTimeout, TriggerMetadata: md})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		status := fuzzStatuses[int(statusIndex)%len(fuzzStatuses)]
		srv.serve(status, body, nil)
		if status == http.StatusNoContent {
			q, wantErr = parseRabbitAnswer(nil, useRegex, op, 100)
		}
		vals, active, err := poll(t, s, "s0-rabbitmq-jobs")
		if err != nil && strings.Contains(err.Error(), password) {
			t.Errorf("error shows the password: %v", err)
		}
		switch {
		case status/100 != 2:
			if err == nil {
				t.Fatalf("a %d answer read as %+v", status, vals)
			}
			checkErr(t, err, "trigger 0 (rabbitmq)")
		case wantErr != nil:
			if err == nil {
				t.Fatalf("parseRabbitAnswer failed (%v), the poll did not", wantErr)
			}
			checkErr(t, err, "trigger 0 (rabbitmq)", wantErr.Error())
		case err != nil:
			t.Fatalf("parseRabbitAnswer read %+v, the poll failed: %v", q, err)
		default:
			messages := q.Messages
			if excludeUnacked {
				messages = q.MessagesReady
			}
			want, wantActive := float64(messages), float64(messages) > 2
			if rateMode {
				want = q.MessageStats.PublishDetails.Rate
				wantActive = wantActive || want > 2
			}
			if len(vals) != 1 {
				t.Fatalf("poll gave %+v", vals)
			}
			checkQuantity(t, vals[0].Value.AsApproximateFloat64(), want)
			if active != wantActive {
				t.Errorf("read %+v (rate mode %t): active %t", q, rateMode, active)
			}
		}
	})
}

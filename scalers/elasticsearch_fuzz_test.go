package scalers

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tidwall/gjson"
)

// FuzzSearchResponse serves arbitrary search answers (and status codes) on 127.0.0.1 to an
// elasticsearch and an opensearch trigger: each reads what a direct GJSON reading of the answer
// at valueLocation reads, or fails naming the trigger with a bounded error; no answer panics or
// shows the password.
func FuzzSearchResponse(f *testing.F) {
	const password = "es-fuzz-never-in-errors"
	for _, s := range []struct {
		body   string
		status uint8
	}{
		{`{"took":1,"timed_out":false,"hits":{"total":{"value":42,"relation":"eq"},"hits":[]}}`, 0},
		{`{"hits":{"total":{"value":10000,"relation":"gte"}}}`, 0},
		{`{"hits":{"total":{"value":"17"}}}`, 0},
		{`{"hits":{"total":{"value":null}}}`, 0},
		{`{"hits":{"total":{"value":1e400}}}`, 0},
		{`{"hits":{"total":{"value":-3.5}}}`, 0},
		{`{"hits":{"total":{"value":[1,2]}}}`, 0},
		{`{"hits":{"total":{"value":"NaN"}}}`, 0},
		{`{"hits":{"total":{"value":true}}}`, 0},
		{`{"hits":{"total":5}}`, 0},
		{`{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [jobs]"}],"type":"index_not_found_exception","reason":"no such index [jobs]"},"status":404}`, 4},
		{`{"error":{"type":"security_exception","reason":"unable to authenticate user [keda]"},"status":401}`, 2},
		{`{"error":{"root_cause":[],"type":"","reason":""},"status":400}`, 1},
		{`{"error":"` + password + `"}`, 1},
		{`Unauthorized`, 2},
		{`<html>` + strings.Repeat("x", 500) + password, 6},
		{``, 7},
	} {
		f.Add([]byte(s.body), s.status)
	}
	var mu sync.Mutex
	var cur struct {
		status int
		body   []byte
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(cur.status)
		_, _ = w.Write(cur.body)
	}))
	f.Cleanup(srv.Close)
	const location = "hits.total.value"
	f.Fuzz(func(t *testing.T, body []byte, status uint8) {
		mu.Lock()
		cur.status, cur.body = fuzzStatuses[int(status)%len(fuzzStatuses)], body
		mu.Unlock()
		for _, typ := range []string{"elasticsearch", "opensearch"} {
			sc, err := New(context.Background(), &Config{TriggerType: typ, TriggerIndex: 2, Timeout: fuzzPollTimeout,
				TriggerMetadata: map[string]string{"addresses": srv.URL, "index": "jobs", "searchTemplateName": "t", "valueLocation": location,
					"targetValue": "5", "activationTargetValue": "1"},
				AuthParams: map[string]string{"username": "keda", "password": password}})
			if err != nil {
				t.Fatal(err)
			}
			want, wantErr := searchFuzzRead(body, location)
			if cur.status == http.StatusNoContent {
				// A 204 carries no body, whatever the server writes.
				want, wantErr = searchFuzzRead(nil, location)
			}
			if cur.status < 200 || cur.status > 299 {
				want, wantErr = 0, true
			}
			vals, active, err := poll(t, sc, "s2-"+typ+"-t")
			_ = sc.Close(context.Background())
			if err != nil {
				if !wantErr {
					t.Fatalf("%s: a direct reading gives %g, the poll failed: %v", typ, want, err)
				}
				checkErr(t, err, "trigger 2 ("+typ+")")
				if strings.Contains(err.Error(), password) {
					t.Fatalf("error shows the password: %v", err)
				}
				continue
			}
			if wantErr {
				t.Fatalf("%s: a direct reading fails, the poll read %v", typ, vals)
			}
			checkPoll(t, vals, active, "s2-"+typ+"-t", want, 1)
		}
	})
}

// searchFuzzRead reads the answer as the documentation of valueLocation says: the JSON value at
// the GJSON path, a number or a string of one, finite.
func searchFuzzRead(body []byte, location string) (float64, bool) {
	if !gjson.ValidBytes(body) {
		return 0, true
	}
	r := gjson.GetBytes(body, location)
	v, err := 0.0, error(nil)
	switch r.Type {
	case gjson.Number:
		v = r.Num
	case gjson.String:
		v, err = strconv.ParseFloat(strings.TrimSpace(r.Str), 64)
	default:
		return 0, true
	}
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, true
	}
	return v, false
}

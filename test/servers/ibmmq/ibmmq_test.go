package ibmmq

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestIBMMQConventions: the fake answers as IBM's REST API reference describes: basic
// authentication, the CSRF header, the queue manager in the path, runCommandJSON's
// commandResponse with lower-case parameters, AMQ8147E for an unknown queue, and the error array.
func TestIBMMQConventions(t *testing.T) {
	s := Start(t, Options{Username: "app", Password: "pw"})
	s.SetDepth("DEV.QUEUE.1", 9)
	post := func(url, body, user string, csrf bool) (int, map[string]any) {
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if user != "" {
			req.SetBasicAuth(user, "pw")
		}
		if csrf {
			req.Header.Set("ibm-mq-rest-csrf-token", "anything")
		}
		resp, err := s.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatalf("answer is not JSON: %v", err)
		}
		return resp.StatusCode, v
	}
	cmd := func(name string) string {
		return `{"type":"runCommandJSON","command":"display","qualifier":"qlocal","name":"` + name + `","responseParameters":["CURDEPTH"]}`
	}
	code, v := post(s.MQSC, cmd("DEV.QUEUE.1"), "app", true)
	r := v["commandResponse"].([]any)[0].(map[string]any)
	if code != 200 || v["overallCompletionCode"] != 0.0 || r["parameters"].(map[string]any)["curdepth"] != 9.0 {
		t.Fatalf("display answered %d %v", code, v)
	}
	code, v = post(s.MQSC, cmd("DEV.NOPE"), "app", true)
	r = v["commandResponse"].([]any)[0].(map[string]any)
	if code != 200 || v["overallReasonCode"] != 3008.0 || r["reasonCode"] != 2085.0 || !strings.HasPrefix(r["message"].([]any)[0].(string), "AMQ8147E") {
		t.Fatalf("unknown queue answered %d %v", code, v)
	}
	errorOf := func(v map[string]any) map[string]any {
		l, _ := v["error"].([]any)
		if len(l) != 1 {
			t.Fatalf("no error array in %v", v)
		}
		return l[0].(map[string]any)
	}
	for _, tc := range []struct {
		url, body, user string
		csrf            bool
		status          int
		msgID           string
	}{
		{s.MQSC, cmd("DEV.QUEUE.1"), "", true, 401, "MQWB0112E"},
		{s.MQSC, cmd("DEV.QUEUE.1"), "app", false, 403, "MQWB0107E"},
		{strings.Replace(s.MQSC, "/QM1/", "/QM2/", 1), cmd("DEV.QUEUE.1"), "app", true, 404, "MQWB0009E"},
		{s.MQSC, `DISPLAY QLOCAL(X)`, "app", true, 400, "MQWB0100E"},
	} {
		code, v := post(tc.url, tc.body, tc.user, tc.csrf)
		if e := errorOf(v); code != tc.status || e["msgId"] != tc.msgID || e["type"] != "rest" || !strings.HasPrefix(e["message"].(string), tc.msgID+": ") {
			t.Errorf("%s answered %d %v, want %d %s", tc.url, code, v, tc.status, tc.msgID)
		}
	}
	if reqs := s.Requests(); len(reqs) != 6 || reqs[0].Command.Name != "DEV.QUEUE.1" || reqs[0].User != "app" || reqs[0].CSRFToken != "anything" {
		t.Fatalf("requests %+v", reqs)
	}
}

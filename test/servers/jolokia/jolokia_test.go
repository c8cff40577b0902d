package jolokia

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// call makes one request to the fake and decodes its JSON answer.
func call(t *testing.T, s *Server, method, path, body, user, pass, origin string) (int, http.Header, any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v any
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("answer %q is not JSON: %v", raw, err)
		}
	}
	return resp.StatusCode, resp.Header, v
}

// TestJolokiaConventions: the fake answers as Jolokia's protocol reference describes: the read
// envelope, errors in the envelope with HTTP 200, GET escaping, POST and bulk reads, the
// console's basic challenge and strict CORS checking, and the brokers' MBean names.
func TestJolokiaConventions(t *testing.T) {
	amq := Start(t, Options{Broker: ActiveMQ, Username: "admin", Password: "pw", AllowedOrigins: []string{"http://console"}})
	amq.SetQueue(ActiveMQQueue("localhost", "jobs"), 7)
	if amq.Agent != "/api/jolokia" {
		t.Fatalf("ActiveMQ's agent at %s", amq.Agent)
	}
	get := func(s *Server, mbean, attr, origin string) (int, map[string]any) {
		code, _, v := call(t, s, http.MethodGet, s.Agent+"/read/"+url.PathEscape(mbean)+"/"+attr, "", "admin", "pw", origin)
		m, _ := v.(map[string]any)
		return code, m
	}

	// Key properties in another order name the same MBean.
	code, a := get(amq, "org.apache.activemq:destinationName=jobs,destinationType=Queue,type=Broker,brokerName=localhost", "QueueSize", "http://console")
	if code != 200 || a["status"] != 200.0 || a["value"] != 7.0 || a["timestamp"] == nil || a["request"].(map[string]any)["attribute"] != "QueueSize" {
		t.Fatalf("read answered %d %v", code, a)
	}
	for _, tc := range []struct {
		mbean, attr, origin string
		status              float64
		errType             string
	}{
		{ActiveMQQueue("localhost", "nope"), "QueueSize", "http://console", 404, "javax.management.InstanceNotFoundException"},
		{ActiveMQQueue("localhost", "jobs"), "Nope", "http://console", 404, "javax.management.AttributeNotFoundException"},
		{"org.apache.activemq", "QueueSize", "http://console", 400, "javax.management.MalformedObjectNameException"},
		{ActiveMQQueue("localhost", "jobs"), "QueueSize", "http://evil", 403, "java.lang.Exception"},
	} {
		code, a := get(amq, tc.mbean, tc.attr, tc.origin)
		if code != 200 || a["status"] != tc.status || a["error_type"] != tc.errType || !strings.HasPrefix(a["error"].(string), tc.errType+" : ") || a["stacktrace"] == nil {
			t.Errorf("read of %s/%s from %s answered %d %v", tc.mbean, tc.attr, tc.origin, code, a)
		}
	}

	// The console wants its credentials, with a challenge.
	for _, creds := range [][2]string{{"", ""}, {"admin", "wrong"}} {
		code, h, _ := call(t, amq, http.MethodGet, amq.Agent+"/read/"+ActiveMQQueue("localhost", "jobs")+"/QueueSize", "", creds[0], creds[1], "http://console")
		if code != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("credentials %v answered %d %v", creds, code, h)
		}
	}

	// POST: one read, then a bulk read answered by an array in the same order.
	code, _, v := call(t, amq, http.MethodPost, amq.Agent, `{"type":"read","mbean":"`+ActiveMQQueue("localhost", "jobs")+`","attribute":"QueueSize"}`, "admin", "pw", "http://console")
	if m, _ := v.(map[string]any); code != 200 || m["value"] != 7.0 {
		t.Fatalf("POST read answered %d %v", code, v)
	}
	code, _, v = call(t, amq, http.MethodPost, amq.Agent+"/", `[{"type":"read","mbean":"`+ActiveMQQueue("localhost", "jobs")+`","attribute":"QueueSize"},{"type":"read","mbean":"`+ActiveMQQueue("localhost", "x")+`","attribute":"QueueSize"}]`, "admin", "pw", "http://console")
	if l, _ := v.([]any); code != 200 || len(l) != 2 || l[0].(map[string]any)["value"] != 7.0 || l[1].(map[string]any)["status"] != 404.0 {
		t.Fatalf("bulk read answered %d %v", code, v)
	}

	// Artemis: quoted values, the console's agent, MessageCount; "!/" escapes a slash.
	art := Start(t, Options{Broker: Artemis, Username: "admin", Password: "pw"})
	art.SetQueue(ArtemisQueue("0.0.0.0", "orders", "orders/eu"), 3)
	if art.Agent != "/console/jolokia" {
		t.Fatalf("Artemis's agent at %s", art.Agent)
	}
	escaped := strings.ReplaceAll(ArtemisQueue("0.0.0.0", "orders", "orders/eu"), "/", "!/")
	code, _, v = call(t, art, http.MethodGet, art.Agent+"/read/"+url.PathEscape(escaped)+"/MessageCount", "", "admin", "pw", "")
	if m, _ := v.(map[string]any); code != 200 || m["value"] != 3.0 {
		t.Fatalf("Artemis read answered %d %v", code, v)
	}
	if code, a := get(art, ArtemisQueue("0.0.0.0", "orders", "orders/eu"), "QueueSize", ""); code != 200 || a["status"] != 404.0 {
		t.Fatalf("an Artemis queue read as QueueSize answered %d %v", code, a)
	}
	if r := art.Requests(); len(r) != 2 || r[0].Status != 200 || r[0].ReadStatus != 200 || r[0].User != "admin" {
		t.Fatalf("requests %+v", r)
	}
}

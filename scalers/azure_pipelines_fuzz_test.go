package scalers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// FuzzAzurePipelinesResponse serves arbitrary job request lists (and status codes) on 127.0.0.1
// to an azure-pipelines trigger's poll: it counts what a direct reading of the same answer
// counts, or fails naming the trigger with a bounded error, and no answer panics or shows the
// token.
func FuzzAzurePipelinesResponse(f *testing.F) {
	const token = "ado-fuzz-never-in-errors"
	for _, s := range []struct {
		body   string
		status uint8
	}{
		{`{"count":3,"value":[{"requestId":1,"demands":["maven"]},{"requestId":2,"result":"succeeded"},{"requestId":3,"receiveTime":"2026-01-01T00:00:00Z","demands":["java"]}]}`, 0},
		{`{"count":0,"value":[]}`, 0},
		{`{"value":null}`, 0},
		{`{"value":[{"demands":"maven"}]}`, 0},
		{`{"value":[{"demands":[null,""],"matchedAgents":null,"result":null}]}`, 0},
		{`[]`, 0},
		{`{"$id":"1","message":"Agent pool 7 could not be found.","typeKey":"TaskAgentPoolNotFoundException"}`, 4},
		{`Access Denied: ` + token, 2},
		{`<html>` + strings.Repeat("x", 500), 8},
	} {
		f.Add([]byte(s.body), s.status)
	}
	var mu sync.Mutex
	var cur struct {
		status int
		body   []byte
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/pools/7") {
			_, _ = w.Write([]byte(`{"id":7,"name":"linux"}`))
			return
		}
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(cur.status)
		_, _ = w.Write(cur.body)
	}))
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, body []byte, status uint8) {
		mu.Lock()
		cur.status, cur.body = fuzzStatuses[int(status)%len(fuzzStatuses)], body
		mu.Unlock()
		sc, err := New(context.Background(), &Config{TriggerType: "azure-pipelines", TriggerIndex: 2, Timeout: fuzzPollTimeout,
			TriggerMetadata: map[string]string{"organizationURL": srv.URL + "/acme", "poolID": "7", "demands": "maven,java", "activationTargetPipelinesQueueLength": "1"},
			AuthParams:      map[string]string{"personalAccessToken": token}})
		if err != nil {
			t.Fatal(err)
		}
		defer sc.Close(context.Background())
		if cur.status == http.StatusNoContent {
			body = nil // a 204 carries no body
		}
		want, wantErr := azurePipelinesFuzzCount(body)
		if cur.status < 200 || cur.status > 299 {
			want, wantErr = 0, true
		}
		vals, active, err := poll(t, sc, "s2-azure-pipelines-7")
		if err != nil {
			if !wantErr {
				t.Fatalf("a direct reading counts %d, the poll failed: %v", want, err)
			}
			checkErr(t, err, "trigger 2 (azure-pipelines)")
			if strings.Contains(err.Error(), token) {
				t.Fatalf("error shows the token: %v", err)
			}
			return
		}
		if wantErr {
			t.Fatalf("a direct reading fails, the poll counted %v", vals)
		}
		checkPoll(t, vals, active, "s2-azure-pipelines-7", float64(want), 1)
	})
}

// azurePipelinesFuzzCount reads a job request list as Azure DevOps documents it: the unfinished
// requests (no result) whose demands, the agent version's aside, are all maven or java.
func azurePipelinesFuzzCount(body []byte) (int64, bool) {
	var list struct {
		Value *[]struct {
			Result  *string  `json:"result"`
			Demands []string `json:"demands"`
		} `json:"value"`
	}
	if json.Unmarshal(body, &list) != nil || list.Value == nil {
		return 0, true
	}
	var n int64
	for _, j := range *list.Value {
		if j.Result != nil {
			continue
		}
		ok := true
		for _, d := range j.Demands {
			if d != "maven" && d != "java" && !strings.HasPrefix(d, "Agent.Version") {
				ok = false
			}
		}
		if ok {
			n++
		}
	}
	return n, false
}

package scalers

import (
	"strings"
	"testing"
)

// FuzzIBMMQResponse reads arbitrary bytes as the REST API's answer to DISPLAY QLOCAL CURDEPTH:
// nothing panics, a depth is never negative, and errors stay short.
func FuzzIBMMQResponse(f *testing.F) {
	for _, seed := range []string{
		`{"commandResponse":[{"completionCode":0,"reasonCode":0,"parameters":{"curdepth":5,"queue":"DEV.QUEUE.1"}}],"overallCompletionCode":0,"overallReasonCode":0}`,
		`{"commandResponse":[{"completionCode":2,"reasonCode":2085,"message":["AMQ8147E: IBM MQ object X not found."]}],"overallCompletionCode":2,"overallReasonCode":3008}`,
		`{"commandResponse":[{"parameters":{"curdepth":-1}}]}`,
		`{"commandResponse":[{"parameters":{"curdepth":1.5}}]}`,
		`{"commandResponse":[{"parameters":{}}]}`,
		`{"commandResponse":[]}`,
		`{"error":[{"msgId":"MQWB0009E","message":"MQWB0009E: Could not query the queue manager 'QM2'."}]}`,
		`null`,
		``,
		strings.Repeat(`{"commandResponse":[`, 40),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := ibmmqDepth(body)
		if err != nil {
			if len(err.Error()) > 500 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		if d < 0 {
			t.Fatalf("depth %d", d)
		}
	})
}

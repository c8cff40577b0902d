package scalers

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestNATSStreamSubjects(t *testing.T) {
	const doc = `{"account_details":[
		{"name":"ACME","stream_detail":[{"name":"jobs","config":{"subjects":["acme.>"]}}]},
		{"name":"$G","stream_detail":[null,
			{"name":"jobs","config":{"subjects":["jobs.>","urgent"]}},
			{"name":"mirror","config":{}}]}]}`
	var parsed jszResponse
	if err := json.Unmarshal([]byte(doc), &parsed); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		stream     string
		want       []string
		cannotPush bool
		wantErr    bool
	}{
		{stream: "jobs", want: []string{"jobs.>", "urgent"}},
		{stream: "mirror", cannotPush: true, wantErr: true},
		{stream: "missing", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.stream, func(t *testing.T) {
			got, err := natsStreamSubjects(&parsed, &meta.NatsJetStreamMetadata{Account: "$G", Stream: tt.stream, MonitoringEndpoint: "n:8222"})
			if (err != nil) != tt.wantErr || errors.Is(err, errNATSCannotPush) != tt.cannotPush {
				t.Fatalf("err = %v, want an error %v, one that stops pushing %v", err, tt.wantErr, tt.cannotPush)
			}
			if len(got) != len(tt.want) || (len(got) > 0 && (got[0] != tt.want[0] || got[1] != tt.want[1])) {
				t.Errorf("subjects = %q, want %q", got, tt.want)
			}
		})
	}
}

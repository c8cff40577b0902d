package scalers

import (
	"context"
	"net/http"
	"testing"
)

// FuzzGCPStorageResponse feeds arbitrary answers of objects.list to parseGCSObjectList and,
// served on 127.0.0.1 (as the emulator STORAGE_EMULATOR_HOST names) with a fuzzed status code, to
// a gcp-storage trigger's poll: a 2xx answer counts as parseGCSObjectList and gcsCountPage read
// it (a next page that answers the same again repeats its token, which fails the poll), a 404 is
// a missing bucket (0, as KEDA counts it), any other status fails the poll.
func FuzzGCPStorageResponse(f *testing.F) {
	for _, body := range []string{
		`{"kind":"storage#objects","items":[{"name":"a","size":"12"},{"name":"f/","size":"0"},{"name":"b","size":"3"}]}`,
		`{"kind":"storage#objects","nextPageToken":"CgFi","items":[{"size":"1"},{"size":"1"}]}`,
		`{"kind":"storage#objects","prefixes":["in/archive/"],"items":[{"size":"1"}]}`,
		`{"kind":"storage#objects"}`,
		`{"items":[{"size":7},{"size":null},{}]}`,
		`{"items":[{"size":"-1"}]}`,
		`{"items":[{"size":"18446744073709551616"}]}`,
		`{"items":{}}`,
		`{"error":{"code":403,"message":"keda@p.iam.gserviceaccount.com does not have storage.objects.list access"}}`,
		`null`,
		``,
		`<html>proxy</html>`,
	} {
		f.Add([]byte(body), uint8(0))
	}
	f.Add([]byte(`{"error":{"code":404,"message":"The specified bucket does not exist."}}`), uint8(4))
	f.Add([]byte(`{"error":{"code":401,"message":"Invalid Credentials"}}`), uint8(2))
	srv := newFuzzServer(f)
	f.Setenv(gcsEmulatorEnv, srv.URL)
	const limit = 4
	f.Fuzz(func(t *testing.T, body []byte, statusIndex uint8) {
		page, wantErr := parseGCSObjectList(body)
		var want int64
		if wantErr == nil {
			want = gcsCountPage(0, limit, page.sizes)
		}
		s, err := New(context.Background(), &Config{TriggerType: "gcp-storage", TriggerIndex: 1, TriggerName: "uploads", Timeout: fuzzPollTimeout,
			TriggerMetadata: map[string]string{"bucketName": "uploads", "maxBucketItemsToScan": "4", "targetObjectCount": "2", "activationTargetObjectCount": "1"},
			AuthParams:      map[string]string{"GoogleApplicationCredentials": "{}"}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		status := fuzzStatuses[int(statusIndex)%len(fuzzStatuses)]
		srv.serve(status, body, nil)
		vals, active, err := poll(t, s, "s1-gcp-storage-uploads")
		if status == http.StatusNoContent {
			// A 204 carries no body, whatever the server writes.
			_, wantErr = parseGCSObjectList(nil)
		}
		// A page that neither ends the listing nor reaches the limit is asked for again, with
		// its token, and answers the same: the repeated token fails the poll.
		repeats := wantErr == nil && want < limit && page.next != ""
		switch {
		case status == http.StatusNotFound:
			if err != nil {
				t.Fatalf("a missing bucket failed the poll: %v", err)
			}
			checkPoll(t, vals, active, "s1-gcp-storage-uploads", 0, 1)
		case status/100 != 2:
			if err == nil {
				t.Fatalf("a %d answer read as %+v", status, vals)
			}
			checkErr(t, err, `trigger 1 (gcp-storage "uploads")`)
		case wantErr != nil:
			if err == nil {
				t.Fatalf("parseGCSObjectList failed (%v), the poll did not", wantErr)
			}
			checkErr(t, err, `trigger 1 (gcp-storage "uploads")`, wantErr.Error())
		case repeats:
			if err == nil {
				t.Fatalf("a page token answered with itself read as %+v", vals)
			}
			checkErr(t, err, "repeats the pageToken")
		case err != nil:
			t.Fatalf("the page counts %d, the poll failed: %v", want, err)
		default:
			checkPoll(t, vals, active, "s1-gcp-storage-uploads", float64(want), 1)
		}
	})
}

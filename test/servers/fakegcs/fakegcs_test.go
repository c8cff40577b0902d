package fakegcs

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestEmulatorSpeaksTheJSONAPI pins what the gcp-storage scaler relies on, through a Front: the
// listing writes sizes as strings, lists a folder placeholder as an object of size "0", and with
// a delimiter rolls deeper names up into prefixes instead of items; before Point the Front
// answers 503.
func TestEmulatorSpeaksTheJSONAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts fake-gcs-server")
	}
	front, err := NewFront()
	if err != nil {
		t.Fatal(err)
	}
	defer front.Close()
	client := &http.Client{Timeout: 10 * time.Second}
	list := "http://" + front.Host + "/storage/v1/b/uploads/o?prefix=in%2F&delimiter=%2F"
	resp, err := client.Get(list)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("the Front before Point answered %d, want 503", resp.StatusCode)
	}

	srv := Start(t)
	front.Point(srv)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.CreateBucket(ctx, "uploads"); err != nil {
		t.Fatal(err)
	}
	if err := srv.PutObjects(ctx, "uploads", "", "in/"); err != nil {
		t.Fatal(err)
	}
	if err := srv.PutObjects(ctx, "uploads", "abc", "in/a", "in/sub/b"); err != nil {
		t.Fatal(err)
	}
	resp, err = client.Get(list)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Items []struct {
			Name string          `json:"name"`
			Size json.RawMessage `json:"size"`
		} `json:"items"`
		Prefixes []string `json:"prefixes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("listing: %d, %v", resp.StatusCode, err)
	}
	sizes := map[string]string{}
	for _, it := range page.Items {
		sizes[it.Name] = string(it.Size)
	}
	if len(sizes) != 2 || sizes["in/"] != `"0"` || sizes["in/a"] != `"3"` {
		t.Errorf("items %v, want in/ of size \"0\" and in/a of size \"3\"", sizes)
	}
	if len(page.Prefixes) != 1 || page.Prefixes[0] != "in/sub/" {
		t.Errorf("prefixes %v, want [in/sub/]", page.Prefixes)
	}

	if err := srv.DeleteObjects(ctx, "uploads", "in/a"); err != nil {
		t.Fatal(err)
	}
	resp, err = client.Get("http://" + front.Host + "/storage/v1/b/missing/o")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("a missing bucket answered %d, want 404", resp.StatusCode)
	}
}

package profiling

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"testing"
)

// TestServe: the profiles answer while served, and nothing listens after
// stop; a bad address is an error.
func TestServe(t *testing.T) {
	var logs bytes.Buffer
	stop, err := Serve("127.0.0.1:0", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`url=(http://\S+/debug/pprof/)`).FindStringSubmatch(logs.String())
	if m == nil {
		stop()
		t.Fatalf("no URL logged: %s", logs.String())
	}
	resp, err := http.Get(m[1] + "cmdline")
	if err != nil {
		stop()
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		t.Errorf("GET cmdline: %d %q", resp.StatusCode, body)
	}
	stop()
	if resp, err := http.Get(m[1]); err == nil {
		resp.Body.Close()
		t.Fatal("the listener still answers after stop")
	}
	if _, err := Serve("256.0.0.1:x", slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a bad address was accepted")
	}
}

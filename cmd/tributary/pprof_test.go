package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestPprofFlag: --pprof serves the profiles while the command runs and
// stops listening when it returns; without the flag nothing listens.
func TestPprofFlag(t *testing.T) {
	var errb bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &errb}
	root := a.root()
	urlRE := regexp.MustCompile(`url=(http://\S+/debug/pprof/)`)
	var url string
	var status int
	var body string
	root.AddCommand(&cobra.Command{Use: "probe", RunE: func(cmd *cobra.Command, _ []string) error {
		m := urlRE.FindStringSubmatch(errb.String())
		if m == nil {
			t.Errorf("no pprof address logged: %s", errb.String())
			return nil
		}
		url = m[1]
		resp, err := http.Get(url + "cmdline")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		status, body = resp.StatusCode, string(b)
		return nil
	}})
	if code := a.execute(context.Background(), root, []string{"--pprof", "127.0.0.1:0", "probe"}); code != 0 {
		t.Fatalf("exit code %d: %s", code, errb.String())
	}
	if status != http.StatusOK || body == "" {
		t.Fatalf("GET %scmdline: status %d, body %q", url, status, body)
	}
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Fatalf("the pprof listener still answers after the command returned")
	}

	code, _, stderr := runArgs(t, "--pprof", "256.0.0.1:x", "version")
	if code != 2 || !strings.Contains(stderr, "--pprof") {
		t.Fatalf("bad address: code %d, stderr %q", code, stderr)
	}
	code, _, stderr = runArgs(t, "version")
	if code != 0 || strings.Contains(stderr, "pprof") {
		t.Fatalf("without --pprof: code %d, stderr %q", code, stderr)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

func runArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := runArgs(t, args...)
		if code != 0 || !strings.HasPrefix(out, "tributary ") || !strings.Contains(out, "go1.") {
			t.Errorf("%v: code %d, out %q", args, code, out)
		}
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := runArgs(t, "--help")
	if code != 0 || !strings.Contains(out, "Available Commands:") || !strings.Contains(out, "version") {
		t.Fatalf("code %d, out %q", code, out)
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		args    []string
		code    int
		errWant string
	}{
		{[]string{"version"}, 0, ""},
		{[]string{"no-such-command"}, 2, `unknown command "no-such-command"`},
		{[]string{"version", "--no-such-flag"}, 2, "unknown flag: --no-such-flag"},
		{[]string{"version", "extra"}, 2, `unknown command "extra" for "tributary version"`},
		{[]string{"--log-level", "loud", "version"}, 2, `--log-level "loud"`},
		{[]string{"--log-format", "xml", "version"}, 2, `--log-format "xml"`},
	}
	for _, tt := range tests {
		code, _, errOut := runArgs(t, tt.args...)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tt.args, code, tt.code, errOut)
		}
		if tt.errWant != "" && !strings.Contains(errOut, tt.errWant) {
			t.Errorf("%v: stderr %q does not say %q", tt.args, errOut, tt.errWant)
		}
	}
}

// testCmd is a command that exists only in tests, to observe what the root
// gives every subcommand.
func testApp(t *testing.T, run func(cmd *cobra.Command, a *app) error) (a *app, root *cobra.Command, out, errb *bytes.Buffer) {
	out, errb = new(bytes.Buffer), new(bytes.Buffer)
	a = &app{stdin: strings.NewReader(""), stdout: out, stderr: errb}
	root = a.root()
	root.AddCommand(&cobra.Command{
		Use:  "probe",
		RunE: func(cmd *cobra.Command, _ []string) error { return run(cmd, a) },
	})
	return a, root, out, errb
}

func TestRuntimeFailureExitsOne(t *testing.T) {
	a, root, _, errb := testApp(t, func(*cobra.Command, *app) error { return errors.New("disk on fire") })
	if code := a.executeWithSignals(root, []string{"probe"}); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if got := errb.String(); got != "Error: disk on fire\n" {
		t.Fatalf("stderr %q", got)
	}
}

func TestUsageErrorExitsTwo(t *testing.T) {
	a, root, _, errb := testApp(t, func(*cobra.Command, *app) error { return usageErrorf("--topic is required") })
	if code := a.executeWithSignals(root, []string{"probe"}); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if got := errb.String(); !strings.HasPrefix(got, "Error: --topic is required\nRun 'tributary probe --help' for usage.") {
		t.Fatalf("stderr %q", got)
	}
}

func TestJSONLogging(t *testing.T) {
	a, root, _, errb := testApp(t, func(_ *cobra.Command, a *app) error {
		a.log.Info("hello", "topic", "log-test")
		a.log.Debug("hidden at info")
		return nil
	})
	if code := a.executeWithSignals(root, []string{"--log-format", "json", "probe"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	var rec map[string]any
	if err := json.Unmarshal(errb.Bytes(), &rec); err != nil {
		t.Fatalf("stderr is not one JSON record: %q: %v", errb, err)
	}
	if rec["msg"] != "hello" || rec["topic"] != "log-test" || rec["level"] != "INFO" {
		t.Fatalf("record %v", rec)
	}
}

func TestDebugLogging(t *testing.T) {
	a, root, _, errb := testApp(t, func(_ *cobra.Command, a *app) error {
		a.log.Debug("shown at debug")
		return nil
	})
	if code := a.executeWithSignals(root, []string{"--log-level", "debug", "probe"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errb.String(), "level=DEBUG msg=\"shown at debug\"") {
		t.Fatalf("stderr %q", errb)
	}
}

// TestSignalCancelsContext sends SIGINT and SIGTERM to the test process
// while a command waits on its context: the context is cancelled and the
// command returns normally.
func TestSignalCancelsContext(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		started := make(chan struct{})
		var ctxErr error
		a, root, _, errb := testApp(t, func(cmd *cobra.Command, _ *app) error {
			close(started)
			select {
			case <-cmd.Context().Done():
				ctxErr = cmd.Context().Err()
				return nil
			case <-time.After(time.Minute):
				return errors.New("context not cancelled within a minute")
			}
		})
		done := make(chan int)
		go func() { done <- a.executeWithSignals(root, []string{"probe"}) }()
		<-started
		if err := syscall.Kill(syscall.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		if code := <-done; code != 0 {
			t.Fatalf("%v: exit %d: %s", sig, code, errb)
		}
		if !errors.Is(ctxErr, context.Canceled) {
			t.Fatalf("%v: ctx err %v", sig, ctxErr)
		}
	}
}

// TestBinary runs the built binary: exit codes cross the process boundary.
func TestBinary(t *testing.T) {
	bin := tributaryBinary(t)
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "tributary ") {
		t.Fatalf("version: %v %q", err, out)
	}
	err = exec.Command(bin, "no-such-command").Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("unknown command: %v, want exit 2", err)
	}
}

// TestStandaloneAlias: "tributary standalone" is connect-standalone.
func TestStandaloneAlias(t *testing.T) {
	code, out, errOut := runArgs(t, "standalone", "--help")
	if code != 0 || !strings.HasPrefix(out, "Runs a standalone Kafka Connect worker") || !strings.Contains(out, "Aliases:\n  connect-standalone, standalone") {
		t.Fatalf("standalone --help: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runArgs(t, "standalone")
	if code != 2 || !strings.Contains(errOut, "Run 'tributary connect-standalone --help' for usage.") {
		t.Fatalf("standalone without a worker file: exit %d, stderr %q", code, errOut)
	}
}

// TestSignalExitCodes: a command marked signalExit that stops cleanly
// after SIGINT exits 130, after SIGTERM 143, as Kafka's tools do; a failure
// keeps its exit code. Only Kafka's long-running tools are so marked:
// connect-standalone and broker exit 0 from a clean stop.
func TestSignalExitCodes(t *testing.T) {
	tests := []struct {
		sig  syscall.Signal
		err  error
		code int
	}{
		{syscall.SIGINT, nil, 130},
		{syscall.SIGTERM, nil, 143},
		{syscall.SIGINT, errors.New("commit failed"), 1},
	}
	for _, tt := range tests {
		started := make(chan struct{})
		a, root, _, errb := testApp(t, func(cmd *cobra.Command, _ *app) error {
			close(started)
			<-cmd.Context().Done()
			return tt.err
		})
		probe, _, err := root.Find([]string{"probe"})
		if err != nil {
			t.Fatal(err)
		}
		probe.Annotations = signalExitAnnotations()
		done := make(chan int)
		go func() { done <- a.executeWithSignals(root, []string{"probe"}) }()
		<-started
		if err := syscall.Kill(syscall.Getpid(), tt.sig); err != nil {
			t.Fatal(err)
		}
		if code := <-done; code != tt.code {
			t.Fatalf("%v, error %v: exit %d, want %d: %s", tt.sig, tt.err, code, tt.code, errb)
		}
	}

	marked := map[string]bool{"console-consumer": true, "console-producer": true, "producer-perf-test": true, "consumer-perf-test": true}
	for _, c := range (&app{}).root().Commands() {
		if got := c.Annotations[signalExit] != ""; got != marked[c.Name()] {
			t.Errorf("%s: exits with 128+signal: %v, want %v", c.Name(), got, marked[c.Name()])
		}
	}
}

// TestHelpDefaults: no flag's help gives its default twice (in its text
// and in cobra's "(default ...)"), and each of Kafka's client tools shows
// examples.
func TestHelpDefaults(t *testing.T) {
	defaults := regexp.MustCompile(`\(default[ :]`)
	tools := []string{"topics", "console-producer", "console-consumer", "consumer-groups", "producer-perf-test", "consumer-perf-test"}
	for _, c := range (&app{}).root().Commands() {
		for _, line := range strings.Split(c.LocalFlags().FlagUsages(), "\n") {
			if len(defaults.FindAllString(line, -1)) > 1 {
				t.Errorf("%s: %s", c.Name(), strings.TrimSpace(line))
			}
		}
		if slices.Contains(tools, c.Name()) && !strings.HasPrefix(c.Example, "  tributary "+c.Name()+" ") {
			t.Errorf("%s: no example", c.Name())
		}
	}
}

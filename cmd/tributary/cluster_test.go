package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
)

// startKfake starts franz-go's kfake, an independent implementation of the
// Kafka protocol, and returns its address (kafkatest.StartKfake).
func startKfake(t testing.TB, opts ...kfake.Opt) string {
	t.Helper()
	return kafkatest.StartKfake(t, opts...)
}

// startBroker starts the bundled broker in-process and returns its address
// (kafkatest.StartBroker); props are server.properties entries key=value.
func startBroker(t testing.TB, props ...string) string {
	t.Helper()
	return kafkatest.StartBroker(t, props...)
}

// lockedBuffer is a buffer a command may write while the test reads it.
type lockedBuffer = kafkatest.Buffer

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
	binaryDir  string
)

// TestMain removes the binary built for end-to-end tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

// tributaryBinary builds the real tributary binary once per test run (with
// the race detector when the tests run with it) and returns its path.
func tributaryBinary(t testing.TB) string {
	t.Helper()
	binaryOnce.Do(func() {
		binaryDir, binaryErr = os.MkdirTemp("", "tributary-bin-")
		if binaryErr != nil {
			return
		}
		binaryPath = filepath.Join(binaryDir, "tributary")
		args := []string{"build", "-o", binaryPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, ".")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			binaryErr = &buildError{err: err, out: string(out)}
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }

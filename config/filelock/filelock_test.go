//go:build unix

package filelock

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestSecondHolderRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".lock")
	l, err := Acquire(p)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("lock file holds %q, want this pid", b)
	}
	_, err = Acquire(p)
	var held *HeldError
	if !errors.As(err, &held) || held.PID != os.Getpid() || held.Path != p {
		t.Fatalf("second Acquire: %v, want a HeldError naming %s and pid %d", err, p, os.Getpid())
	}
	if want := p + " is held by another process (pid " + strconv.Itoa(os.Getpid()) + ")"; err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := Acquire(p)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	l2.Release()
	l2.Release() // twice is harmless
}

// TestHeldAcrossProcesses: a lock held by another process (flock(1)
// standing in for a second broker) refuses this one; the lock ends with
// that process.
func TestHeldAcrossProcesses(t *testing.T) {
	flock, err := exec.LookPath("flock")
	if err != nil {
		t.Skip("flock(1) not installed")
	}
	p := filepath.Join(t.TempDir(), ".lock")
	// flock holds the lock while cat waits on its stdin.
	cmd := exec.Command(flock, "-x", p, "sh", "-c", "echo locked; exec cat")
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("flock did not say it holds the lock: %q %v", buf, err)
	}
	var held *HeldError
	if _, err := Acquire(p); !errors.As(err, &held) {
		t.Fatalf("Acquire while another process holds it: %v", err)
	}
	in.Close()
	cmd.Wait()
	l, err := Acquire(p)
	if err != nil {
		t.Fatalf("Acquire after the holder ended: %v", err)
	}
	l.Release()
}

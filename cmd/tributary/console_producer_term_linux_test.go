package main

import (
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openPTY opens a pseudo-terminal and returns its controlling side and the
// terminal a program reads from.
func openPTY(t *testing.T) (control, term *os.File) {
	t.Helper()
	control, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { control.Close() })
	var unlock int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, control.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		t.Fatalf("unlockpt: %v", errno)
	}
	var n uint32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, control.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Fatalf("ptsname: %v", errno)
	}
	term, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { term.Close() })
	return control, term
}

func TestIsTerminal(t *testing.T) {
	_, term := openPTY(t)
	if !isTerminal(term) {
		t.Error("a pseudo-terminal is not a terminal")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	for name, in := range map[string]io.Reader{"pipe": r, "/dev/null": devNull, "reader": strings.NewReader("")} {
		if isTerminal(in) {
			t.Errorf("%s is taken for a terminal", name)
		}
	}
}

// TestConsoleProducerPrompt: typed at a terminal, each line is prompted
// with '>', as Kafka's console producer does; piped input is not (the
// suites check that stdout stays empty).
func TestConsoleProducerPrompt(t *testing.T) {
	control, term := openPTY(t)
	addr := startKfake(t)
	mustCreateTopic(t, addr, "typed", 1)

	cmd := exec.Command(tributaryBinary(t), "console-producer", "--bootstrap-server", addr, "--topic", "typed")
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	cmd.Stdin = term
	var out, errb lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	done := make(chan struct{})
	go func() { // ends with the process
		waitErr = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("console-producer not reaped 10s after SIGKILL; stdout %q stderr %q", out.String(), errb.String())
		}
	})
	go func() { // drains the terminal's echo; ends when control is closed
		b := make([]byte, 1024)
		for {
			if _, err := control.Read(b); err != nil {
				return
			}
		}
	}()

	eventually(t, 30*time.Second, "first prompt", func() bool { return out.String() == ">" })
	control.Write([]byte("first typed line\n"))
	eventually(t, 30*time.Second, "second prompt", func() bool { return out.String() == ">>" })
	control.Write([]byte("second typed line\n"))
	eventually(t, 30*time.Second, "third prompt", func() bool { return out.String() == ">>>" })
	control.Write([]byte{4}) // Ctrl-D: end of input
	select {
	case <-done:
		if waitErr != nil || errb.String() != "" {
			t.Fatalf("exit %v, stderr %q", waitErr, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit after Ctrl-D")
	}
	if out.String() != ">>>" {
		t.Fatalf("stdout %q", out.String())
	}
	if got := values(readTopic(t, addr, "typed", 2)); got[0] != "first typed line" || got[1] != "second typed line" {
		t.Fatalf("%q", got)
	}
}

package consoleproducer

import (
	"context"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
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

// TestPrompt: typed at a terminal, each line is prompted with '>', as
// Kafka's console producer does; piped input is not (TestRun checks that
// stdout stays empty).
func TestPrompt(t *testing.T) {
	control, term := openPTY(t)
	addr := kafkatest.StartKfake(t)
	kafkatest.CreateTopic(t, addr, "typed", 1)

	o := defaults()
	o.Bootstrap, o.Topic = addr, "typed"
	var out, errb kafkatest.Buffer
	done := make(chan error, 1)
	// Run ends at Ctrl-D.
	go func() { done <- Run(context.Background(), o, term, &out, &errb) }()
	go func() { // drains the terminal's echo; ends when control is closed
		b := make([]byte, 1024)
		for {
			if _, err := control.Read(b); err != nil {
				return
			}
		}
	}()

	kafkatest.Eventually(t, 30*time.Second, "first prompt", func() bool { return out.String() == ">" })
	control.Write([]byte("first typed line\n"))
	kafkatest.Eventually(t, 30*time.Second, "second prompt", func() bool { return out.String() == ">>" })
	control.Write([]byte("second typed line\n"))
	kafkatest.Eventually(t, 30*time.Second, "third prompt", func() bool { return out.String() == ">>>" })
	control.Write([]byte{4}) // Ctrl-D: end of input
	select {
	case err := <-done:
		if err != nil || errb.String() != "" {
			t.Fatalf("exit %v, stderr %q", err, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit after Ctrl-D")
	}
	if out.String() != ">>>" {
		t.Fatalf("stdout %q", out.String())
	}
	recs := kafkatest.ReadTopic(t, addr, "typed", 2)
	if string(recs[0].Value) != "first typed line" || string(recs[1].Value) != "second typed line" {
		t.Fatalf("%q %q", recs[0].Value, recs[1].Value)
	}
}

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fifoPipeline makes a pipeline whose consumer is `cat fifo > out`: it
// blocks until a producer opens the fifo, so the two must run at once.
func fifoPipeline(t *testing.T, producer *exec.Cmd, want int64) (*pipeline, string) {
	t.Helper()
	dir := t.TempDir()
	fifo, outPath := filepath.Join(dir, "fifo"), filepath.Join(dir, "out")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	cons := exec.Command("cat", fifo)
	cons.Stdout = out
	producer.Args = append(producer.Args, fifo)
	return &pipeline{consumer: cons, producer: producer, out: outPath, want: want, poll: time.Millisecond, timeout: time.Minute}, fifo
}

// TestPipeline: the consumer starts first and waits for the producer (a
// run that started them one after the other would never end), and the
// time runs from the producer's start until the output is complete.
func TestPipeline(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	data := bytes.Repeat([]byte("192.0.2.1 - - [12/Mar/2026:14:02:11 +0000] \"GET / HTTP/1.1\" 200 512 \"-\" \"curl/8.5.0\"\n"), 20000)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	pl, _ := fifoPipeline(t, exec.Command("sh", "-c", `exec cat "$1" > "$2"`, "sh", src), int64(len(data)))
	before := time.Now()
	tm, err := pl.run(context.Background())
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(pl.out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("output has %d bytes, not the %d of the source", len(got), len(data))
	}
	if !(before.Compare(tm.consumerStart) <= 0 && tm.consumerStart.Compare(tm.producerStart) <= 0 &&
		tm.producerStart.Before(tm.done) && tm.done.Compare(after) <= 0) {
		t.Errorf("times out of order: run %v, consumer %v, producer %v, done %v, returned %v",
			before, tm.consumerStart, tm.producerStart, tm.done, after)
	}
	if e := tm.elapsed(); e != tm.done.Sub(tm.producerStart) || e <= 0 || e > after.Sub(before) {
		t.Errorf("elapsed %v: want done − producer start (%v), within the run's %v", e, tm.done.Sub(tm.producerStart), after.Sub(before))
	}
	if tm.producerCPU < 0 || tm.consumerCPU < 0 {
		t.Errorf("CPU times %v, %v", tm.producerCPU, tm.consumerCPU)
	}
	if !pl.consumer.ProcessState.Success() || !pl.producer.ProcessState.Success() {
		t.Errorf("consumer %v, producer %v", pl.consumer.ProcessState, pl.producer.ProcessState)
	}
}

// TestPipelineConsumerEndsShort: a consumer that ends before writing
// everything fails the run, saying how much it wrote.
func TestPipelineConsumerEndsShort(t *testing.T) {
	// The producer's one 16-byte write fits the fifo whether or not the
	// consumer has read yet, so the producer ends well.
	pl, fifo := fifoPipeline(t, exec.Command("sh", "-c", `printf 0123456789abcdef > "$1"`, "sh"), 16)
	pl.consumer = exec.Command("head", "-c", "10", fifo)
	pl.consumer.Stdout = mustOpen(t, pl.out)
	_, err := pl.run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "ended with 10 of 16 bytes") {
		t.Fatalf("err = %v, want the consumer's short output named", err)
	}
}

// TestPipelineProducerFails: a producer that fails fails the run at once,
// and the consumer still waiting for it is killed.
func TestPipelineProducerFails(t *testing.T) {
	pl, _ := fifoPipeline(t, exec.Command("sh", "-c", `echo "no broker" >&2; exit 3`, "sh"), 100)
	_, err := pl.run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "no broker") {
		t.Fatalf("err = %v, want the producer's exit status and output", err)
	}
	if ps := pl.consumer.ProcessState; ps == nil || ps.Success() {
		t.Fatalf("consumer %v, want it killed", ps)
	}
}

// TestPipelineTimeout: a stuck pipeline ends at its time-out with both
// processes killed; so does one whose context ends.
func TestPipelineTimeout(t *testing.T) {
	for _, c := range []struct {
		name    string
		timeout time.Duration
		ctx     func() context.Context
		want    string
	}{
		{"time-out", 50 * time.Millisecond, context.Background, "timed out after 50ms with 0 of 100 bytes"},
		{"context", time.Minute, func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, "context canceled"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The producer reads a pipe nobody writes: it neither ends nor
			// opens the fifo.
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			defer w.Close()
			prod := exec.Command("sh", "-c", `exec cat > "$1"`, "sh")
			prod.Stdin = r
			pl, _ := fifoPipeline(t, prod, 100)
			pl.timeout = c.timeout
			_, err = pl.run(c.ctx())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if pl.consumer.ProcessState == nil || pl.producer.ProcessState == nil {
				t.Fatal("run returned with a process still running")
			}
		})
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

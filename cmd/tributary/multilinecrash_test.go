package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// traceEvent is event n of an application log: a single line, a Java stack
// trace or a Python traceback, each line carrying n.
func traceEvent(n int) string {
	switch n % 3 {
	case 1:
		return fmt.Sprintf("2026-12-04 ERROR event %d failed\n"+
			"java.lang.IllegalStateException: event %d\n"+
			"\tat com.example.Handler.serve(Handler.java:%d)\n"+
			"\tat com.example.Main.main(Main.java:7)\n"+
			"Caused by: java.io.IOException: disk %d\n"+
			"\tat com.example.Store.write(Store.java:13)\n"+
			"\t... 2 more\n", n, n, n, n)
	case 2:
		return fmt.Sprintf("2026-12-04 ERROR event %d failed\n"+
			"Traceback (most recent call last):\n"+
			"  File \"job.py\", line %d, in <module>\n"+
			"    run()\n"+
			"ValueError: event %d\n", n, n, n)
	}
	return fmt.Sprintf("2026-12-04 INFO event %d ok\n", n)
}

// TestCrashKill9Multiline: an application log of single lines and Java and
// Python traces, read with multiline.preset=java and python patterns
// together, while the worker is killed with SIGKILL; every event reaches
// the sink once and whole (its lines together, none split off).
func TestCrashKill9Multiline(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "app.log"), filepath.Join(dir, "out.txt")
	wf := writeProps(t, filepath.Join(dir, "worker.properties"),
		"offset.storage.file.filename="+filepath.Join(dir, "connect.offsets"),
		"offset.flush.interval.ms=1000",
		"listeners=http://127.0.0.1:0", "broker.listeners=PLAINTEXT://127.0.0.1:0")
	// A line joins the event before it unless it starts a new one with a
	// date: both kinds of trace, whatever their lines.
	sf := writeProps(t, filepath.Join(dir, "source.properties"), "name=src", "connector.class=FileStreamSource",
		"files="+in, `multiline.pattern=^\\d{4}-\\d{2}-\\d{2}`, "multiline.negate=true", "multiline.timeout.ms=200", "topic=events")
	kf := writeProps(t, filepath.Join(dir, "sink.properties"), "name=sink", "connector.class=FileStreamSink", "file="+out, "topics=events")

	f, err := os.OpenFile(in, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	next := 0
	stop := make(chan struct{})
	done := make(chan struct{})
	stopWriter := sync.OnceFunc(func() { close(stop); <-done })
	t.Cleanup(stopWriter)
	go func() { // the writer, owned by the test; ends on stop
		defer close(done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			mu.Lock()
			// An event's lines come in two writes at times, as a logger
			// flushing a long trace would.
			ev := traceEvent(next)
			cut := len(ev)
			if next%5 == 1 {
				cut = strings.IndexByte(ev, '\n') + 1 // its first line alone
			}
			f.WriteString(ev[:cut])
			f.WriteString(ev[cut:])
			next++
			mu.Unlock()
		}
	}()

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	for range 4 {
		p := startProgressing(t, dir, out, wf, sf, kf)
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		p.kill()
		time.Sleep(time.Duration(rng.IntN(500)) * time.Millisecond)
	}
	stopWriter()
	f.Close()
	mu.Lock()
	written := next
	mu.Unlock()

	p := startCS(t, dir, wf, sf, kf)
	want := ""
	for n := range written {
		want += traceEvent(n)
	}
	deadline := time.Now().Add(120 * time.Second)
	for {
		got, _ := os.ReadFile(out)
		if len(got) >= len(want) || time.Now().After(deadline) {
			break
		}
		select {
		case <-p.done:
			t.Fatalf("final run exited:\n%s", p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr.String())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// The sink writes each event as its record's value and a newline: the
	// file is the log itself when every event came once, whole, in order.
	if string(got) != want {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(want, "\n")
		i := 0
		for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
			i++
		}
		t.Fatalf("%d events written; the sink differs from the log at line %d: got %q, want %q (sink %d lines, log %d)",
			written, i+1, at(gl, i), at(wl, i), len(gl), len(wl))
	}
	t.Logf("%d events (%d lines) through 4 kills, each once and whole", written, strings.Count(want, "\n"))
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(end)" + strconv.Itoa(len(lines))
}

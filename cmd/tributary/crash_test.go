package main

import (
	"bufio"
	"bytes"
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

// longTests reports whether the long variants run (TRIBUTARY_LONG=1); the
// short ones are what CI runs.
func longTests() bool { return os.Getenv("TRIBUTARY_LONG") != "" }

// crashWriter appends numbered lines of varying length to a log file at
// about 1000 lines a second and rotates it, by rename+create and by
// copytruncate in turn. It knows which lines copytruncate may lose: those
// written between the copy and the truncation.
type crashWriter struct {
	t    testing.TB
	path string
	// caughtUp reports whether the sink holds line n; copytruncate waits
	// for the lines it copied to be read before it truncates, so that only
	// the lines written in between can be lost.
	caughtUp func(n int) bool

	mu        sync.Mutex
	f         *os.File
	next      int
	window    map[int]bool // lines written between a copy and its truncation
	renames   int
	truncates int
	gen       int
	events    []string // what happened at which line, for failure reports
}

func (w *crashWriter) event(format string, args ...any) {
	w.events = append(w.events, fmt.Sprintf("%s line %d: ", time.Now().Format("15:04:05.000"), w.next)+fmt.Sprintf(format, args...))
}

func newCrashWriter(t testing.TB, path string, caughtUp func(int) bool) *crashWriter {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return &crashWriter{t: t, path: path, f: f, caughtUp: caughtUp, window: map[int]bool{}}
}

func crashLine(n int) string {
	return fmt.Sprintf("%08d %s\n", n, strings.Repeat("x", n*7%53))
}

// write appends n lines; inWindow marks them as lines copytruncate may lose.
func (w *crashWriter) write(n int, inWindow bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b bytes.Buffer
	for range n {
		b.WriteString(crashLine(w.next))
		if inWindow {
			w.window[w.next] = true
		}
		w.next++
	}
	if _, err := w.f.Write(b.Bytes()); err != nil {
		w.t.Errorf("writing %s: %v", w.path, err)
	}
}

func (w *crashWriter) written() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.next
}

// renameCreate renames the file away, writes a few more lines to it (as a
// writer does until it reopens), then creates the file anew.
func (w *crashWriter) renameCreate() {
	w.mu.Lock()
	w.gen++
	if err := os.Rename(w.path, w.path+"."+strconv.Itoa(w.gen)); err != nil {
		w.t.Error(err)
	}
	w.event("renamed to .%d", w.gen)
	w.mu.Unlock()
	w.write(5, false)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.f.Close()
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		w.t.Error(err)
		return
	}
	w.f = f
	w.renames++
	w.event("created anew")
}

// copyTruncate copies the file, writes a few lines (which the copy lacks),
// waits until every line of the copy is in the sink (or stop), then
// truncates the file in place; the writer keeps its descriptor.
func (w *crashWriter) copyTruncate(stop <-chan struct{}) {
	w.mu.Lock()
	w.gen++
	b, err := os.ReadFile(w.path)
	if err == nil {
		err = os.WriteFile(w.path+"."+strconv.Itoa(w.gen), b, 0o644)
	}
	last := w.next - 1
	w.event("copied to .%d", w.gen)
	w.mu.Unlock()
	if err != nil {
		w.t.Error(err)
		return
	}
	w.write(5, true)
	deadline := time.Now().Add(120 * time.Second)
	for !w.caughtUp(last) {
		if time.Now().After(deadline) {
			w.t.Errorf("line %d never reached the sink", last)
			break
		}
		select {
		case <-stop:
			return
		case <-time.After(20 * time.Millisecond):
		}
		w.write(1, true)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := os.Truncate(w.path, 0); err != nil {
		w.t.Error(err)
	}
	w.truncates++
	w.event("truncated")
}

func (w *crashWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.f.Close()
}

// startProgressing starts connect-standalone with args in dir and waits
// until the sink file out grows, failing the test if the run ends first or
// makes no progress for 90 s.
func startProgressing(t testing.TB, dir, out string, args ...string) *csProc {
	t.Helper()
	p := startCS(t, dir, args...)
	before := fileSize(out)
	deadline := time.Now().Add(90 * time.Second)
	for fileSize(out) <= before {
		if time.Now().After(deadline) {
			t.Fatalf("the run made no progress:\n%s", p.stderr.String())
		}
		select {
		case <-p.done:
			t.Fatalf("the run exited:\n%s", p.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return p
}

// sinkWatch tells whether the sink file holds a line numbered n or later
// (for copytruncate's wait), from the file's last line.
type sinkWatch struct{ path string }

func (s *sinkWatch) has(n int) bool {
	f, err := os.Open(s.path)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	b := make([]byte, min(fi.Size(), 4096))
	m, _ := f.ReadAt(b, fi.Size()-int64(len(b)))
	b = b[:m]
	b = b[:bytes.LastIndexByte(b, '\n')+1]
	if len(b) == 0 {
		return false
	}
	i := bytes.LastIndexByte(b[:len(b)-1], '\n') + 1
	last, err := strconv.Atoi(string(b[i:min(i+8, len(b))]))
	return err == nil && last >= n
}

// crashCounts is what a crash run delivered.
type crashCounts struct {
	written, delivered, lost, lostInWindow, duplicated, corrupt int
}

func (c crashCounts) String() string {
	return fmt.Sprintf("written %d, delivered %d, lost %d (all within copytruncate windows: %d), duplicated or out of order %d, corrupt %d",
		c.written, c.delivered, c.lost, c.lostInWindow, c.duplicated, c.corrupt)
}

// checkCrashSink reads the sink file and compares it with what was written.
func checkCrashSink(t testing.TB, out string, written int, window map[int]bool) (crashCounts, []string) {
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := crashCounts{written: written}
	var problems []string
	note := func(format string, args ...any) {
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	seen := make([]bool, written)
	prev := -1
	sc := bufio.NewScanner(f)
	for ln := 1; sc.Scan(); ln++ {
		line := sc.Text()
		n, err := strconv.Atoi(line[:min(8, len(line))])
		if err != nil || n < 0 || n >= written || line+"\n" != crashLine(n) {
			c.corrupt++
			note("sink line %d: %q is not a line the writer wrote", ln, line)
			continue
		}
		if seen[n] || n <= prev {
			c.duplicated++
			note("sink line %d: line %d after line %d", ln, n, prev)
		}
		if !seen[n] {
			c.delivered++
		}
		seen[n] = true
		prev = max(prev, n)
	}
	for n := 0; n < written; n++ {
		if seen[n] {
			continue
		}
		c.lost++
		if window[n] {
			c.lostInWindow++
			continue
		}
		// Report runs of lost lines as ranges.
		end := n
		for end+1 < written && !seen[end+1] && !window[end+1] {
			end++
		}
		c.lost += end - n
		note("lines %d to %d lost (not written between a copy and its truncation)", n, end)
		n = end
	}
	return c, problems
}

// TestCrashKill9Rotation kills the worker (and its bundled broker) with
// SIGKILL at random moments while a writer appends to the source file and
// rotates it by rename+create and by copytruncate. After the last restart
// the sink file holds every line written, once and in order; copytruncate
// may only lose lines written between its copy and its truncation.
// TRIBUTARY_LONG=1 runs 25 kills instead of 5.
func TestCrashKill9Rotation(t *testing.T) {
	kills := 5
	if longTests() {
		kills = 25
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "access.log"), filepath.Join(dir, "out.txt")
	wf := writeProps(t, filepath.Join(dir, "worker.properties"),
		"offset.storage.file.filename="+filepath.Join(dir, "connect.offsets"),
		"offset.flush.interval.ms=1000",
		"listeners=http://127.0.0.1:0", "broker.listeners=PLAINTEXT://127.0.0.1:0")
	sf := writeProps(t, filepath.Join(dir, "source.properties"), "name=src", "connector.class=FileStreamSource", "file="+in, "topic=crash")
	kf := writeProps(t, filepath.Join(dir, "sink.properties"), "name=sink", "connector.class=FileStreamSink", "file="+out, "topics=crash")

	sink := &sinkWatch{path: out}
	w := newCrashWriter(t, in, sink.has)
	w.write(200, false)
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	// stopWriter ends the writer and waits for it, also when the test
	// fails early.
	stopWriter := sync.OnceFunc(func() { close(stop); <-writerDone })
	t.Cleanup(stopWriter)
	go func() { // the writer: owned by this test, ends on stop
		defer close(writerDone)
		rng := rand.New(rand.NewPCG(seed, 2))
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		// Rotations start once the worker has read the first lines: a file
		// rotated before any worker saw it is not followed.
		nextRotation := time.Now().Add(time.Hour)
		copyTrunc := false
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			w.write(10, false)
			if nextRotation.After(time.Now().Add(time.Minute)) && sink.has(0) {
				nextRotation = time.Now()
			}
			if time.Now().After(nextRotation) {
				if copyTrunc {
					w.copyTruncate(stop)
				} else {
					w.renameCreate()
				}
				copyTrunc = !copyTrunc
				nextRotation = time.Now().Add(time.Duration(500+rng.IntN(1500)) * time.Millisecond)
			}
		}
	}()

	rng := rand.New(rand.NewPCG(seed, 1))
	var runs []*csProc
	for i := range kills {
		// Let it make progress, then kill it a random while later.
		p := startProgressing(t, dir, out, wf, sf, kf)
		runs = append(runs, p)
		time.Sleep(time.Duration(rng.IntN(2000)) * time.Millisecond) // the random moment of the kill
		p.kill()
		w.mu.Lock()
		w.event("worker run %d killed", i)
		w.mu.Unlock()
		// Stay down a random while, as a supervisor would, so that
		// rotations also happen while no worker runs.
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
	}
	stopWriter()
	w.close()
	written := w.written()

	p := startCS(t, dir, wf, sf, kf)
	runs = append(runs, p)
	deadline := time.Now().Add(120 * time.Second)
	for !sink.has(written - 1) {
		if time.Now().After(deadline) {
			t.Fatalf("line %d never arrived:\n%s", written-1, p.stderr.String())
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
	w.mu.Lock()
	window := w.window
	renames, truncates := w.renames, w.truncates
	w.mu.Unlock()
	c, problems := checkCrashSink(t, out, written, window)
	t.Logf("%d kills, %d rename+create and %d copytruncate rotations: %s; %d lines were written between a copy and its truncation",
		kills, renames, truncates, c, len(window))
	if c.duplicated > 0 || c.corrupt > 0 || c.lost > c.lostInWindow {
		w.mu.Lock()
		events := strings.Join(w.events, "\n")
		w.mu.Unlock()
		var logs strings.Builder
		for i, r := range runs {
			for _, l := range strings.Split(r.stderr.String(), "\n") {
				if strings.Contains(l, "connector=src") && !strings.Contains(l, "progress") && !strings.Contains(l, "catching up") {
					fmt.Fprintf(&logs, "run %d: %s\n", i, l)
				}
			}
		}
		t.Fatalf("%s\n%s\nwriter:\n%s\nsource task logs:\n%s", c, strings.Join(problems, "\n"), events, logs.String())
	}
}

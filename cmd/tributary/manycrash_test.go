package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// manyWriter appends numbered lines to one log of a folder of logs and
// rotates it: by rename to a dated name that the source's pattern also
// matches, then a new file; or by copytruncate to a copy that the pattern
// excludes. Lines are "NAME SEQ padding".
type manyWriter struct {
	name, path string
	sink       *sinkTail

	mu      sync.Mutex
	f       *os.File
	next    int
	window  map[int]bool // written between a copy and its truncation
	rotated []rotatedLog // the dated files kept
	first   int          // the first line of the current file
	renames int
	copies  int
}

func manyLine(name string, n int) string {
	return fmt.Sprintf("%s %08d %s\n", name, n, strings.Repeat("y", n*7%41))
}

func (w *manyWriter) write(n int, inWindow bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for range n {
		if inWindow {
			w.window[w.next] = true
		}
		b.WriteString(manyLine(w.name, w.next))
		w.next++
	}
	if _, err := w.f.WriteString(b.String()); err != nil {
		panic(err)
	}
}

// renameDated renames the log to a dated name (matched by the pattern) and
// starts a new one, as logrotate with dateext and create does.
func (w *manyWriter) renameDated() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.renames++
	if err := os.Rename(w.path, fmt.Sprintf("%s-2026120%d", w.path, w.renames)); err != nil {
		panic(err)
	}
	w.f.Close()
	// Keep two rotated files, as logrotate with rotate 2: the ones before
	// go once the sink holds their lines (a file deleted before any reader
	// opened it is lost to every reader).
	w.rotated = append(w.rotated, rotatedLog{fmt.Sprintf("%s-2026120%d", w.path, w.renames), w.first, w.next - 1})
	w.first = w.next
	for len(w.rotated) > 2 && w.sink.hasAll(w.name, w.rotated[0].first, w.rotated[0].last) {
		os.Remove(w.rotated[0].path)
		w.rotated = w.rotated[1:]
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		panic(err)
	}
	w.f = f
}

type rotatedLog struct {
	path        string
	first, last int // its lines
}

// copyTruncate copies the log aside (a name the pattern excludes), waits
// until the sink holds the lines copied, and truncates it; the lines
// written meanwhile are those copytruncate may lose.
func (w *manyWriter) copyTruncate(stop <-chan struct{}) {
	w.mu.Lock()
	w.copies++
	data, err := os.ReadFile(w.path)
	if err != nil {
		panic(err)
	}
	os.WriteFile(fmt.Sprintf("%s.copy%d", w.path, w.copies), data, 0o644)
	last := w.next - 1
	w.mu.Unlock()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !w.sink.has(w.name, last) {
		select {
		case <-stop:
			return
		case <-tick.C:
			w.write(1, true)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.f.Truncate(0); err != nil {
		panic(err)
	}
}

// sinkTail follows the sink file and knows the highest line number of each
// log it holds; what reached the sink reached the topic.
type sinkTail struct {
	path string
	mu   sync.Mutex
	off  int64
	rest []byte
	high map[string]int
	seen map[string][]bool
}

// hasAllBut reports whether the sink holds every line of a log up to last
// but those of skip.
func (s *sinkTail) hasAllBut(name string, last int, skip map[int]bool) bool {
	s.has(name, 0)
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := s.seen[name]
	for n := 0; n <= last; n++ {
		if (n >= len(seen) || !seen[n]) && !skip[n] {
			return false
		}
	}
	return true
}

// hasAll reports whether the sink holds every line of a log from first to
// last (a log's files are read side by side, so the highest line seen says
// nothing of an older file's).
func (s *sinkTail) hasAll(name string, first, last int) bool {
	s.has(name, 0) // reads what is new
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := s.seen[name]
	for n := first; n <= last; n++ {
		if n >= len(seen) || !seen[n] {
			return false
		}
	}
	return true
}

func (s *sinkTail) has(name string, n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.Open(s.path)
	if err == nil {
		if fi, err := f.Stat(); err == nil && fi.Size() < s.off {
			s.off, s.rest = 0, nil // cut on restart: read again
		}
		f.Seek(s.off, io.SeekStart)
		b, _ := io.ReadAll(f)
		f.Close()
		s.off += int64(len(b))
		b = append(s.rest, b...)
		end := strings.LastIndexByte(string(b), '\n') + 1
		for _, line := range strings.Split(string(b[:end]), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				if k, err := strconv.Atoi(f[1]); err == nil {
					s.high[f[0]] = max(s.high[f[0]], k)
					seen := s.seen[f[0]]
					for len(seen) <= k {
						seen = append(seen, false)
					}
					seen[k] = true
					s.seen[f[0]] = seen
				}
			}
		}
		s.rest = append([]byte(nil), b[end:]...)
	}
	h, ok := s.high[name]
	return ok && h >= n
}

// TestCrashKill9ManyFiles: one source connector reads a folder of logs
// (files=*.log*) while writers append to every log, a third of the logs are
// rotated by dated rename, a tenth by copytruncate, and new logs appear;
// the worker (with its bundled broker, or alone against kfake) is killed
// with SIGKILL five times. After the last restart the sink holds every
// line once; only copytruncate's window may lose lines. TRIBUTARY_LONG=1
// runs 200 logs at about 20,000 lines a second for 60 s.
func TestCrashKill9ManyFiles(t *testing.T) {
	t.Run("bundled", func(t *testing.T) { crashManyFiles(t, "broker.listeners=PLAINTEXT://127.0.0.1:0", "") })
	t.Run("kfake", func(t *testing.T) {
		addr := startKfake(t)
		crashManyFiles(t, "bootstrap.servers="+addr, addr)
	})
}

// crashManyFiles runs the test against cluster (a worker file line); addr,
// when the cluster outlives the worker, is where a failure's records are
// looked up.
func crashManyFiles(t *testing.T, cluster, addr string) {
	logs, perTick, duration := 15, 1, 12*time.Second
	if longTests() {
		logs, perTick, duration = 200, 1, 60*time.Second
	}
	dir := t.TempDir()
	folder := filepath.Join(dir, "logs")
	os.Mkdir(folder, 0o755)
	out := filepath.Join(dir, "out.txt")
	wf := writeProps(t, filepath.Join(dir, "worker.properties"),
		"offset.storage.file.filename="+filepath.Join(dir, "connect.offsets"),
		"offset.flush.interval.ms=1000",
		"listeners=http://127.0.0.1:0", cluster)
	sf := writeProps(t, filepath.Join(dir, "source.properties"), "name=src", "connector.class=FileStreamSource",
		"files="+filepath.Join(folder, "*.log*"), "files.exclude=*.copy*", "topic=many")
	kf := writeProps(t, filepath.Join(dir, "sink.properties"), "name=sink", "connector.class=FileStreamSink", "file="+out, "topics=many")

	sink := &sinkTail{path: out, high: map[string]int{}, seen: map[string][]bool{}}
	var mu sync.Mutex
	var writers []*manyWriter
	newLog := func(i int) *manyWriter {
		name := fmt.Sprintf("app%03d", i)
		path := filepath.Join(folder, name+".log")
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		w := &manyWriter{name: name, path: path, sink: sink, f: f, window: map[int]bool{}}
		mu.Lock()
		writers = append(writers, w)
		mu.Unlock()
		return w
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	stopWriters := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopWriters)
	run := func(w *manyWriter, i int) { // one log's writer, owned by the test, ends on stop
		defer wg.Done()
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		next := time.Now().Add(time.Duration(1000+rng.IntN(3000)) * time.Millisecond)
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			w.write(perTick, false)
			if time.Now().After(next) {
				switch {
				case i%3 == 0:
					w.renameDated()
				case i%10 == 1:
					w.copyTruncate(stop)
				}
				next = time.Now().Add(time.Duration(1500+rng.IntN(3000)) * time.Millisecond)
			}
		}
	}
	for i := range logs {
		w := newLog(i)
		w.write(20, false)
		wg.Add(1)
		go run(w, i)
	}

	rng := rand.New(rand.NewPCG(seed, 1000))
	start := time.Now()
	added := logs
	var runs []*csProc
	for range 5 {
		p := startProgressing(t, dir, out, wf, sf, kf)
		runs = append(runs, p)
		// New logs appear while the worker runs.
		for range max(1, logs/20) {
			w := newLog(added)
			w.write(5, false)
			wg.Add(1)
			go run(w, added)
			added++
		}
		time.Sleep(time.Duration(rng.Int64N(int64(duration/5))) + duration/20)
		p.kill()
		time.Sleep(time.Duration(rng.IntN(1000)) * time.Millisecond)
	}
	for time.Since(start) < duration {
		time.Sleep(100 * time.Millisecond)
	}
	stopWriters()
	p := startCS(t, dir, wf, sf, kf)
	runs = append(runs, p)
	mu.Lock()
	defer mu.Unlock()
	deadline := time.Now().Add(180 * time.Second)
	for _, w := range writers {
		w.f.Close()
		for !sink.hasAllBut(w.name, w.next-1, w.window) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: line %d never arrived:\n%s", w.name, w.next-1, p.stderr.String())
			}
			select {
			case <-p.done:
				t.Fatalf("final run exited:\n%s", p.stderr.String())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr.String())
	}

	// Every line once, in each log's order.
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	byName := map[string]*manyWriter{}
	seen := map[string][]bool{}
	written, renames, copies, windowLines := 0, 0, 0, 0
	for _, w := range writers {
		byName[w.name] = w
		seen[w.name] = make([]bool, w.next)
		written += w.next
		renames += w.renames
		copies += w.copies
		windowLines += len(w.window)
	}
	var problems []string
	note := func(format string, args ...any) {
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	delivered, duplicated, corrupt, lost, lostInWindow := 0, 0, 0, 0, 0
	dupNames := map[string]int{} // a log with duplicates or losses: its first one
	sc := bufio.NewScanner(f)
	for ln := 1; sc.Scan(); ln++ {
		line := sc.Text()
		fields := strings.Fields(line)
		var w *manyWriter
		n := -1
		if len(fields) >= 2 {
			w = byName[fields[0]]
			n, _ = strconv.Atoi(fields[1])
		}
		if w == nil || n < 0 || n >= w.next || line+"\n" != manyLine(w.name, n) {
			corrupt++
			note("sink line %d: %q is not a line a writer wrote", ln, line)
			continue
		}
		// Each log's lines are in order within each of its files; the
		// files of one log (rotated, current) may be read side by side.
		if seen[w.name][n] {
			duplicated++
			if dupNames[w.name] == 0 {
				dupNames[w.name] = n
			}
			note("sink line %d: %s line %d again", ln, w.name, n)
		} else {
			delivered++
		}
		seen[w.name][n] = true
	}
	for _, w := range writers {
		for n, ok := range seen[w.name] {
			if ok {
				continue
			}
			lost++
			if w.window[n] {
				lostInWindow++
				continue
			}
			if _, ok := dupNames[w.name]; !ok && len(dupNames) < 3 {
				dupNames[w.name] = n
			}
			note("%s line %d lost", w.name, n)
		}
	}
	elapsed := time.Since(start)
	t.Logf("%d logs, 5 kills, %d dated renames, %d copytruncates, %s: written %d (%.0f lines/s), delivered %d, duplicated %d, corrupt %d, lost %d (within copytruncate windows %d of %d window lines)",
		len(writers), renames, copies, elapsed.Round(time.Second), written, float64(written)/elapsed.Seconds(), delivered, duplicated, corrupt, lost, lostInWindow, windowLines)
	if duplicated > 0 || corrupt > 0 || lost > lostInWindow {
		// The source task's log lines about the logs with duplicates (or
		// all of them, when lines were lost or corrupt).
		var logs strings.Builder
		for i, r := range runs {
			for _, l := range strings.Split(r.stderr.String(), "\n") {
				if !strings.Contains(l, "connector=src") || strings.Contains(l, "progress") || strings.Contains(l, "found a new file") {
					continue
				}
				keep := len(dupNames) == 0
				for name := range dupNames {
					keep = keep || strings.Contains(l, string(filepath.Separator)+name+".log")
				}
				if len(dupNames) > 0 && (strings.Contains(l, "the file was rotated; reading the new one") || strings.Contains(l, "finished the file, which")) {
					keep = false // rotations as they go: what came after a kill matters
				}
				if keep && logs.Len() < 64<<10 {
					fmt.Fprintf(&logs, "run %d: %s\n", i, l)
				}
			}
		}
		for name, n := range dupNames {
			var at []string
			for ln, l := range strings.Split(readFileString(t, out), "\n") {
				if strings.HasPrefix(l, fmt.Sprintf("%s %08d ", name, n)) {
					at = append(at, strconv.Itoa(ln+1))
				}
			}
			var in []string
			names, _ := filepath.Glob(filepath.Join(folder, name+".log*"))
			for _, fn := range names {
				if b, err := os.ReadFile(fn); err == nil && strings.Contains(string(b), fmt.Sprintf("%s %08d ", name, n)) {
					in = append(in, filepath.Base(fn))
				}
			}
			fmt.Fprintf(&logs, "%s line %d is at sink lines %s, in %v\n", name, n, strings.Join(at, ", "), in)
		}
		if addr != "" {
			logs.WriteString(recordsOf(t, addr, "many", dupNames))
		}
		t.Fatalf("%s\nsource task logs:\n%s", strings.Join(problems, "\n"), logs.String())
	}
}

// recordsOf describes the records of topic holding the lines named in
// lines (a log's name and line number): where each is, and its headers.
func recordsOf(t testing.TB, addr, topic string, lines map[string]int) string {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err.Error()
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return err.Error()
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	var b strings.Builder
	for len(left) > 0 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if r.Offset+1 >= left[r.Partition] {
				delete(left, r.Partition)
			}
			for name, n := range lines {
				if !strings.HasPrefix(string(r.Value), fmt.Sprintf("%s %08d ", name, n)) {
					continue
				}
				fmt.Fprintf(&b, "%s line %d: %s/%d@%d", name, n, r.Topic, r.Partition, r.Offset)
				for _, h := range r.Headers {
					fmt.Fprintf(&b, " %s=%s", h.Key, h.Value)
				}
				b.WriteString("\n")
			}
		})
	}
	return b.String()
}

func readFileString(t testing.TB, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

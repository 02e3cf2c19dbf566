package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// csProc is one run of the real tributary binary.
type csProc struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{}
	err    error
}

func startCS(t testing.TB, dir string, args ...string) *csProc {
	t.Helper()
	p := &csProc{stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(tributaryBinary(t), append([]string{"connect-standalone"}, args...)...)
	p.cmd.Dir = dir
	p.cmd.Stderr = p.stderr
	p.cmd.Stdout = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // ends when the process does
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// stop sends SIGTERM and waits for the exit code.
func (p *csProc) stop(t testing.TB) int {
	t.Helper()
	// A signal that comes before the process has set up its handlers
	// (its first log line comes after) would end it as the default action
	// does, not cleanly.
	for deadline := time.Now().Add(30 * time.Second); p.stderr.String() == "" && time.Now().Before(deadline); {
		select {
		case <-p.done:
		case <-time.After(5 * time.Millisecond):
			continue
		}
		break
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("connect-standalone did not stop on SIGTERM:\n%s", p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *csProc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// waitExit waits for the process to end by itself.
func (p *csProc) waitExit(t testing.TB) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("connect-standalone did not exit:\n%s", p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

// csWaitFile polls until path holds want (failing early when it grows past
// it) or the process ends.
func csWaitFile(t testing.TB, p *csProc, path string, want []byte) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var got []byte
	for time.Now().Before(deadline) {
		got = sinkOutput(t, path)
		if bytes.Equal(got, want) {
			return
		}
		if len(got) > len(want) {
			break
		}
		if p != nil {
			select {
			case <-p.done:
				t.Fatalf("connect-standalone exited (%v):\n%s", p.err, p.stderr.String())
			default:
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	msg := ""
	if p != nil {
		msg = p.stderr.String()
	}
	t.Fatalf("%s: %d bytes, want %d\n%s\n%s", path, len(got), len(want), firstDiff(got, want), msg)
}

// sinkOutput is what a file sink wrote to path: its rotated files
// (path.NNNNNN, gzipped or not) in order, then the file itself.
func sinkOutput(t testing.TB, path string) []byte {
	t.Helper()
	names, _ := filepath.Glob(path + ".[0-9][0-9][0-9][0-9][0-9][0-9]*")
	slices.Sort(names)
	// A generation whose .gz is in place has it whole; its plain file is
	// about to go.
	names = slices.DeleteFunc(names, func(n string) bool {
		return strings.HasSuffix(n, ".tmp") || slices.Contains(names, n+".gz")
	})
	var out []byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			continue // removed meanwhile (compressed, or rotations undone)
		}
		if strings.HasSuffix(n, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				continue
			}
			if b, err = io.ReadAll(zr); err != nil {
				continue
			}
		}
		out = append(out, b...)
	}
	b, _ := os.ReadFile(path)
	return append(out, b...)
}

func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d: got %q, want %q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}

func csAppend(t testing.TB, path string, from, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "%08d 10.0.0.1 - - [12/Mar/2026:14:02:11 +0000] \"GET /x HTTP/1.1\" 200 %d\n", i, i)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeProps(t testing.TB, path string, kv ...string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(kv, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConnectStandaloneStockFiles runs Apache Kafka's own worker, source and
// sink files, unmodified, against kfake: the JsonConverter envelope goes to
// the topic and the plain lines to the sink file.
func TestConnectStandaloneStockFiles(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	stock, _ := filepath.Abs("../../testdata/kafka")
	in := filepath.Join(dir, "test.txt")
	want := csAppend(t, in, 0, 200)
	p := startCS(t, dir,
		"--override", "bootstrap.servers="+addr,
		"--override", "offset.storage.file.filename="+filepath.Join(dir, "connect.offsets"),
		"--override", "listeners=http://127.0.0.1:0",
		filepath.Join(stock, "connect-standalone.properties"),
		filepath.Join(stock, "connect-file-source.properties"),
		filepath.Join(stock, "connect-file-sink.properties"))
	out := filepath.Join(dir, "test.sink.txt")
	csWaitFile(t, p, out, want)
	want = append(want, csAppend(t, in, 200, 50)...)
	csWaitFile(t, p, out, want)

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("connect-test"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	fs := cl.PollFetches(ctx)
	recs := fs.Records()
	if len(recs) == 0 {
		t.Fatal("no records in connect-test")
	}
	wantFirst := `{"schema":{"type":"string","optional":false},"payload":"` + strings.SplitN(string(want), "\n", 2)[0] + `"}`
	wantFirst = strings.ReplaceAll(wantFirst, `"GET /x HTTP/1.1"`, `\"GET /x HTTP/1.1\"`)
	if string(recs[0].Value) != wantFirst {
		t.Fatalf("first record %s\nwant %s", recs[0].Value, wantFirst)
	}

	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM:\n%s", code, p.stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "connect.offsets"))
	if err != nil || !strings.Contains(string(b), `{"key":["local-file-source",{"filename":"test.txt"}],"value":{"position":`+strconv.Itoa(len(want))) {
		t.Fatalf("offsets file after shutdown: %s %v", b, err)
	}
	log := p.stderr.String()
	for _, s := range []string{"REST API listening", "connect-standalone running", "plugin.path", "stopped"} {
		if s == "plugin.path" {
			continue // the stock file leaves plugin.path commented out
		}
		if !strings.Contains(log, s) {
			t.Errorf("log lacks %q:\n%s", s, log)
		}
	}
}

// TestConnectStandaloneKill9 kills the worker with SIGKILL at random
// moments while lines are appended, several times, against an external
// cluster: every line reaches the sink file exactly once.
func TestConnectStandaloneKill9(t *testing.T) {
	addr := startKfake(t)
	testKill9(t, addr, nil, nil)
}

// TestConnectStandaloneKill9Rotating is the kill -9 scenario with a sink
// that rotates and compresses its file every 40 KB: the rotated files and
// the file together hold every line once.
func TestConnectStandaloneKill9Rotating(t *testing.T) {
	addr := startKfake(t)
	testKill9(t, addr, nil, []string{"file.rotate.bytes=40000", "file.rotate.compress=true"})
}

// testKill9 runs the kill -9 scenario; addr is the external cluster, or ""
// for the embedded default (whose broker dies with the worker).
func testKill9(t *testing.T, addr string, extraWorker, extraSink []string) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "access.log"), filepath.Join(dir, "out.txt")
	worker := []string{
		"offset.storage.file.filename=" + filepath.Join(dir, "connect.offsets"),
		"offset.flush.interval.ms=1000",
		"listeners=http://127.0.0.1:0",
	}
	if addr != "" {
		worker = append(worker, "bootstrap.servers="+addr)
	}
	worker = append(worker, extraWorker...)
	wf := writeProps(t, filepath.Join(dir, "worker.properties"), worker...)
	sf := writeProps(t, filepath.Join(dir, "source.properties"), "name=src", "connector.class=FileStreamSource", "file="+in, "topic=k9")
	kf := writeProps(t, filepath.Join(dir, "sink.properties"), append([]string{"name=sink", "connector.class=FileStreamSink", "file=" + out, "topics=k9"}, extraSink...)...)

	var mu sync.Mutex
	var want []byte
	next := 0
	want = append(want, csAppend(t, in, 0, 500)...)
	next = 500
	stopWriting := make(chan struct{})
	writerDone := make(chan struct{})
	go func() { // appends 1000 lines/s until stopWriting
		defer close(writerDone)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopWriting:
				return
			case <-tick.C:
				mu.Lock()
				want = append(want, csAppend(t, in, next, 10)...)
				next += 10
				mu.Unlock()
			}
		}
	}()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var logs strings.Builder // of every run
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the runs before the last one:\n%s", logs.String())
		}
	})
	kills := 4
	for i := range kills {
		p := startCS(t, dir, wf, sf, kf)
		// Let it make progress: wait until the sink file grows, then a
		// random while longer.
		before := len(sinkOutput(t, out))
		deadline := time.Now().Add(60 * time.Second)
		for len(sinkOutput(t, out)) <= before {
			if time.Now().After(deadline) {
				t.Fatalf("run %d made no progress:\n%s", i, p.stderr.String())
			}
			select {
			case <-p.done:
				t.Fatalf("run %d exited:\n%s", i, p.stderr.String())
			default:
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		p.kill()
		fmt.Fprintf(&logs, "run %d:\n%s", i, p.stderr.String())
	}
	close(stopWriting)
	<-writerDone
	p := startCS(t, dir, wf, sf, kf)
	mu.Lock()
	final := append([]byte(nil), want...)
	mu.Unlock()
	csWaitFile(t, p, out, final)
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr.String())
	}
	logs.WriteString(p.stderr.String())
	if len(extraSink) > 0 {
		if n := strings.Count(logs.String(), "msg=\"the sink file was rotated to"); n < 2 {
			t.Fatalf("the sink rotated its file %d times, want several", n)
		}
	}
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// TestConnectStandaloneBadInput: each bad file gets a clear error naming
// the file and the key, and exit code 1.
func TestConnectStandaloneBadInput(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.log")
	os.WriteFile(in, []byte("x\n"), 0o644)
	offsets := filepath.Join(dir, "connect.offsets")
	good := []string{"bootstrap.servers=" + addr, "offset.storage.file.filename=" + offsets, "listeners=http://127.0.0.1:0"}
	wf := writeProps(t, filepath.Join(dir, "worker.properties"), good...)
	sf := writeProps(t, filepath.Join(dir, "source.properties"), "name=src", "connector.class=FileStreamSource", "file="+in, "topic=bad")
	kf := writeProps(t, filepath.Join(dir, "sink.properties"), "name=sink", "connector.class=FileStreamSink", "file="+filepath.Join(dir, "out.txt"), "topics=bad")
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, nil, 0o644)

	cases := []struct {
		name  string
		files func() []string
		want  []string
	}{
		{"malformed worker file", func() []string {
			return []string{writeProps(t, filepath.Join(dir, "w1.properties"), "offset.storage.file.filename=\\u00zz"), sf}
		}, []string{"w1.properties: malformed properties"}},
		{"bad worker key", func() []string {
			return []string{writeProps(t, filepath.Join(dir, "w2.properties"), append(good, "offset.flush.interval.ms=soon")...), sf}
		}, []string{`w2.properties: offset.flush.interval.ms: "soon" is not a number`}},
		{"missing worker key", func() []string {
			return []string{writeProps(t, filepath.Join(dir, "w3.properties"), "bootstrap.servers="+addr), sf}
		}, []string{"w3.properties: offset.storage.file.filename: missing required key"}},
		{"bad connector key", func() []string {
			return []string{wf, writeProps(t, filepath.Join(dir, "c1.properties"), "name=x", "connector.class=FileStreamSource", "topic=t", "batch.size=0")}
		}, []string{`c1.properties: batch.size: "0" must be at least 1`}},
		{"unknown class", func() []string {
			return []string{wf, writeProps(t, filepath.Join(dir, "c2.properties"), "name=x", "connector.class=com.example.Nope")}
		}, []string{`c2.properties: connector.class: "com.example.Nope" is not a known connector class`}},
		{"duplicate name", func() []string {
			return []string{wf, sf, writeProps(t, filepath.Join(dir, "c3.properties"), "name=src", "connector.class=FileStreamSink", "topics=t")}
		}, []string{`c3.properties: name: "src" is already the name of the connector in`}},
		{"missing source folder", func() []string {
			return []string{wf, writeProps(t, filepath.Join(dir, "c4.properties"), "name=x", "connector.class=FileStreamSource", "topic=t", "file="+filepath.Join(dir, "nodir", "a.log"))}
		}, []string{"c4.properties: file: ", "which does not exist"}},
		{"unwritable sink path", func() []string {
			return []string{wf, writeProps(t, filepath.Join(dir, "c5.properties"), "name=x", "connector.class=FileStreamSink", "topics=t", "file="+filepath.Join(plain, "out.txt"))}
		}, []string{"c5.properties: file: ", "which is not a folder"}},
		{"sink path is a folder", func() []string {
			return []string{wf, writeProps(t, filepath.Join(dir, "c6.properties"), "name=x", "connector.class=FileStreamSink", "topics=t", "file="+dir)}
		}, []string{"c6.properties: file: ", "cannot be opened for writing"}},
		{"non-numeric offset", func() []string {
			// The source's task fails at start, and with nothing else to
			// run the worker gives up (beside a running sink it would go on).
			os.WriteFile(offsets, []byte(`[{"key":["src",{"filename":"`+in+`"}],"value":{"position":"12x"}}]`), 0o644)
			return []string{wf, sf}
		}, []string{"offsets file " + offsets + `: key ["src",{"filename":"` + in + `"}]: position "12x" is not a number`}},
		{"corrupt offsets file", func() []string {
			os.WriteFile(offsets, []byte(`[{"key":`), 0o644)
			return []string{wf, sf, kf}
		}, []string{"offsets file " + offsets + ": not valid JSON"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(offsets)
			p := startCS(t, dir, tc.files()...)
			code := p.waitExit(t)
			log := p.stderr.String()
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", code, log)
			}
			for _, w := range tc.want {
				if !strings.Contains(log, w) {
					t.Errorf("output lacks %q:\n%s", w, log)
				}
			}
			if !regexp.MustCompile(`(?m)^Error: `).MatchString(log) {
				t.Errorf("no Error: line:\n%s", log)
			}
		})
	}
}

var brokerAddrRE = regexp.MustCompile(`--bootstrap-server (127\.0\.0\.1:\d+)`)

// embeddedAddr waits for the bundled broker's address in the log.
func embeddedAddr(t testing.TB, p *csProc) string {
	t.Helper()
	return loggedAddr(t, p, brokerAddrRE, "broker address")
}

// loggedAddr waits for the worker to log a line matching re and returns
// its first group; what names it in the failure.
func loggedAddr(t testing.TB, p *csProc, re *regexp.Regexp, what string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(p.stderr.String()); m != nil {
			return m[1]
		}
		select {
		case <-p.done:
			t.Fatalf("connect-standalone exited:\n%s", p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no %s logged:\n%s", what, p.stderr.String())
	return ""
}

// walkthroughDir copies the repository's walkthrough files, unchanged, into
// a folder laid out like the repository.
func walkthroughDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "testdata", "output"), 0o755)
	for _, f := range []string{"connect-standalone.properties", "connect-file-source.properties", "connect-file-sink.properties", "access_log_small.txt"} {
		b, err := os.ReadFile(filepath.Join("../../testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "testdata", f), b, 0o644)
	}
	return dir
}

// workingCopy makes the walkthrough's working access log as the first run
// would (a copy of the sample, file.seed) before anything runs, for tests
// that append to it from the start; it returns its path and contents.
func workingCopy(t testing.TB, dir string) (string, []byte) {
	t.Helper()
	sample, err := os.ReadFile(filepath.Join(dir, "testdata", "access_log_small.txt"))
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "testdata", "output", "access_log.txt")
	if err := os.WriteFile(in, sample, 0o644); err != nil {
		t.Fatal(err)
	}
	return in, sample
}

// embeddedArgs runs the walkthrough files with free ports.
var embeddedArgs = []string{
	"--override", "broker.listeners=PLAINTEXT://127.0.0.1:0",
	"--override", "listeners=http://127.0.0.1:0",
	"testdata/connect-standalone.properties",
	"testdata/connect-file-source.properties",
	"testdata/connect-file-sink.properties",
}

// TestConnectStandaloneWalkthrough is the seed walkthrough on the embedded
// default: the access log arrives whole and in order in the sink file and
// in a console consumer, and so do lines appended afterwards.
func TestConnectStandaloneWalkthrough(t *testing.T) {
	dir := walkthroughDir(t)
	p := startCS(t, dir, embeddedArgs...)
	addr := embeddedAddr(t, p)
	// The first run makes the working copy (file.seed) and ships it.
	in := filepath.Join(dir, "testdata", "output", "access_log.txt")
	out := filepath.Join(dir, "testdata", "output", "logout.txt")
	want, _ := os.ReadFile(filepath.Join(dir, "testdata", "access_log_small.txt"))
	csWaitFile(t, p, out, want)
	if got, _ := os.ReadFile(in); !bytes.Equal(got, want) {
		t.Fatalf("the working copy %s is not the sample", in)
	}

	cctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res := runToolCtx(t, cctx, "", "console-consumer", "--bootstrap-server", addr, "--topic", "log-test", "--from-beginning", "--max-messages", strconv.Itoa(bytes.Count(want, []byte("\n"))))
	if res.code != 0 || res.stdout != string(want) {
		t.Fatalf("console consumer: %s", res)
	}

	more := csAppend(t, in, 0, 25)
	want = append(want, more...)
	csWaitFile(t, p, out, want)
	res = runToolCtx(t, cctx, "", "console-consumer", "--bootstrap-server", addr, "--topic", "log-test", "--from-beginning", "--max-messages", strconv.Itoa(bytes.Count(want, []byte("\n"))))
	if res.code != 0 || res.stdout != string(want) {
		t.Fatalf("console consumer after appending: %s", res)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "testdata", "output", "tributary-logs")); err != nil {
		t.Fatalf("broker data not beside the offsets file: %v", err)
	}
	if log := p.stderr.String(); !strings.Contains(log, "broker stopped") || strings.Index(log, "broker stopped") < strings.Index(log, "stopping:") {
		t.Fatalf("the broker did not stop last:\n%s", log)
	}
}

// TestConnectStandaloneRestartEmbedded stops the worker (and its broker)
// cleanly mid-stream and starts it again, twice: nothing lost or doubled.
func TestConnectStandaloneRestartEmbedded(t *testing.T) {
	dir := walkthroughDir(t)
	in, want := workingCopy(t, dir)
	out := filepath.Join(dir, "testdata", "output", "logout.txt")
	for round := range 3 {
		p := startCS(t, dir, embeddedArgs...)
		embeddedAddr(t, p)
		for i := range 5 {
			want = append(want, csAppend(t, in, round*1000+i*100, 100)...)
		}
		if round == 2 {
			csWaitFile(t, p, out, want)
		}
		if code := p.stop(t); code != 0 {
			t.Fatalf("round %d: exit %d:\n%s", round, code, p.stderr.String())
		}
	}
	p := startCS(t, dir, embeddedArgs...)
	csWaitFile(t, p, out, want)
	p.stop(t)
}

// TestConnectStandaloneKill9Embedded kills the worker, and so its bundled
// broker, at random moments while lines are appended.
func TestConnectStandaloneKill9Embedded(t *testing.T) {
	testKill9(t, "", []string{"broker.listeners=PLAINTEXT://127.0.0.1:0"}, nil)
}

// TestConnectStandaloneRotationEmbedded rotates the source file every
// second, by rename+create, delete+recreate and copytruncate in turn, while
// 1000 lines a second are appended, through the real binary and its bundled
// broker. Nothing arrives twice or out of order; only copytruncate may lose
// lines, and only those written around its copy and truncation.
func TestConnectStandaloneRotationEmbedded(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "access.log"), filepath.Join(dir, "out.txt")
	wf := writeProps(t, filepath.Join(dir, "worker.properties"),
		"offset.storage.file.filename="+filepath.Join(dir, "connect.offsets"),
		"listeners=http://127.0.0.1:0", "broker.listeners=PLAINTEXT://127.0.0.1:0")
	sf := writeProps(t, filepath.Join(dir, "source.properties"), "name=src", "connector.class=FileStreamSource", "file="+in, "topic=rot")
	kf := writeProps(t, filepath.Join(dir, "sink.properties"), "name=sink", "connector.class=FileStreamSink", "file="+out, "topics=rot")

	f, err := os.OpenFile(in, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	next := 0
	written := []time.Time{}
	var windows [][2]time.Time
	write := func(n int) {
		mu.Lock()
		defer mu.Unlock()
		var b bytes.Buffer
		for range n {
			fmt.Fprintf(&b, "%08d rotated line\n", next)
			next++
			written = append(written, time.Now())
		}
		f.Write(b.Bytes())
	}
	reopen := func(remove bool, gen int) {
		if remove {
			os.Remove(in)
		} else {
			os.Rename(in, in+"."+strconv.Itoa(gen))
		}
		write(5) // still to the old file, as until a writer reopens
		mu.Lock()
		f.Close()
		f, _ = os.OpenFile(in, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		mu.Unlock()
	}
	copyTruncate := func(gen int) {
		start := time.Now()
		b, _ := os.ReadFile(in)
		os.WriteFile(in+"."+strconv.Itoa(gen), b, 0o644)
		os.Truncate(in, 0)
		mu.Lock()
		windows = append(windows, [2]time.Time{start, time.Now()})
		mu.Unlock()
	}

	write(100)
	p := startCS(t, dir, wf, sf, kf)
	embeddedAddr(t, p)
	tick := time.NewTicker(10 * time.Millisecond)
	for step := 1; step <= 400; step++ {
		<-tick.C
		write(10)
		if step%100 == 0 && step < 400 {
			switch step / 100 {
			case 1:
				reopen(false, 1)
			case 2:
				reopen(true, 2)
			case 3:
				copyTruncate(3)
			}
		}
	}
	tick.Stop()
	mu.Lock()
	f.Close()
	last := next - 1
	mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(out)
		if bytes.Contains(b, []byte(fmt.Sprintf("%08d ", last))) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("line %d never arrived:\n%s", last, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	b, _ := os.ReadFile(out)
	prev, missing := -1, 0
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		n, err := strconv.Atoi(line[:8])
		if err != nil || n <= prev {
			t.Fatalf("line %q after %d: repeated or out of order", line, prev)
		}
		for m := prev + 1; m < n; m++ {
			ok := false
			for _, w := range windows {
				ok = ok || (!written[m].Before(w[0].Add(-250*time.Millisecond)) && !written[m].After(w[1]))
			}
			if !ok {
				t.Fatalf("line %d lost outside the copytruncate window", m)
			}
			missing++
		}
		prev = n
	}
	t.Logf("%d lines written, %d lost to copytruncate", last+1, missing)
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// TestConnectStandaloneConsoleFiles runs Kafka's stock console source and
// sink files: lines on standard input come back on standard output.
func TestConnectStandaloneConsoleFiles(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	stock, _ := filepath.Abs("../../testdata/kafka")
	cmd := exec.Command(tributaryBinary(t), "connect-standalone",
		"--override", "bootstrap.servers="+addr,
		"--override", "offset.storage.file.filename="+filepath.Join(dir, "connect.offsets"),
		"--override", "listeners=http://127.0.0.1:0",
		filepath.Join(stock, "connect-standalone.properties"),
		filepath.Join(stock, "connect-console-source.properties"),
		filepath.Join(stock, "connect-console-sink.properties"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	io := "typed on stdin\nsecond line\n"
	stdin.Write([]byte(io))
	deadline := time.Now().Add(60 * time.Second)
	for stdout.String() != io {
		if time.Now().After(deadline) || len(stdout.String()) > len(io) {
			t.Fatalf("stdout %q, want %q\n%s", stdout.String(), io, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
}

// TestConnectStandaloneTypos: mistyped keys in the worker file (its
// bundled broker's broker.* keys too) and in a connector file are each a
// WARN naming the file and the key meant; the worker still starts.
func TestConnectStandaloneTypos(t *testing.T) {
	dir := walkthroughDir(t)
	for file, line := range map[string]string{
		"connect-standalone.properties":  "offset.flush.intervall.ms=1000\nbroker.num.partition=3\n",
		"connect-file-source.properties": "batch.sise=10\n",
	} {
		f, err := os.OpenFile(filepath.Join(dir, "testdata", file), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(line)
		f.Close()
	}
	p := startCS(t, dir, embeddedArgs...)
	loggedAddr(t, p, regexp.MustCompile(`msg="connect-standalone (running)"`), "start")
	p.stop(t)
	out := p.stderr.String()
	if strings.Contains(out, "not shut down cleanly") {
		t.Errorf("a new log dir was taken for one not shut down cleanly:\n%s", out)
	}
	for _, want := range []string{
		`level=WARN msg="The configuration 'offset.flush.intervall.ms' was supplied but isn't a known config; did you mean 'offset.flush.interval.ms'?" file=testdata/connect-standalone.properties`,
		`level=WARN msg="The configuration 'broker.num.partition' was supplied but isn't a known config; did you mean 'broker.num.partitions'?" file=testdata/connect-standalone.properties`,
		`msg="The configuration 'batch.sise' was supplied but isn't a known config; did you mean 'batch.size'?" connector=local-file-source file=testdata/connect-file-source.properties`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks\n%s\nlog:\n%s", want, out)
		}
	}
}

// TestConnectStandaloneFailedTaskContained: a connector whose task cannot
// start (its file's folder does not exist) is FAILED, with its cause, in
// status; the worker and the other connectors keep running, and the
// failed task runs once the cause is fixed and it is restarted over REST.
func TestConnectStandaloneFailedTaskContained(t *testing.T) {
	dir := walkthroughDir(t)
	missing := filepath.Join(dir, "later", "b.log")
	bad := writeProps(t, filepath.Join(dir, "testdata", "bad-source.properties"),
		"name=bad-source", "connector.class=FileStreamSource", "topic=bad-lines", "file="+missing)
	p := startCS(t, dir, append(embeddedArgs, bad)...)
	rest := loggedAddr(t, p, regexp.MustCompile(`msg="REST API listening" url=(\S+)`), "REST address")

	want, _ := os.ReadFile(filepath.Join(dir, "testdata", "access_log_small.txt"))
	csWaitFile(t, p, filepath.Join(dir, "testdata", "output", "logout.txt"), want)

	status := func() (state, trace string) {
		resp, err := http.Get(rest + "/connectors/bad-source/status")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st struct {
			Tasks []struct {
				State string `json:"state"`
				Trace string `json:"trace"`
			} `json:"tasks"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || len(st.Tasks) != 1 {
			t.Fatalf("status of bad-source: %v %+v", err, st)
		}
		return st.Tasks[0].State, st.Tasks[0].Trace
	}
	if state, trace := status(); state != "FAILED" || !strings.Contains(trace, "which does not exist") {
		t.Fatalf("bad-source task: %s\n%s", state, trace)
	}
	if strings.Count(p.stderr.String(), `msg="task failed"`) != 1 {
		t.Errorf("the task's failure is not logged exactly once:\n%s", p.stderr.String())
	}

	if err := os.MkdirAll(filepath.Dir(missing), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(missing, []byte("now here\n"), 0o644)
	resp, err := http.Post(rest+"/connectors/bad-source/restart?includeTasks=true&onlyFailed=true", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(30 * time.Second)
	for state, _ := status(); state != "RUNNING"; state, _ = status() {
		if time.Now().After(deadline) {
			t.Fatalf("restarted task is %s:\n%s", state, p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond) // polling the status, not a synchronisation
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr.String())
	}
}

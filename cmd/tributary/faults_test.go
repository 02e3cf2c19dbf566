package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs with the given options on dir, when the test
// runs as root and mounting is allowed, and unmounts it at the end.
func mountTmpfs(t testing.TB, dir, opts string) bool {
	t.Helper()
	if os.Getuid() != 0 {
		return false
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Logf("mount tmpfs: %v %s", err, out)
		return false
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return true
}

func remount(t testing.TB, dir, opts string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+opts, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s %s: %v %s", dir, opts, err, out)
	}
}

var restURLRE = regexp.MustCompile(`REST API listening.*url=(http://127\.0\.0\.1:\d+)`)

// restURL waits for the worker's REST address in its log.
func restURL(t testing.TB, p *csProc) string {
	t.Helper()
	return loggedAddr(t, p, restURLRE, "REST address")
}

// committedSink returns the sum of the sink group's committed offsets, as
// the REST API reports them.
func committedSink(t testing.TB, base string) int64 {
	t.Helper()
	resp, err := http.Get(base + "/connectors/sink/offsets")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var o struct {
		Offsets []struct {
			Offset struct {
				KafkaOffset int64 `json:"kafka_offset"`
			} `json:"offset"`
		} `json:"offsets"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil || resp.StatusCode != 200 {
		t.Fatalf("sink offsets: %d %v", resp.StatusCode, err)
	}
	var sum int64
	for _, e := range o.Offsets {
		sum += e.Offset.KafkaOffset
	}
	return sum
}

func lineCount(path string) int64 {
	b, _ := os.ReadFile(path)
	return int64(bytes.Count(b, []byte("\n")))
}

// waitLog polls the process's log for every string of want.
func waitLog(t testing.TB, p *csProc, want ...string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		log := p.stderr.String()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(log, w)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log lacks %q:\n%s", want, log)
		}
		select {
		case <-p.done:
			t.Fatalf("connect-standalone exited:\n%s", log)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// checkBackPressure watches, for a while, that the sink commits no record
// beyond those in its file.
func checkBackPressure(t testing.TB, p *csProc, base, out string, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); {
		c := committedSink(t, base)
		if l := lineCount(out); c > l {
			t.Fatalf("committed %d records, the file holds %d lines", c, l)
		}
		select {
		case <-p.done:
			t.Fatalf("connect-standalone exited:\n%s", p.stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func faultWorker(t testing.TB, dir, in, out string, worker ...string) (wf, sf, kf string) {
	worker = append([]string{
		"offset.storage.file.filename=" + filepath.Join(dir, "connect.offsets"),
		"offset.flush.interval.ms=200",
		"listeners=http://127.0.0.1:0",
		"broker.listeners=PLAINTEXT://127.0.0.1:0",
	}, worker...)
	wf = writeProps(t, filepath.Join(dir, "worker.properties"), worker...)
	sf = writeProps(t, filepath.Join(dir, "source.properties"), "name=src", "connector.class=FileStreamSource", "file="+in, "topic=faults")
	kf = writeProps(t, filepath.Join(dir, "sink.properties"), "name=sink", "connector.class=FileStreamSink", "file="+out, "topics=faults")
	return wf, sf, kf
}

// TestFaultSinkDiskFull fills the sink file's file system (a 1 MiB tmpfs):
// the worker logs an error naming the file, commits nothing past what is
// written, and once space is freed delivers every line, once. Without
// root the filesink package's TestDiskFull covers this with a hook.
func TestFaultSinkDiskFull(t *testing.T) {
	dir := t.TempDir()
	fsDir := filepath.Join(dir, "sinkfs")
	os.Mkdir(fsDir, 0o755)
	if !mountTmpfs(t, fsDir, "size=1m") {
		t.Skip("needs root and tmpfs; connectors/filesink TestDiskFull covers a full disk with a hook")
	}
	in, out := filepath.Join(dir, "access.log"), filepath.Join(fsDir, "out.txt")
	filler := filepath.Join(fsDir, "filler")
	if err := os.WriteFile(filler, make([]byte, 1<<20-48<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	wf, sf, kf := faultWorker(t, dir, in, out)
	want := csAppend(t, in, 0, 300)
	p := startCS(t, dir, wf, sf, kf)
	base := restURL(t, p)
	csWaitFile(t, p, out, want)
	want = append(want, csAppend(t, in, 300, 1500)...) // about 130 KB more than fits
	waitLog(t, p, "no space left on device", out)
	checkBackPressure(t, p, base, out, 2*time.Second)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	csWaitFile(t, p, out, want)
	waitLog(t, p, "writing to the sink file again")
	want = append(want, csAppend(t, in, 1800, 100)...)
	csWaitFile(t, p, out, want)
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr.String())
	}
}

// TestFaultSinkReadOnly: a sink file in a read-only folder is a clear error
// at start, naming the file; once the folder is writable the worker starts
// and delivers everything, and a restart repeats nothing. As root (where
// permissions do not bite) the folder is a tmpfs mounted read-only. (A file
// system cannot be made read-only under a writer that holds a file open,
// so the running case is covered by the filesink package's tests.)
func TestFaultSinkReadOnly(t *testing.T) {
	dir := t.TempDir()
	roDir := filepath.Join(dir, "ro")
	os.Mkdir(roDir, 0o755)
	in, out := filepath.Join(dir, "access.log"), filepath.Join(roDir, "out.txt")
	wf, sf, kf := faultWorker(t, dir, in, out)
	want := csAppend(t, in, 0, 200)

	mounted := mountTmpfs(t, roDir, "size=4m")
	readOnly := func(on bool) {
		switch {
		case mounted && on:
			remount(t, roDir, "ro")
		case mounted:
			remount(t, roDir, "rw")
		case on:
			os.Chmod(roDir, 0o555)
		default:
			os.Chmod(roDir, 0o755)
		}
	}
	if !mounted && os.Getuid() == 0 {
		// Permissions do not bite as root, and there is no tmpfs.
		t.Skip("as root, permissions do not bite and tmpfs cannot be mounted here")
	}
	readOnly(true)
	// The sink's task fails at start, naming the file; the worker keeps
	// the source running.
	p := startCS(t, dir, wf, sf, kf)
	loggedAddr(t, p, regexp.MustCompile(`(sink\.properties: file: \\?"`+regexp.QuoteMeta(out)+`\\?" cannot be opened for writing)`), "the sink's error")
	loggedAddr(t, p, regexp.MustCompile(`msg="(connect-standalone running)"`), "the worker running")
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr.String())
	}
	readOnly(false)
	p = startCS(t, dir, wf, sf, kf)
	csWaitFile(t, p, out, want)
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr.String())
	}
	p = startCS(t, dir, wf, sf, kf)
	want = append(want, csAppend(t, in, 200, 20)...)
	csWaitFile(t, p, out, want)
	p.stop(t)
}

// TestFaultSourceFile: under a running worker the source file's folder is
// removed, then the file is replaced by a folder, then (not as root) by a
// file that cannot be read. Each time the worker
// logs what is wrong, naming the path, keeps running, and delivers the
// lines of the file that comes back; nothing is lost or doubled.
func TestFaultSourceFile(t *testing.T) {
	dir := t.TempDir()
	srcDir := filepath.Join(dir, "logs")
	os.Mkdir(srcDir, 0o755)
	in, out := filepath.Join(srcDir, "access.log"), filepath.Join(dir, "out.txt")
	wf, sf, kf := faultWorker(t, dir, in, out)
	want := csAppend(t, in, 0, 200)
	p := startCS(t, dir, wf, sf, kf)
	csWaitFile(t, p, out, want)

	if err := os.RemoveAll(srcDir); err != nil {
		t.Fatal(err)
	}
	waitLog(t, p, "the file's folder "+srcDir+" does not exist")
	os.Mkdir(srcDir, 0o755)
	want = append(want, csAppend(t, in, 200, 100)...)
	csWaitFile(t, p, out, want)

	want = append(want, csAppend(t, in, 300, 50)...)
	os.Rename(in, in+".1")
	os.Mkdir(in, 0o755)
	csWaitFile(t, p, out, want) // the renamed file is read to its end
	waitLog(t, p, in+" is a folder, not a file")
	os.Remove(in)
	want = append(want, csAppend(t, in, 350, 100)...)
	csWaitFile(t, p, out, want)

	// A new file that cannot be read (permissions do not bite as root;
	// connectors/filesource TestPermissionDenied covers it with a hook).
	if os.Getuid() != 0 {
		os.Rename(in, in+".2")
		want = append(want, csAppend(t, in, 450, 20)...)
		os.Chmod(in, 0)
		waitLog(t, p, "cannot open "+in+": permission denied")
		os.Chmod(in, 0o644)
		want = append(want, csAppend(t, in, 470, 20)...)
		csWaitFile(t, p, out, want)
	}

	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr.String())
	}
	if strings.Contains(p.stderr.String(), "task failed") {
		t.Fatalf("a task failed:\n%s", p.stderr.String())
	}
}

// extBroker is a `tributary broker` child process on a fixed port and
// folder, so that it can be stopped and started again as the same broker.
type extBroker struct {
	t     testing.TB
	props string
	addr  string
	p     *csProc
}

func newExtBroker(t testing.TB, dir string) *extBroker {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	props := writeProps(t, filepath.Join(dir, "server.properties"),
		"node.id=1", "listeners=PLAINTEXT://"+addr, "log.dirs="+filepath.Join(dir, "kafka-logs"),
		"num.partitions=1", "group.initial.rebalance.delay.ms=0")
	return &extBroker{t: t, props: props, addr: addr}
}

func (b *extBroker) start() {
	b.t.Helper()
	p := &csProc{stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(tributaryBinary(b.t), "broker", b.props)
	p.cmd.Stdout, p.cmd.Stderr = p.stderr, p.stderr
	if err := p.cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	go func() { // ends when the process does
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	b.t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	b.p = p
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", b.addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("broker not listening on %s:\n%s", b.addr, p.stderr.String())
		}
		select {
		case <-p.done:
			b.t.Fatalf("broker exited:\n%s", p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestFaultBrokerUnavailable stops the external broker (SIGKILL) under a
// running worker for a few seconds (30 with TRIBUTARY_LONG=1) while lines
// are appended, then starts it again on the same port and data: the worker
// keeps running, retries, and then delivers every line exactly once.
func TestFaultBrokerUnavailable(t *testing.T) {
	outage := 4 * time.Second
	if longTests() {
		outage = 30 * time.Second
	}
	dir := t.TempDir()
	b := newExtBroker(t, dir)
	b.start()
	in, out := filepath.Join(dir, "access.log"), filepath.Join(dir, "out.txt")
	wf, sf, kf := faultWorker(t, dir, in, out, "bootstrap.servers="+b.addr)
	want := csAppend(t, in, 0, 300)
	p := startCS(t, dir, wf, sf, kf)
	csWaitFile(t, p, out, want)

	b.p.kill()
	start := time.Now()
	next := 300
	for time.Since(start) < outage {
		want = append(want, csAppend(t, in, next, 50)...)
		next += 50
		select {
		case <-p.done:
			t.Fatalf("the worker exited while the broker was down:\n%s", p.stderr.String())
		case <-time.After(100 * time.Millisecond): // the writer's pace
		}
	}
	b.start()
	t.Logf("broker down for %v; %d lines appended meanwhile", time.Since(start).Round(time.Millisecond), next-300)
	want = append(want, csAppend(t, in, next, 100)...)
	csWaitFile(t, p, out, want)
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr.String())
	}
	// A restart finds nothing to repeat.
	p = startCS(t, dir, wf, sf, kf)
	want = append(want, csAppend(t, in, next+100, 10)...)
	csWaitFile(t, p, out, want)
	p.stop(t)
	if log := p.stderr.String(); strings.Contains(log, "task failed") {
		t.Fatalf("a task failed:\n%s", log)
	}
}

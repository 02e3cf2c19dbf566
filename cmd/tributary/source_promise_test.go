package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// promiseFiles writes a worker file on the bundled broker with the given
// extra worker keys, a file source and a file sink, in dir.
func promiseFiles(t *testing.T, dir string, worker ...string) (in, out string, args []string) {
	t.Helper()
	in, out = filepath.Join(dir, "access.log"), filepath.Join(dir, "out.txt")
	wf := writeProps(t, filepath.Join(dir, "worker.properties"), append([]string{
		"offset.storage.file.filename=" + filepath.Join(dir, "connect.offsets"),
		"offset.flush.interval.ms=60000",
		"listeners=http://127.0.0.1:0", "broker.listeners=PLAINTEXT://127.0.0.1:0",
		"broker.log.dirs=" + filepath.Join(dir, "kafka-logs"),
	}, worker...)...)
	sf := writeProps(t, filepath.Join(dir, "source.properties"), "name=src", "connector.class=FileStreamSource", "file="+in, "topic=promise")
	kf := writeProps(t, filepath.Join(dir, "sink.properties"), "name=sink", "connector.class=FileStreamSink", "file="+out, "topics=promise")
	return in, out, []string{wf, sf, kf}
}

// TestLongLinesEmbedded: with default settings on the bundled broker, a
// line of 1,000,100 bytes and one of 20 KB reach the sink whole, and a line
// of 2.5 MiB arrives as pieces of max.line.bytes (line.overflow=split),
// between the short lines, in order. Kafka's habit producer.batch.size=16384
// is a batching target, not a cap on a line.
func TestLongLinesEmbedded(t *testing.T) {
	dir := t.TempDir()
	in, out, args := promiseFiles(t, dir, "producer.batch.size=16384")
	long := bytes.Repeat([]byte("L"), 1_000_100)
	mid := bytes.Repeat([]byte("m"), 20_000)
	huge := bytes.Repeat([]byte("H"), 5<<19) // 2.5 MiB
	var src bytes.Buffer
	for _, l := range [][]byte{[]byte("first"), mid, long, huge, []byte("third"), []byte("fourth")} {
		src.Write(l)
		src.WriteByte('\n')
	}
	if err := os.WriteFile(in, src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	for _, l := range [][]byte{[]byte("first"), mid, long, huge[:1<<20], huge[1<<20 : 2<<20], huge[2<<20:], []byte("third"), []byte("fourth")} {
		want.Write(l)
		want.WriteByte('\n')
	}
	p := startCS(t, dir, args...)
	csWaitFile(t, p, out, want.Bytes())
	base := restURL(t, p)
	var st struct {
		Tasks []struct {
			State    string `json:"state"`
			Progress struct {
				Oversized struct {
					Split int `json:"split"`
				} `json:"oversized"`
			} `json:"progress"`
		} `json:"tasks"`
	}
	getJSON(t, base+"/connectors/src/status", &st)
	if len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" || st.Tasks[0].Progress.Oversized.Split != 1 {
		t.Errorf("source status %+v, want RUNNING with one line split", st)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr.String())
	}
	if log := p.stderr.String(); strings.Count(log, "splitting a line longer than max.line.bytes") != 1 {
		t.Errorf("want one warning about the split line:\n%s", log)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
}

// TestRecreatedSameHeaderEmbedded: a log with a header line is shipped, the
// worker stopped, the file deleted and written anew with the same header
// and 30 new lines, which on ext4 gets the same inode. The next run reads
// it as a new file: the header and all 30 lines arrive, and the log says
// why the file was taken as new.
func TestRecreatedSameHeaderEmbedded(t *testing.T) {
	dir := t.TempDir()
	in, out, args := promiseFiles(t, dir)
	const header = "#Fields: date time c-ip cs-method cs-uri-stem sc-status\n"
	lines := func(day, n int) string {
		var b strings.Builder
		b.WriteString(header)
		for i := range n {
			fmt.Fprintf(&b, "2026-12-%02d 10:00:%02d 10.0.0.%d GET /page/%d 200\n", day, i%60, i%250, i)
		}
		return b.String()
	}
	first := lines(1, 20)
	os.WriteFile(in, []byte(first), 0o644)
	p := startCS(t, dir, args...)
	csWaitFile(t, p, out, []byte(first))
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr.String())
	}
	ino := func() uint64 {
		fi, err := os.Stat(in)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	old := ino()
	second := lines(2, 30)
	for try := 0; ; try++ {
		os.Remove(in)
		os.WriteFile(in, []byte(second), 0o644)
		if ino() == old {
			break
		}
		if try == 20 {
			t.Skip("the file system does not reuse inodes at once")
		}
	}
	p = startCS(t, dir, args...)
	csWaitFile(t, p, out, []byte(first+second))
	waitLog(t, p, "taking the file as a new one")
	p.stop(t)
}

// TestRefusedRecordFailsAtOnce: a line too large for the producer's limit
// (producer.max.request.size) in the middle of a batch. The lines before it
// arrive; the task is FAILED at once, and one ERROR names the file, the
// line's position and the cause; nothing after it is sent. With the limit
// raised, a restart resumes at that line: everything arrives once.
func TestRefusedRecordFailsAtOnce(t *testing.T) {
	dir := t.TempDir()
	in, out, args := promiseFiles(t, dir, "producer.max.request.size=4096")
	var before, after bytes.Buffer
	for i := range 10 {
		fmt.Fprintf(&before, "before %d\n", i)
		fmt.Fprintf(&after, "after %d\n", i)
	}
	big := strings.Repeat("B", 6000) + "\n"
	os.WriteFile(in, []byte(before.String()+big+after.String()), 0o644)
	p := startCS(t, dir, args...)
	csWaitFile(t, p, out, before.Bytes())
	base := restURL(t, p)
	trace := waitSourceFailed(t, p, base)
	wantPos := fmt.Sprintf("position %d of", before.Len())
	if !strings.Contains(trace, wantPos) || !strings.Contains(trace, in) {
		t.Errorf("trace %q should name %s and %q", trace, in, wantPos)
	}
	waitLog(t, p, "level=ERROR", wantPos,
		// Said at start, before any line came.
		"records to this topic are limited to fewer bytes than the connector may send (producer.max.request.size is 4096)")
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr.String())
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, before.Bytes()) {
		t.Fatalf("sink after the failure: %q", got)
	}

	// The cause fixed (the limit raised), a restart resumes at the line.
	writeProps(t, args[0], strings.ReplaceAll(readFile(t, args[0]), "producer.max.request.size=4096", "producer.max.request.size=1048576"))
	p = startCS(t, dir, args...)
	csWaitFile(t, p, out, []byte(before.String()+big+after.String()))
	p.stop(t)
}

// waitSourceFailed polls the source connector's status until its task is
// FAILED and returns the task's trace.
func waitSourceFailed(t *testing.T, p *csProc, base string) string {
	t.Helper()
	var st struct {
		Tasks []struct {
			State string `json:"state"`
			Trace string `json:"trace"`
		} `json:"tasks"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		getJSON(t, base+"/connectors/src/status", &st)
		if len(st.Tasks) == 1 && st.Tasks[0].State == "FAILED" {
			return st.Tasks[0].Trace
		}
		if time.Now().After(deadline) {
			t.Fatalf("source status %+v, want FAILED\n%s", st, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

// TestBrokerRefusesRecordMidBatch: the topic's max.message.bytes is lowered
// while the worker runs, so the broker (not the worker) refuses a line in
// the middle of what was read at once. The task is FAILED at once, naming
// the file and the position of the refused record; nothing after it is
// counted as sent. With the limit raised again, a REST restart of the task
// resumes there and the sink ends with every line once, in order.
func TestBrokerRefusesRecordMidBatch(t *testing.T) {
	dir := t.TempDir()
	in, out, args := promiseFiles(t, dir)
	os.WriteFile(in, []byte("start\n"), 0o644)
	p := startCS(t, dir, args...)
	csWaitFile(t, p, out, []byte("start\n"))
	base := restURL(t, p)
	cl, err := kgo.NewClient(kgo.SeedBrokers(embeddedAddr(t, p)))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	setLimit := func(v string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: &v}}, "promise")
		if err == nil {
			err = res[0].Err
		}
		if err != nil {
			t.Fatalf("max.message.bytes=%s: %v", v, err)
		}
	}
	setLimit("4096")

	var before, after bytes.Buffer
	for i := range 10 {
		fmt.Fprintf(&before, "before %d\n", i)
		fmt.Fprintf(&after, "after %d\n", i)
	}
	// Incompressible, so that the compressed batch is over the limit too.
	rnd := make([]byte, 4500)
	rand.Read(rnd)
	big := base64.StdEncoding.EncodeToString(rnd) + "\n"
	f, err := os.OpenFile(in, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(before.String() + big + after.String())
	f.Close()

	trace := waitSourceFailed(t, p, base)
	if !strings.Contains(trace, in) || !strings.Contains(trace, "MESSAGE_TOO_LARGE") {
		t.Errorf("trace %q should name %s and the broker's refusal", trace, in)
	}
	bigAt := len("start\n") + before.Len()
	var at int
	if _, err := fmt.Sscanf(trace[strings.Index(trace, "position ")+len("position "):], "%d", &at); err != nil || at < len("start\n") || at > bigAt {
		t.Errorf("trace %q names position %d, want one from %d to %d", trace, at, len("start\n"), bigAt)
	}
	if got, _ := os.ReadFile(out); !bytes.HasPrefix([]byte("start\n"+before.String()), got) {
		t.Fatalf("sink after the refusal holds more than the lines before it: %q", got)
	}

	setLimit("2097152")
	req, _ := http.NewRequest("POST", base+"/connectors/src/tasks/0/restart", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("task restart: %s", resp.Status)
	}
	csWaitFile(t, p, out, []byte("start\n"+before.String()+big+after.String()))
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr.String())
	}
}

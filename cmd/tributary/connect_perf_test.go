package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestConnectStandaloneLatency measures the time from appending a line to
// the source file to reading it in the sink file, at 1000 lines a second,
// through the real binary and its bundled broker. It is a measurement, not
// a check: run it with TRIBUTARY_LATENCY=1 (or =kfake, to use kfake as
// an external cluster instead), without -race:
//
//	TRIBUTARY_LATENCY=1 go test ./cmd/tributary -run TestConnectStandaloneLatency -v
func TestConnectStandaloneLatency(t *testing.T) {
	if os.Getenv("TRIBUTARY_LATENCY") == "" {
		t.Skip("set TRIBUTARY_LATENCY=1 to measure")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "access.log"), filepath.Join(dir, "out.txt")
	worker := []string{"offset.storage.file.filename=" + filepath.Join(dir, "connect.offsets"),
		"listeners=http://127.0.0.1:0", "broker.listeners=PLAINTEXT://127.0.0.1:0"}
	external := os.Getenv("TRIBUTARY_LATENCY") == "kfake"
	if external {
		worker = append(worker, "bootstrap.servers="+startKfake(t))
	}
	wf := writeProps(t, filepath.Join(dir, "worker.properties"), worker...)
	sf := writeProps(t, filepath.Join(dir, "source.properties"), "name=src", "connector.class=FileStreamSource", "file="+in, "topic=lat")
	kf := writeProps(t, filepath.Join(dir, "sink.properties"), "name=sink", "connector.class=FileStreamSink", "file="+out, "topics=lat")
	f, err := os.OpenFile(in, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := startCS(t, dir, wf, sf, kf)
	if !external {
		embeddedAddr(t, p)
	}
	// Warm up: one line through.
	f.WriteString("warmup\n")
	for fileSize(out) == 0 {
		time.Sleep(time.Millisecond)
	}

	const n = 10000 // 10 s at 1000 lines/s
	sent := make([]time.Time, n)
	done := make(chan struct{})
	go func() { // the writer: one line every millisecond
		defer close(done)
		start := time.Now()
		for i := range n {
			if d := time.Until(start.Add(time.Duration(i) * time.Millisecond)); d > 0 {
				time.Sleep(d)
			}
			sent[i] = time.Now()
			fmt.Fprintf(f, "%08d 192.0.2.39 - - [12/Mar/2026:14:02:12 +0000] \"GET /index.html HTTP/1.1\" 200 2326 \"-\" \"curl/8.5.0\"\n", i)
		}
	}()
	o, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	lat := make([]time.Duration, 0, n)
	var pos int64 = int64(len("warmup\n"))
	var pending []byte
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(60 * time.Second)
	for len(lat) < n && time.Now().Before(deadline) {
		m, _ := o.ReadAt(buf, pos)
		if m == 0 {
			time.Sleep(200 * time.Microsecond)
			continue
		}
		now := time.Now()
		pos += int64(m)
		pending = append(pending, buf[:m]...)
		for {
			i := bytes.IndexByte(pending, '\n')
			if i < 0 {
				break
			}
			k, err := strconv.Atoi(string(pending[:8]))
			if err != nil {
				t.Fatalf("bad line %q", pending[:i])
			}
			lat = append(lat, now.Sub(sent[k]))
			pending = pending[i+1:]
		}
	}
	<-done
	if len(lat) < n {
		t.Fatalf("only %d of %d lines arrived", len(lat), n)
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	t.Logf("append->sink latency at 1000 lines/s over %d lines: p50 %v, p90 %v, p99 %v, max %v", n, q(0.5), q(0.9), q(0.99), lat[len(lat)-1])
	p.stop(t)
}

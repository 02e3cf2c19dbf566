package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tributary-io/tributary/cmd/internal/latency"
)

// TestConnectStandaloneLatency measures the time from appending a line to
// the source file to reading it in the sink file, at 1000 lines a second
// for 10 seconds, through the real binary and its bundled broker. It is a
// measurement, not a check: run it with TRIBUTARY_LATENCY=1 (or =kfake, to
// use kfake as an external cluster instead), without -race:
//
//	TRIBUTARY_LATENCY=1 go test ./cmd/tributary -run TestConnectStandaloneLatency -v
//
// go run ./cmd/tributary-bench measures the same at other rates too.
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
	if err := os.WriteFile(in, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p := startCS(t, dir, wf, sf, kf)
	if !external {
		embeddedAddr(t, p)
	}
	res, err := latency.Measure(context.Background(), latency.Config{
		Source: in, Sink: out, Rate: 1000, Duration: 10 * time.Second, Timeout: 60 * time.Second,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, p.stderr.String())
	}
	if res.Lines != 10000 {
		t.Fatalf("measured %d lines, want 10000", res.Lines)
	}
	t.Logf("append->sink latency at 1000 lines/s over %v", res)
	p.stop(t)
}

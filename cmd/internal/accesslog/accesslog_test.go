package accesslog

import (
	"bytes"
	"os"
	"regexp"
	"testing"
	"time"
)

var start = time.Date(2026, 3, 12, 14, 2, 11, 0, time.UTC)

// combined matches Apache's combined log format.
var combined = regexp.MustCompile(`^\S+ - \S+ \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "[A-Z]+ \S+ HTTP/\d\.\d" \d{3} (\d+|-) "[^"]*" "[^"]*"$`)

func TestLinesAreCombinedFormat(t *testing.T) {
	g := New(7, start)
	for i := 0; i < 5000; i++ {
		if l := g.Line(); !combined.Match(l) {
			t.Fatalf("line %d is not in combined format: %s", i, l)
		}
	}
}

func TestDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := New(3, start).WriteLines(&a, 1000); err != nil {
		t.Fatal(err)
	}
	if err := New(3, start).WriteLines(&b, 1000); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed gave different logs")
	}
	var c bytes.Buffer
	if err := New(4, start).WriteLines(&c, 1000); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatal("different seeds gave the same log")
	}
	if n := bytes.Count(a.Bytes(), []byte("\n")); n != 1000 {
		t.Fatalf("%d lines, want 1000", n)
	}
}

// TestSampleFile checks that testdata/access_log_small.txt is what the
// generator gives for its defaults, so the sample can always be remade.
func TestSampleFile(t *testing.T) {
	want, err := os.ReadFile("../../../testdata/access_log_small.txt")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := New(1, start).WriteLines(&got, 300); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatal("testdata/access_log_small.txt differs from `go run ./cmd/gen-access-log -lines 300`")
	}
}

func BenchmarkLine(b *testing.B) {
	g := New(1, start)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n += len(g.Line())
	}
	b.SetBytes(int64(n / b.N))
}

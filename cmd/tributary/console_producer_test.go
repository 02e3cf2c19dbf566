package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
)

func values(recs []*kgo.Record) []string {
	vs := make([]string, len(recs))
	for i, r := range recs {
		vs[i] = string(r.Value)
	}
	return vs
}

func TestConsoleProducerSuite(t *testing.T) {
	forEachCluster(t, func(t *testing.T, addr string, c toolCluster) {
		produce := func(topic, stdin string, args ...string) toolResult {
			t.Helper()
			return runTool(t, stdin, append([]string{"console-producer", "--bootstrap-server", addr, "--topic", topic}, args...)...)
		}

		t.Run("lines in order", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "lines", 1)
			var in strings.Builder
			for i := range 2000 {
				fmt.Fprintf(&in, "line %d\n", i)
			}
			in.WriteString("last line without newline")
			r := produce("lines", in.String())
			if r.code != 0 || r.stdout != "" || r.stderr != "" {
				t.Fatalf("%v", r)
			}
			got := values(kafkatest.ReadTopic(t, addr, "lines", 2001))
			for i := range 2000 {
				if got[i] != fmt.Sprintf("line %d", i) {
					t.Fatalf("record %d = %q", i, got[i])
				}
			}
			if got[2000] != "last line without newline" {
				t.Fatalf("last = %q", got[2000])
			}
		})

		t.Run("new topic", func(t *testing.T) {
			// As with Kafka's defaults, producing creates a missing topic.
			if r := produce("never-created", "first\n"); r.code != 0 {
				t.Fatalf("%v", r)
			}
			if got := values(kafkatest.ReadTopic(t, addr, "never-created", 1)); got[0] != "first" {
				t.Fatalf("%q", got)
			}
		})

		t.Run("broker-list and CRLF", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "crlf", 1)
			r := runTool(t, "a\r\n\r\nb\n", "console-producer", "--broker-list", addr, "--topic", "crlf")
			if r.code != 0 {
				t.Fatalf("%v", r)
			}
			recs := kafkatest.ReadTopic(t, addr, "crlf", 3)
			if got := values(recs); got[0] != "a" || got[1] != "" || got[2] != "b" || recs[1].Value == nil {
				t.Fatalf("values %q", got)
			}
		})

		t.Run("keys and headers", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "keyed", 1)
			in := "h1:v1,h2:v2|k1:value one\n" +
				"NULL|k2:NULL\n" +
				"h3:NULL|NULL:value three\n"
			r := produce("keyed", in, "--property", "parse.key=true", "--property", "key.separator=:",
				"--property", "parse.headers=true", "--property", "headers.delimiter=|", "--property", "null.marker=NULL")
			if r.code != 0 {
				t.Fatalf("%v", r)
			}
			recs := kafkatest.ReadTopic(t, addr, "keyed", 3)
			if string(recs[0].Key) != "k1" || string(recs[0].Value) != "value one" || len(recs[0].Headers) != 2 ||
				recs[0].Headers[1].Key != "h2" || string(recs[0].Headers[1].Value) != "v2" {
				t.Errorf("record 0: %+v", recs[0])
			}
			if string(recs[1].Key) != "k2" || recs[1].Value != nil || len(recs[1].Headers) != 0 {
				t.Errorf("record 1: key %q value %v headers %v", recs[1].Key, recs[1].Value, recs[1].Headers)
			}
			if recs[2].Key != nil || string(recs[2].Value) != "value three" || recs[2].Headers[0].Key != "h3" || recs[2].Headers[0].Value != nil {
				t.Errorf("record 2: %+v", recs[2])
			}
		})

		t.Run("missing key separator", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "nokey", 1)
			r := produce("nokey", "a\tb\nno separator\nc\td\n", "--property", "parse.key=true")
			if r.code != 1 || r.stderr != "Error: No key separator found on line number 2: 'no separator'\n" {
				t.Fatalf("%v", r)
			}
			// The line before is sent; the input stops at the bad line.
			if got := kafkatest.ReadTopic(t, addr, "nokey", 1); string(got[0].Key) != "a" || string(got[0].Value) != "b" {
				t.Fatalf("%+v", got[0])
			}
			r = produce("nokey", "no separator\n", "--property", "parse.key=true", "--property", "ignore.error=true")
			if r.code != 0 {
				t.Fatalf("ignore.error: %v", r)
			}
			if got := kafkatest.ReadTopic(t, addr, "nokey", 2); got[1].Key != nil || string(got[1].Value) != "no separator" {
				t.Fatalf("ignore.error record %+v", got[1])
			}
		})

		t.Run("reader-config", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "readercfg", 1)
			file := filepath.Join(t.TempDir(), "reader.properties")
			if err := os.WriteFile(file, []byte("parse.key=true\nkey.separator==\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			// --property takes precedence over the file.
			r := produce("readercfg", "k=v\n", "--reader-config", file)
			if r.code != 0 {
				t.Fatalf("%v", r)
			}
			r = produce("readercfg", "k2#v2\n", "--reader-config", file, "--property", "key.separator=#")
			if r.code != 0 {
				t.Fatalf("%v", r)
			}
			recs := kafkatest.ReadTopic(t, addr, "readercfg", 2)
			if string(recs[0].Key) != "k" || string(recs[0].Value) != "v" || string(recs[1].Key) != "k2" || string(recs[1].Value) != "v2" {
				t.Fatalf("%q %q / %q %q", recs[0].Key, recs[0].Value, recs[1].Key, recs[1].Value)
			}
		})

		t.Run("compression", func(t *testing.T) {
			cases := []struct {
				args []string
				want uint8 // kgo.CompressionCodecType
			}{
				{[]string{"--compression-codec", "none"}, 0},
				{[]string{"--compression-codec"}, 1}, // no value: gzip
				{[]string{"--compression-codec=snappy"}, 2},
				{[]string{"--compression-codec", "lz4"}, 3},
				{[]string{"--compression-codec", "zstd"}, 4},
				{[]string{"--producer-property", "compression.type=gzip"}, 1},
			}
			for i, tc := range cases {
				topic := fmt.Sprintf("codec-%d", i)
				kafkatest.CreateTopic(t, addr, topic, 1)
				r := produce(topic, strings.Repeat("compressible text\n", 50), tc.args...)
				if r.code != 0 {
					t.Fatalf("%v: %v", tc.args, r)
				}
				recs := kafkatest.ReadTopic(t, addr, topic, 50)
				if got := codecs(recs); got != tc.want || string(recs[49].Value) != "compressible text" {
					t.Errorf("%v: compression %d, want %d", tc.args, got, tc.want)
				}
			}
			file := filepath.Join(t.TempDir(), "producer.properties")
			if err := os.WriteFile(file, []byte("compression.type=lz4\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			kafkatest.CreateTopic(t, addr, "codec-file", 1)
			if r := produce("codec-file", strings.Repeat("compressible text\n", 50), "--producer.config", file); r.code != 0 {
				t.Fatalf("%v", r)
			}
			if got := codecs(kafkatest.ReadTopic(t, addr, "codec-file", 50)); got != 3 {
				t.Errorf("--producer.config compression.type=lz4: got codec %d", got)
			}
		})

		t.Run("acks sync linger", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "acks", 1)
			for _, args := range [][]string{
				{"--request-required-acks", "1"},
				{"--request-required-acks", "all"},
				{"--request-required-acks", "0"},
				{"--sync"},
				{"--sync", "--request-required-acks", "1"},
				{"--timeout", "0"},
			} {
				if r := produce("acks", strings.Join(args, " ")+"\n", args...); r.code != 0 {
					t.Fatalf("%v: %v", args, r)
				}
			}
			got := values(kafkatest.ReadTopic(t, addr, "acks", 6))
			if got[0] != "--request-required-acks 1" || got[3] != "--sync" || got[5] != "--timeout 0" {
				t.Fatalf("%q", got)
			}
		})

		t.Run("line over the size limit", func(t *testing.T) {
			r := runTool(t, "", "topics", "--bootstrap-server", addr, "--create", "--topic", "small", "--config", "max.message.bytes=2000")
			if r.code != 0 {
				t.Fatalf("%v", r)
			}
			in := "one\n" + strings.Repeat("x", 3000) + "\nthree\n"
			r = produce("small", in)
			want := "Error: line 2 was not sent to topic small: its record of 3000 bytes is larger than the 2000 bytes topic small accepts (max.message.bytes)\n" +
				"Error: 1 line(s) not sent to topic small\n"
			if r.code != 1 || r.stderr != want {
				t.Fatalf("%v", r)
			}
			if got := values(kafkatest.ReadTopic(t, addr, "small", 2)); got[0] != "one" || got[1] != "three" {
				t.Fatalf("%q", got)
			}
			// --sync reports the same way.
			r = produce("small", "four\n"+strings.Repeat("y", 3000)+"\n", "--sync")
			if r.code != 1 || !strings.HasPrefix(r.stderr, "Error: line 2 was not sent") {
				t.Fatalf("--sync: %v", r)
			}
		})

		t.Run("line over the default limit", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "biglines", 1)
			in := "first\n" + strings.Repeat("z", 1100_000) + "\nlast\n"
			r := produce("biglines", in)
			if r.code != 1 || !strings.Contains(r.stderr, "Error: line 2 was not sent to topic biglines: its record of 1100000 bytes is larger than the ") {
				t.Fatalf("%v", r)
			}
			if got := values(kafkatest.ReadTopic(t, addr, "biglines", 2)); got[0] != "first" || got[1] != "last" {
				t.Fatalf("%q", got)
			}
		})

		t.Run("batch-size", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "batches", 1)
			r := produce("batches", "short\n"+strings.Repeat("b", 1500)+"\nshort again\n", "--batch-size", "1000")
			if r.code != 1 || !strings.Contains(r.stderr, "Error: line 2 was not sent to topic batches: its record of 1500 bytes is larger than --batch-size 1000\n") {
				t.Fatalf("%v", r)
			}
			if got := values(kafkatest.ReadTopic(t, addr, "batches", 2)); got[0] != "short" || got[1] != "short again" {
				t.Fatalf("%q", got)
			}
		})

		t.Run("sigint flushes", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "interrupted", 1)
			stdin := &waitingReader{data: strings.NewReader("x\ny\nz\n"), reached: make(chan struct{}), release: make(chan struct{})}
			defer close(stdin.release)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan toolResult)
			go func() {
				// A long linger: only the flush at SIGINT sends the lines.
				done <- runToolWithStdin(t, ctx, stdin, "console-producer", "--bootstrap-server", addr, "--topic", "interrupted", "--timeout", "60000")
			}()
			select {
			case <-stdin.reached: // every line was read; the input stays open
			case r := <-done:
				t.Fatalf("exited before SIGINT: %v", r)
			}
			cancel()
			select {
			case r := <-done:
				if r.code != 0 || r.stderr != "" {
					t.Fatalf("%v", r)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("no exit within 20s of SIGINT")
			}
			if got := values(kafkatest.ReadTopic(t, addr, "interrupted", 3)); strings.Join(got, ",") != "x,y,z" {
				t.Fatalf("%q", got)
			}
		})
	})
}

// waitingReader gives data, then blocks until released, closing reached
// when it starts to block.
type waitingReader struct {
	data    io.Reader
	once    sync.Once
	reached chan struct{}
	release chan struct{}
}

func (r *waitingReader) Read(p []byte) (int, error) {
	n, err := r.data.Read(p)
	if n > 0 || err != io.EOF {
		return n, err
	}
	r.once.Do(func() { close(r.reached) })
	<-r.release
	return 0, io.EOF
}

func runToolWithStdin(t testing.TB, ctx context.Context, stdin io.Reader, args ...string) toolResult {
	var out, errb lockedBuffer
	a := &app{stdin: stdin, stdout: &out, stderr: &errb}
	code := a.execute(ctx, a.root(), args)
	return toolResult{code, out.String(), errb.String()}
}

func TestConsoleProducerUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"console-producer"}, 2, "--topic is required"},
		{[]string{"console-producer", "--topic", "t", "--no-such-flag"}, 2, "unknown flag: --no-such-flag"},
		{[]string{"console-producer", "--topic", "t", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"console-producer", "--topic", "t", "--compression-codec", "brotli"}, 2, `--compression-codec "brotli" is not one of none, gzip, snappy, lz4, zstd`},
		{[]string{"console-producer", "--topic", "t", "--request-required-acks", "2"}, 2, `acks: "2" is not one of all, -1, 0, 1`},
		{[]string{"console-producer", "--topic", "t", "--property", "parse.headers=true", "--property", "headers.delimiter=,"}, 2, "headers.delimiter and headers.separator may not be equal"},
		{[]string{"console-producer", "--topic", "t", "--property", "=x"}, 2, `invalid property "=x"`},
		{[]string{"console-producer", "--topic", "t", "--producer.config", "/no/such/file"}, 1, "/no/such/file: file does not exist"},
		{[]string{"console-producer", "--topic", "t", "--broker-list", "localhost"}, 2, `bootstrap.servers: "localhost" has "localhost", which lacks a port`},
	}
	for _, tt := range tests {
		r := runTool(t, "", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: want exit %d saying %q, got %v", tt.args, tt.code, tt.want, r)
		}
	}
}

func TestConsoleProducerUnreachable(t *testing.T) {
	addr := kafkatest.ClosedAddr(t)
	start := time.Now()
	r := runTool(t, "a\n", "console-producer", "--bootstrap-server", addr, "--topic", "t")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Error: cannot reach a broker at "+addr) || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("%v", r)
	}
	if d := time.Since(start); d > toolclient.ReachTimeout+2*time.Second {
		t.Fatalf("took %v", d)
	}
}

// codecs returns the compression codec the records were sent with. franz-go
// sends a batch uncompressed when compressing does not make it smaller (a
// batch of one short record), so the codec is that of any compressed
// record; 255 if two codecs were used.
func codecs(recs []*kgo.Record) uint8 {
	var codec uint8
	for _, r := range recs {
		if c := r.Attrs.CompressionType(); c != 0 {
			if codec != 0 && c != codec {
				return 255
			}
			codec = c
		}
	}
	return codec
}

package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
)

func TestDumpLog(t *testing.T) {
	dir := t.TempDir()
	addr := startBroker(t, "log.dirs="+dir)
	kafkatest.CreateTopic(t, addr, "dumped", 1)
	kafkatest.Produce(t, addr,
		&kgo.Record{Topic: "dumped", Key: []byte("k"), Value: []byte("hello")},
		&kgo.Record{Topic: "dumped", Value: []byte("world")},
	)
	seg := filepath.Join(dir, "dumped-0", "00000000000000000000.log")

	r := runTool(t, "", "dump-log", "--files", seg)
	batch := regexp.MustCompile(`(?m)^baseOffset: 0 lastOffset: 1 count: 2 baseSequence: \d+ lastSequence: \d+ producerId: \d+ producerEpoch: \d+ partitionLeaderEpoch: 0 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: \d+ size: \d+ magic: 2 compresscodec: \w+ crc: \d+ isvalid: true$`)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "Dumping "+seg+"\nLog starting offset: 0\n") || !batch.MatchString(r.stdout) || strings.Contains(r.stdout, "| offset") {
		t.Fatalf("%v", r)
	}
	// A decoder class may follow its flag as its own argument.
	r = runTool(t, "", "dump-log", "--files", seg+","+seg, "--value-decoder-class", "kafka.serializer.StringDecoder")
	records := regexp.MustCompile(`(?m)^\| offset: 0 CreateTime: \d+ keySize: 1 valueSize: 5 sequence: \d+ headerKeys: \[\] key: k payload: hello\n\| offset: 1 CreateTime: \d+ keySize: -1 valueSize: 5 sequence: \d+ headerKeys: \[\] payload: world$`)
	if r.code != 0 || len(records.FindAllString(r.stdout, -1)) != 2 {
		t.Fatalf("--value-decoder-class: %v", r)
	}
	r = runTool(t, "", "dump-log", "--files", seg, "--deep-iteration", "--skip-record-metadata")
	if r.code != 0 || !strings.Contains(r.stdout, "isvalid: true\n\n\n") {
		t.Fatalf("--skip-record-metadata: %v", r)
	}

	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"dump-log"}, 2, "Error: missing required argument \"[files]\"\n"},
		{[]string{"dump-log", "--file", seg}, 2, "Error: unknown flag: --file (did you mean --files?)\n"},
		{[]string{"dump-log", "--files", seg, "--key-decoder-class", "com.example.Avro"}, 2, "Error: --key-decoder-class com.example.Avro: only the string decoder (org.apache.kafka.tools.api.StringDecoder) is available\n"},
		{[]string{"dump-log", "--files", seg, "extra"}, 2, "Error: unexpected argument \"extra\"\n"},
		{[]string{"dump-log", "--files", filepath.Join(dir, "00000000000000000007.log")}, 1, "Error: open " + filepath.Join(dir, "00000000000000000007.log") + ": no such file or directory\n"},
	} {
		r := runTool(t, "", tc.args...)
		if r.code != tc.code || !strings.HasPrefix(r.stderr, tc.stderr) {
			t.Errorf("%q: %v\nwant exit %d and %q", tc.args, r, tc.code, tc.stderr)
		}
	}
}

package dumplog

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/broker"
	"github.com/tributary-io/tributary/config"
)

// startBroker starts the bundled broker with its log in dir, and returns
// its address and a function that stops it (which the test also does at
// its end), so that a test can read the files a stopped broker left.
func startBroker(t *testing.T, dir string) (string, func()) {
	t.Helper()
	vals, err := broker.Definitions().Parse(config.FromMap("test broker", map[string]string{
		"listeners":                        "PLAINTEXT://127.0.0.1:0",
		"log.dirs":                         dir,
		"group.initial.rebalance.delay.ms": "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := broker.ParseConfig(vals)
	if err != nil {
		t.Fatal(err)
	}
	b, err := broker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := b.Close(ctx); err != nil {
			t.Errorf("close broker: %v", err)
		}
	}
	t.Cleanup(stop)
	return b.Addr(), stop
}

func client(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// writeTopic fills a one-partition topic of the broker at addr the way
// producers do: plain and idempotent batches, each codec, keys, null keys
// and headers, a committed and an aborted transaction. It returns the
// values written, in the order of their offsets (aborted ones included).
func writeTopic(t *testing.T, addr, topic string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	adm := kadm.NewClient(client(t, addr))
	// Small segments and an index entry per batch, so that the test sees
	// rolled segments with full indexes.
	resp, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{
		"segment.bytes":        kadm.StringPtr("2048"),
		"index.interval.bytes": kadm.StringPtr("1"),
	}, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
	var values []string
	produce := func(cl *kgo.Client, recs ...*kgo.Record) {
		t.Helper()
		for _, r := range recs {
			r.Topic = topic
			values = append(values, string(r.Value))
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	base := time.UnixMilli(1_700_000_000_000)
	plain := client(t, addr, kgo.DisableIdempotentWrite(), kgo.ProducerLinger(time.Second))
	produce(plain,
		&kgo.Record{Key: []byte("k1"), Value: []byte("first"), Timestamp: base, Headers: []kgo.RecordHeader{{Key: "h1", Value: []byte("x")}, {Key: "h2"}}},
		&kgo.Record{Value: []byte("no key"), Timestamp: base.Add(time.Millisecond)},
	)
	for _, codec := range []kgo.CompressionCodec{kgo.GzipCompression(), kgo.SnappyCompression(), kgo.Lz4Compression(), kgo.ZstdCompression()} {
		cl := client(t, addr, kgo.ProducerBatchCompression(codec), kgo.ProducerLinger(time.Second))
		var recs []*kgo.Record
		for i := range 20 {
			recs = append(recs, &kgo.Record{Key: fmt.Appendf(nil, "key-%d", i), Value: []byte(strings.Repeat("compressible ", 5) + fmt.Sprint(i)), Timestamp: base.Add(time.Duration(i) * time.Second)})
		}
		produce(cl, recs...)
	}
	for i := range 40 { // many batches, to roll segments
		produce(plain, &kgo.Record{Value: fmt.Appendf(nil, "batch %d", i), Timestamp: base.Add(time.Minute + time.Duration(i)*time.Second)})
	}
	tx := client(t, addr, kgo.TransactionalID("dump-log-tx"))
	for _, commit := range []kgo.TransactionEndTry{kgo.TryCommit, kgo.TryAbort} {
		if err := tx.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		produce(tx, &kgo.Record{Value: fmt.Appendf(nil, "txn %v", commit)}, &kgo.Record{Value: fmt.Appendf(nil, "txn %v again", commit)})
		if err := tx.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
		values = append(values, "") // the marker
	}
	return values
}

var (
	batchLine  = regexp.MustCompile(`^baseOffset: (\d+) lastOffset: (\d+) count: (\d+) baseSequence: (-?\d+) lastSequence: (-?\d+) producerId: (-?\d+) producerEpoch: (-?\d+) partitionLeaderEpoch: (-?\d+) isTransactional: (true|false) isControl: (true|false) deleteHorizonMs: OptionalLong\.empty position: (\d+) CreateTime: (-?\d+) size: (\d+) magic: 2 compresscodec: (none|gzip|snappy|lz4|zstd) crc: (\d+) isvalid: true$`)
	recordLine = regexp.MustCompile(`^\| offset: (\d+) CreateTime: (-?\d+) keySize: (-?\d+) valueSize: (-?\d+) sequence: (-?\d+) headerKeys: \[([^\]]*)\]( endTxnMarker: (COMMIT|ABORT) coordinatorEpoch: \d+| key: (\S+) payload: (.*)| payload: (.*))$`)
)

// TestIntegrationBrokerSegments dumps the files the bundled broker writes
// and checks every line against Kafka's format, every record against what
// was produced, and that the checks find nothing wrong.
func TestIntegrationBrokerSegments(t *testing.T) {
	dir := t.TempDir()
	addr, stop := startBroker(t, dir)
	values := writeTopic(t, addr, "dump")
	stop()

	part := filepath.Join(dir, "dump-0")
	names, err := filepath.Glob(filepath.Join(part, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var logs, others []string
	for _, n := range names {
		switch filepath.Ext(n) {
		case ".log":
			logs = append(logs, n)
		case ".index", ".timeindex", ".snapshot", ".txnindex":
			others = append(others, n)
		}
	}
	if len(logs) < 3 {
		t.Fatalf("want rolled segments, got %v", names)
	}

	var out, errb strings.Builder
	if err := Run(Options{Files: logs, PrintDataLog: true, MaxBytes: DefaultMaxBytes}, &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	if errb.Len() != 0 {
		t.Errorf("stderr: %s", errb.String())
	}
	var got []string
	codecs := map[string]bool{}
	controls := map[string]bool{}
	next := int64(0)
	for line := range strings.Lines(out.String()) {
		line = strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, "Dumping "), strings.HasPrefix(line, "Log starting offset: "):
		case strings.HasPrefix(line, "baseOffset: "):
			m := batchLine.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("batch line not in Kafka's format:\n%s", line)
			}
			codecs[m[14]] = true
		case strings.HasPrefix(line, "| "):
			m := recordLine.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("record line not in Kafka's format:\n%s", line)
			}
			if m[1] != fmt.Sprint(next) {
				t.Fatalf("record at offset %s, want %d: %s", m[1], next, line)
			}
			next++
			switch {
			case m[8] != "":
				controls[m[8]] = true
				got = append(got, "")
			case m[10] != "":
				got = append(got, m[10])
			default:
				got = append(got, m[11])
			}
		default:
			t.Fatalf("unexpected line %q", line)
		}
	}
	if !slices.Equal(got, values) {
		t.Errorf("records\n%q\nwant\n%q", got, values)
	}
	for _, c := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		if !codecs[c] {
			t.Errorf("no %s batch in the dump", c)
		}
	}
	if !controls["COMMIT"] || !controls["ABORT"] {
		t.Errorf("control records: %v", controls)
	}
	if !strings.Contains(out.String(), "| offset: 0 CreateTime: 1700000000000 keySize: 2 valueSize: 5 sequence: 0 headerKeys: [h1,h2] key: k1 payload: first\n") {
		t.Errorf("first record not as Kafka prints it:\n%s", out.String())
	}

	// The indexes, snapshots and transaction index of every segment
	// check out against the log.
	out.Reset()
	errb.Reset()
	if err := Run(Options{Files: others, MaxBytes: DefaultMaxBytes}, &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	if errb.Len() != 0 {
		t.Errorf("index checks found problems:\n%s\n%s", errb.String(), out.String())
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^offset: \d+ position: \d+$`),
		regexp.MustCompile(`(?m)^timestamp: \d+ offset: \d+$`),
		regexp.MustCompile(`(?m)^producerId: \d+ producerEpoch: \d+ coordinatorEpoch: -1 currentTxnFirstOffset: OptionalLong.empty lastTimestamp: \d+ firstSequence: \d+ lastSequence: \d+ lastOffset: \d+ offsetDelta: \d+ timestamp: \d+$`),
		regexp.MustCompile(`(?m)^version: 0 producerId: \d+ firstOffset: \d+ lastOffset: \d+ lastStableOffset: \d+$`),
	} {
		if !want.MatchString(out.String()) {
			t.Errorf("no line matching %s in\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := Run(Options{Files: others, IndexSanityCheck: true, MaxBytes: DefaultMaxBytes}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), ".index passed sanity check.\n") || !strings.Contains(out.String(), ".timeindex passed sanity check.\n") {
		t.Errorf("sanity check:\n%s", out.String())
	}
	if os.Getenv("DUMPLOG_SHOW") != "" {
		t.Log(out.String())
	}
}

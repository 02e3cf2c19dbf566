package broker

import (
	"context"
	"encoding/binary"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestKcatCompresses: librdkafka (kcat) compresses what it produces to
// this broker with each codec Kafka has, because ApiVersions lists Produce
// from v0 (KAFKA-18659); against a broker listing Produce from v3 it logs
// "Broker does not support compression type ..." and sends the batches
// uncompressed. The stored batch says its codec.
func TestKcatCompresses(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not installed")
	}
	tb := startBroker(t, "auto.create.topics.enable=true")
	for codec, want := range map[string]int16{"gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4} {
		t.Run(codec, func(t *testing.T) {
			topic := "kcat-" + codec
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, kcat, "-P", "-b", tb.addr, "-t", topic, "-p", "0", "-z", codec, "-X", "linger.ms=50")
			cmd.Stdin = strings.NewReader(strings.Repeat("a line of an access log, the same again and again\n", 200))
			out, err := cmd.CombinedOutput()
			if err != nil || strings.Contains(string(out), "does not support compression") {
				t.Fatalf("kcat: %v\n%s", err, out)
			}
			c := dialRaw(t, tb.addr)
			req := kmsg.NewPtrFetchRequest()
			req.Version, req.MaxWaitMillis, req.MaxBytes, req.SessionEpoch = 11, 0, 1<<20, -1
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic = topic
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.PartitionMaxBytes = 1 << 20
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			resp := c.roundTrip(req).(*kmsg.FetchResponse)
			if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
				t.Fatalf("fetch: %+v", resp)
			}
			p := resp.Topics[0].Partitions[0]
			if p.ErrorCode != 0 || p.HighWatermark != 200 || len(p.RecordBatches) < 61 {
				t.Fatalf("partition: error %d, high watermark %d, %d bytes", p.ErrorCode, p.HighWatermark, len(p.RecordBatches))
			}
			// A batch's attributes follow its base offset (8), length (4),
			// leader epoch (4), magic (1) and CRC (4); the low 3 bits are
			// the codec.
			for b := p.RecordBatches; len(b) >= 61; {
				if got := int16(binary.BigEndian.Uint16(b[21:23])) & 7; got != want {
					t.Fatalf("stored batch codec %d, want %d (%s)", got, want, codec)
				}
				b = b[12+int(binary.BigEndian.Uint32(b[8:12])):]
			}
		})
	}
}

// TestKcatTransactions: librdkafka's transactional producer (kcat with a
// transactional.id sends its input in one transaction and commits it) and
// its consumer, which reads read_committed by default: an aborted
// transaction of another client is skipped, and read_uncommitted shows it.
func TestKcatTransactions(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not installed")
	}
	tb := startBroker(t)
	createTopic(t, tb.addr, "kcat-tx", 1, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kcat, "-P", "-b", tb.addr, "-t", "kcat-tx", "-p", "0", "-X", "transactional.id=kcat-txn")
	cmd.Stdin = strings.NewReader("k1\nk2\nk3\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat transactional produce: %v\n%s", err, out)
	}
	if d := describeTxn(t, tb.addr, "kcat-txn"); d.State != "CompleteCommit" {
		t.Fatalf("kcat's transaction: %+v", d)
	}
	produceTxn(t, txnProducer(t, tb.addr, "kgo-txn"), "kcat-tx", false, "aborted")
	consume := func(isolation string) []string {
		t.Helper()
		cmd := exec.CommandContext(ctx, kcat, "-C", "-b", tb.addr, "-t", "kcat-tx", "-p", "0", "-o", "beginning", "-e", "-f", "%s\n", "-X", "isolation.level="+isolation)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("kcat consume (%s): %v", isolation, err)
		}
		return strings.Fields(string(out))
	}
	if got := strings.Join(consume("read_committed"), " "); got != "k1 k2 k3" {
		t.Fatalf("read_committed: %q", got)
	}
	if got := strings.Join(consume("read_uncommitted"), " "); got != "k1 k2 k3 aborted" {
		t.Fatalf("read_uncommitted: %q", got)
	}
}

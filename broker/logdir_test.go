package broker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// startErr starts a broker on dir and returns the error of Start.
func startErr(t *testing.T, dir string, props ...string) error {
	t.Helper()
	b, err := New(brokerConfig(t, dir, props...))
	if err != nil {
		t.Fatal(err)
	}
	err = b.Start(testCtx(t, time.Minute))
	if err == nil {
		b.Close(context.Background())
	}
	return err
}

// dirState lists every path under root with its size and modification
// time. (Root's own time is left out: the broker's start-up probe of the
// file system's case handling creates and removes a file in each log dir.)
// The lock file is left out: each start takes it and writes its pid.
func dirState(t testing.TB, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == root || d.Name() == lockFile {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, fmt.Sprintf("%s %d %d", p, fi.Size(), fi.ModTime().UnixNano()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A partition folder missing for a topic listed in topics.json is a
// failure of the log dir, as in Kafka; with one log dir (which also holds
// the broker's metadata), the broker refuses to start and names the
// folder, rather than starting the partition empty and losing its data
// without a word. Creating the folder is how an operator accepts the loss.
func TestMissingPartitionFolderRefusesStart(t *testing.T) {
	dir := t.TempDir()
	tb := startBrokerIn(t, dir)
	createTopic(t, tb.addr, "kept", 2, nil)
	cl := newClient(t, tb.addr, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	produceSync(t, cl, "kept", "a", "b", "c", "d")
	cl.Close()
	tb.stop()

	gone := filepath.Join(dir, "kept-1")
	if err := os.RemoveAll(gone); err != nil {
		t.Fatal(err)
	}
	err := startErr(t, dir)
	if err == nil {
		t.Fatal("the broker started with a partition folder missing")
	}
	if !strings.Contains(err.Error(), gone) {
		t.Fatalf("the error does not name %s: %v", gone, err)
	}
	t.Logf("start refused: %v", err)
	if _, serr := os.Stat(gone); !os.IsNotExist(serr) {
		t.Fatalf("the refused start created %s: %v", gone, serr)
	}

	// The operator accepts the loss: the partition starts empty.
	if err := os.Mkdir(gone, 0o755); err != nil {
		t.Fatal(err)
	}
	tb.start()
	if got := consumeN(t, tb.addr, "kept", 2); len(got) != 2 {
		t.Fatalf("%d records after the folder was recreated", len(got))
	}
}

// With several log dirs, a missing partition folder takes its log dir
// offline (the dir that last recorded the partition in its recovery
// checkpoint): every partition on it answers KAFKA_STORAGE_ERROR, naming
// the folder, while the other dirs serve on and take the new partitions.
// Nothing is written to the failed dir; once repaired, it serves again.
func TestMissingPartitionFolderFailsItsLogDir(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	tb := startBrokerIn(t, root, "log.dirs="+a+","+b)
	createTopic(t, tb.addr, "t", 2, nil) // t-0 in a, t-1 in b
	createTopic(t, tb.addr, "u", 2, nil) // u-0 in a, u-1 in b
	for _, p := range []string{"a/t-0", "b/t-1", "a/u-0", "b/u-1"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Fatalf("partition placement: %v", err)
		}
	}
	cl := newClient(t, tb.addr, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	produceSync(t, cl, "t", "t0", "t1")
	produceSync(t, cl, "u", "u0", "u1")
	cl.Close()
	tb.stop()

	gone := filepath.Join(b, "t-1")
	if err := os.RemoveAll(gone); err != nil {
		t.Fatal(err)
	}
	before := dirState(t, b)
	tb.start()

	c := dialRaw(t, tb.addr)
	for _, tp := range []struct {
		topic     string
		partition int32
		offline   bool
	}{{"t", 0, false}, {"t", 1, true}, {"u", 0, false}, {"u", 1, true}} {
		p := producePartition(t, c.roundTrip(produceRequest(9, -1, tp.topic, tp.partition, testBatch(1, -1, 0, 0, 10))))
		if !tp.offline {
			if p.ErrorCode != 0 {
				t.Errorf("produce to %s-%d on the healthy dir: %s", tp.topic, tp.partition, errName(p.ErrorCode))
			}
			continue
		}
		if p.ErrorCode != kerr.KafkaStorageError.Code {
			t.Errorf("produce to %s-%d on the failed dir: %s, want KAFKA_STORAGE_ERROR", tp.topic, tp.partition, errName(p.ErrorCode))
		}
		if p.ErrorMessage == nil || !strings.Contains(*p.ErrorMessage, gone) {
			t.Errorf("produce to %s-%d: message %v does not name %s", tp.topic, tp.partition, p.ErrorMessage, gone)
		}

		f := kmsg.NewPtrFetchRequest()
		f.Version, f.MaxBytes, f.SessionEpoch, f.ReplicaID = 11, 1<<20, -1, -1
		ft := kmsg.NewFetchRequestTopic()
		ft.Topic = tp.topic
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.Partition, fp.PartitionMaxBytes = tp.partition, 1<<20
		ft.Partitions = append(ft.Partitions, fp)
		f.Topics = append(f.Topics, ft)
		if fr := c.roundTrip(f).(*kmsg.FetchResponse); fr.Topics[0].Partitions[0].ErrorCode != kerr.KafkaStorageError.Code {
			t.Errorf("fetch %s-%d: %s", tp.topic, tp.partition, errName(fr.Topics[0].Partitions[0].ErrorCode))
		}

		lo := kmsg.NewPtrListOffsetsRequest()
		lo.Version = 7
		lt := kmsg.NewListOffsetsRequestTopic()
		lt.Topic = tp.topic
		lp := kmsg.NewListOffsetsRequestTopicPartition()
		lp.Partition, lp.Timestamp = tp.partition, -1
		lt.Partitions = append(lt.Partitions, lp)
		lo.Topics = append(lo.Topics, lt)
		if lr := c.roundTrip(lo).(*kmsg.ListOffsetsResponse); lr.Topics[0].Partitions[0].ErrorCode != kerr.KafkaStorageError.Code {
			t.Errorf("list offsets %s-%d: %s", tp.topic, tp.partition, errName(lr.Topics[0].Partitions[0].ErrorCode))
		}

		md := kmsg.NewPtrMetadataRequest()
		md.Version = 9
		mt := kmsg.NewMetadataRequestTopic()
		mt.Topic = kmsg.StringPtr(tp.topic)
		md.Topics = append(md.Topics, mt)
		mr := c.roundTrip(md).(*kmsg.MetadataResponse)
		mp := mr.Topics[0].Partitions[tp.partition]
		if mp.ErrorCode != kerr.KafkaStorageError.Code || !slices.Equal(mp.OfflineReplicas, []int32{tb.b.cfg.NodeID}) {
			t.Errorf("metadata of %s-%d: %s, offline replicas %v", tp.topic, tp.partition, errName(mp.ErrorCode), mp.OfflineReplicas)
		}
	}

	// New partitions go to the healthy dir.
	createTopic(t, tb.addr, "v", 2, nil)
	for _, p := range []string{"a/v-0", "a/v-1"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("new partition with a dir offline: %v", err)
		}
	}
	tb.stop()
	if after := dirState(t, b); !slices.Equal(after, before) {
		t.Fatalf("the failed log dir was written to:\nbefore %v\nafter  %v", before, after)
	}

	// Repaired: the dir serves again, with its data.
	if err := os.Mkdir(gone, 0o755); err != nil {
		t.Fatal(err)
	}
	tb.start()
	if got := consumeN(t, tb.addr, "u", 3); len(got) != 3 {
		t.Fatalf("%d records of u once the dir is back, want 3", len(got))
	}
	cl = newClient(t, tb.addr)
	if err := cl.ProduceSync(testCtx(t, 30*time.Second), &kgo.Record{Topic: "t", Partition: 1, Value: []byte("again")}).FirstErr(); err != nil {
		t.Fatalf("produce to the recreated partition: %v", err)
	}
}

// A partition log that cannot be opened fails its log dir too: here a
// producer snapshot beyond the log end (a folder, so it cannot be
// removed, as a read-only file system would refuse).
func TestUnopenablePartitionFailsItsLogDir(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	tb := startBrokerIn(t, root, "log.dirs="+a+","+b)
	createTopic(t, tb.addr, "w", 2, nil) // w-0 in a, w-1 in b
	tb.stop()
	stuck := filepath.Join(b, "w-1", "00000000000000099999.snapshot")
	if err := os.MkdirAll(filepath.Join(stuck, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	tb.start()
	c := dialRaw(t, tb.addr)
	if p := producePartition(t, c.roundTrip(produceRequest(9, -1, "w", 0, testBatch(1, -1, 0, 0, 10)))); p.ErrorCode != 0 {
		t.Fatalf("produce to w-0 on the healthy dir: %s", errName(p.ErrorCode))
	}
	p := producePartition(t, c.roundTrip(produceRequest(9, -1, "w", 1, testBatch(1, -1, 0, 0, 10))))
	if p.ErrorCode != kerr.KafkaStorageError.Code || p.ErrorMessage == nil || !strings.Contains(*p.ErrorMessage, stuck) {
		t.Fatalf("produce to w-1 on the failed dir: %s %v", errName(p.ErrorCode), p.ErrorMessage)
	}
}

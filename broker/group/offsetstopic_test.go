package group

import (
	"context"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/internal/javahash"
)

// memTopic is an OffsetsTopic in memory.
type memTopic struct {
	n     int32
	mu    sync.Mutex
	parts map[int32][]KeyValue
}

func newMemTopic(n int32) *memTopic { return &memTopic{n: n, parts: map[int32][]KeyValue{}} }

func (m *memTopic) Partitions() int32 { return m.n }

func (m *memTopic) Append(p int32, recs []KeyValue) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.parts[p] = append(m.parts[p], recs...)
	return nil
}

func (m *memTopic) Scan(fn func(p int32, key, value []byte)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for p := range m.n {
		for _, kv := range m.parts[p] {
			fn(p, kv.Key, kv.Value)
		}
	}
	return nil
}

// state is the last value of each key, decoded: "group/topic/partition" ->
// offset for commits, "group" -> generation for group metadata.
func (m *memTopic) state(t *testing.T) (offsets map[string]int64, gens map[string]int32) {
	t.Helper()
	offsets, gens = map[string]int64{}, map[string]int32{}
	m.Scan(func(p int32, key, value []byte) {
		k, ok := decodeViewKey(key)
		if !ok {
			t.Fatalf("undecodable key %x", key)
		}
		if want := OffsetsTopicPartition(k.group, m.n); p != want {
			t.Errorf("group %s in partition %d, want %d", k.group, p, want)
		}
		if k.meta {
			if value == nil {
				delete(gens, k.group)
				return
			}
			var v kmsg.GroupMetadataValue
			if err := v.ReadFrom(value); err != nil {
				t.Fatal(err)
			}
			gens[k.group] = v.Generation
			return
		}
		name := k.group + "/" + k.tp.topic + "/" + string(rune('0'+k.tp.partition))
		if value == nil {
			delete(offsets, name)
			return
		}
		var v kmsg.OffsetCommitValue
		if err := v.ReadFrom(value); err != nil {
			t.Fatal(err)
		}
		offsets[name] = v.Offset
	})
	return offsets, gens
}

// TestOffsetsTopicPartitionIsKafkas: abs(String.hashCode()) % n, with
// hashes computed by Java (String.hashCode, OpenJDK).
func TestOffsetsTopicPartitionIsKafkas(t *testing.T) {
	for _, c := range []struct {
		group string
		hash  int32
	}{
		{"", 0}, {"a", 97}, {"kafka", 101807910}, {"my-group", -1906497762},
		{"console-consumer-12345", 158455506}, {"polygenelubricants", -2147483648}, {"é€😀", 16752006},
	} {
		if got := int32(javahash.String(c.group)); got != c.hash {
			t.Errorf("hash %q = %d, want %d", c.group, got, c.hash)
		}
	}
	if p := OffsetsTopicPartition("polygenelubricants", 50); p != 0 {
		t.Errorf("Integer.MIN_VALUE hash: partition %d, want 0", p)
	}
	if p := OffsetsTopicPartition("my-group", 50); p != 1906497762%50 {
		t.Errorf("negative hash: partition %d", p)
	}
}

// TestOffsetsTopicView: commits, group metadata and deletions reach the
// topic in Kafka's formats, and a reopened coordinator writes back what
// the topic lost (a crash between the offsets log and the topic, or
// retention) and tombstones what it should no longer hold.
func TestOffsetsTopicView(t *testing.T) {
	dir := t.TempDir()
	mt := newMemTopic(5)
	c, err := Open(Config{Dir: dir, OffsetsTopic: mt})
	if err != nil {
		t.Fatal(err)
	}
	commit(t, c, "g1", "t", 0, 10)
	commit(t, c, "g1", "t", 1, 11)
	commit(t, c, "g2", "t", 0, 20)
	commit(t, c, "g3", "u", 0, 30)
	a := mustJoin(t, c, "live", "")
	if r := c.Handle(context.Background(), syncReq("live", a.MemberID, a.Generation, map[string]string{a.MemberID: "x"})).(*kmsg.SyncGroupResponse); r.ErrorCode != 0 {
		t.Fatal(kerr.ErrorForCode(r.ErrorCode))
	}
	del := kmsg.NewPtrDeleteGroupsRequest()
	del.Groups = []string{"g3"}
	if r := c.Handle(context.Background(), del).(*kmsg.DeleteGroupsResponse); r.Groups[0].ErrorCode != 0 {
		t.Fatal(kerr.ErrorForCode(r.Groups[0].ErrorCode))
	}
	offsets, gens := mt.state(t)
	want := map[string]int64{"g1/t/0": 10, "g1/t/1": 11, "g2/t/0": 20}
	if !equalMaps(offsets, want) {
		t.Fatalf("offsets %v, want %v", offsets, want)
	}
	if gens["live"] != a.Generation || len(gens) != 1 {
		t.Fatalf("group metadata %v", gens)
	}
	// The group metadata after SyncGroup carries the member and its
	// assignment.
	var last kmsg.GroupMetadataValue
	mt.Scan(func(_ int32, key, value []byte) {
		if k, _ := decodeViewKey(key); k.meta && k.group == "live" && value != nil {
			last.ReadFrom(value)
		}
	})
	if len(last.Members) != 1 || string(last.Members[0].Assignment) != "x" || last.Protocol == nil || *last.Protocol != "range" || last.ProtocolType != "consumer" {
		t.Fatalf("group metadata value %+v", last)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	// The topic lost everything, and holds a stale key the offsets log
	// does not.
	mt2 := newMemTopic(5)
	stale := viewKey{group: "gone", tp: topicPartition{"t", 0}}
	val := kmsg.OffsetCommitValue{Version: 3, Offset: 1}
	mt2.Append(OffsetsTopicPartition("gone", 5), []KeyValue{{stale.encode(), val.AppendTo(nil)}})
	c, err = Open(Config{Dir: dir, OffsetsTopic: mt2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	offsets, gens = mt2.state(t)
	if !equalMaps(offsets, want) || gens["live"] != a.Generation {
		t.Fatalf("after reopen: offsets %v, group metadata %v", offsets, gens)
	}
	n := 0
	mt2.Scan(func(int32, []byte, []byte) { n++ })
	// A third open writes nothing more.
	c.Close()
	c, err = Open(Config{Dir: dir, OffsetsTopic: mt2})
	if err != nil {
		t.Fatal(err)
	}
	m := 0
	mt2.Scan(func(int32, []byte, []byte) { m++ })
	if m != n {
		t.Fatalf("a reopen with the topic up to date appended %d records", m-n)
	}
}

func equalMaps[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

package broker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/broker/group"
)

// __consumer_offsets is a real, internal, read-only topic here, as in
// Kafka: Metadata lists it with IsInternal set and its partitions,
// consumers fetch it, and its records are Kafka's offset commit and group
// metadata key/value records, so tools that read commits from it (Burrow,
// lag exporters) see every group.
//
// The group coordinator writes it, and only the coordinator: the offsets
// log in the __consumer_offsets folder (groupDir) stays the coordinator's
// source of truth, loaded on start-up and fsynced before a commit is
// acknowledged; the topic is a view of it, appended in commit order before
// each commit is answered, and brought up to date with the offsets log
// again at every start (see group.OffsetsTopic). Clients may not produce
// to it (INVALID_TOPIC_EXCEPTION, "Cannot append to internal topic", as
// Kafka answers), delete it or add partitions to it (INVALID_TOPIC_EXCEPTION
// too: Kafka 4 would let an admin do both, which here would lose the view
// or move every group to another partition), and creating it is
// TOPIC_ALREADY_EXISTS. The broker creates it on start-up, with
// offsets.topic.num.partitions partitions (Kafka's default 50; an existing
// topic keeps its count), and Metadata never auto-creates it.

// offsetsTopicView is the broker's side of group.OffsetsTopic.
type offsetsTopicView struct{ b *Broker }

// ensureOffsetsTopic returns the offsets topic, creating it if it does
// not exist yet.
func (b *Broker) ensureOffsetsTopic() (*topic, error) {
	b.metaMu.Lock()
	defer b.metaMu.Unlock()
	if t := b.topics().byName[offsetsTopic]; t != nil {
		return t, nil
	}
	t, err := b.createTopic(offsetsTopic, b.offsetsTopicPartitions(), map[string]string{})
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", offsetsTopic, err)
	}
	return t, nil
}

// offsetsTopicPartitions is offsets.topic.num.partitions.
func (b *Broker) offsetsTopicPartitions() int32 {
	if n := int32(b.cfg.values.Int("offsets.topic.num.partitions")); n >= 1 {
		return n
	}
	return 50
}

func isInternalTopic(name string) bool { return name == offsetsTopic }

// Partitions is the count of the topic, or the count it will be created
// with.
func (v offsetsTopicView) Partitions() int32 {
	if t := v.b.topics().byName[offsetsTopic]; t != nil {
		return int32(len(t.parts))
	}
	return v.b.offsetsTopicPartitions()
}

// viewBatchBytes bounds one batch appended to the offsets topic.
const viewBatchBytes = 256 << 10

// Append creates the topic on its first record.
func (v offsetsTopicView) Append(partition int32, recs []group.KeyValue) error {
	t, err := v.b.ensureOffsetsTopic()
	if err != nil {
		return err
	}
	if partition < 0 || int(partition) >= len(t.parts) {
		return fmt.Errorf("%s has no partition %d", offsetsTopic, partition)
	}
	p := t.parts[partition]
	if p.offline != nil {
		return p.offline
	}
	now := time.Now()
	for len(recs) > 0 {
		n, size := 0, 0
		for n < len(recs) && (n == 0 || size+len(recs[n].Key)+len(recs[n].Value) < viewBatchBytes) {
			size += len(recs[n].Key) + len(recs[n].Value) + 32
			n++
		}
		if _, err := p.log.Append(viewBatch(recs[:n], now), now); err != nil {
			return fmt.Errorf("%s-%d: %w", offsetsTopic, partition, err)
		}
		recs = recs[n:]
		p.notify()
	}
	return nil
}

// viewBatch encodes records as one uncompressed record batch, without a
// producer id.
func viewBatch(recs []group.KeyValue, now time.Time) []byte {
	var body []byte
	for i, kv := range recs {
		r := kmsg.Record{OffsetDelta: int32(i), Key: kv.Key, Value: kv.Value}
		r.Length = int32(len(r.AppendTo(nil)) - 1) // Length 0 takes one byte
		body = r.AppendTo(body)
	}
	ms := now.UnixMilli()
	rb := kmsg.RecordBatch{
		PartitionLeaderEpoch: -1, Magic: 2, LastOffsetDelta: int32(len(recs) - 1),
		FirstTimestamp: ms, MaxTimestamp: ms,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1,
		NumRecords: int32(len(recs)), Records: body,
	}
	raw := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

// Scan reads every partition of the offsets topic from its log start.
func (v offsetsTopicView) Scan(fn func(partition int32, key, value []byte)) error {
	t := v.b.topics().byName[offsetsTopic]
	if t == nil {
		return nil
	}
	var errs []error
	var buf []byte
	for _, p := range t.parts {
		if p.offline != nil {
			errs = append(errs, p.offline)
			continue
		}
		off := p.log.StartOffset()
		for off < p.log.EndOffset() {
			res, err := p.log.Read(buf, off, 1<<20, true)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s-%d: %w", offsetsTopic, p.index, err))
				break
			}
			buf = res.Buf
			if len(res.Records) == 0 {
				break
			}
			next, err := scanBatches(res.Records, off, func(key, value []byte) { fn(p.index, key, value) })
			if err != nil {
				errs = append(errs, fmt.Errorf("%s-%d: %w", offsetsTopic, p.index, err))
				break
			}
			if next <= off {
				break
			}
			off = next
		}
	}
	return errors.Join(errs...)
}

// scanBatches decodes stored batches and calls fn for each record at or
// above from; it returns the offset after the last batch.
func scanBatches(data []byte, from int64, fn func(key, value []byte)) (int64, error) {
	next := from
	for len(data) >= 12 {
		size := int(int32(binary.BigEndian.Uint32(data[8:]))) + 12
		if size < 12 || size > len(data) {
			break
		}
		var rb kmsg.RecordBatch
		if err := rb.ReadFrom(data[:size]); err != nil {
			return next, err
		}
		data = data[size:]
		next = rb.FirstOffset + int64(rb.LastOffsetDelta) + 1
		if rb.Attributes&0x7 != 0 {
			return next, errors.New("compressed batch in the offsets topic")
		}
		recs := rb.Records
		for range rb.NumRecords {
			var r kmsg.Record
			n, ok := recordLen(recs)
			if !ok {
				return next, errors.New("bad record")
			}
			if err := r.ReadFrom(recs[:n]); err != nil {
				return next, err
			}
			recs = recs[n:]
			if rb.FirstOffset+int64(r.OffsetDelta) >= from {
				fn(r.Key, r.Value)
			}
		}
	}
	return next, nil
}

// recordLen is the encoded length of the record at the start of b (its
// varint length prefix included).
func recordLen(b []byte) (int, bool) {
	l, n := binary.Varint(b)
	if n <= 0 || l < 0 || int64(n)+l > int64(len(b)) {
		return 0, false
	}
	return n + int(l), true
}

var _ group.OffsetsTopic = offsetsTopicView{}

package dumplog

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
)

// producerEntry is one producer of a producer snapshot, as Kafka's tool
// prints it: the producer's last batch (when it has one) and its open
// transaction.
type producerEntry struct {
	producerID       int64
	epoch            int16
	coordinatorEpoch int32
	txnFirstOffset   int64 // -1: no open transaction
	lastTimestamp    int64
	hasBatch         bool
	firstSeq         int32
	lastSeq          int32
	lastOffset       int64
	offsetDelta      int32
}

func (e producerEntry) String() string {
	txn := "OptionalLong.empty"
	if e.txnFirstOffset >= 0 {
		txn = fmt.Sprintf("OptionalLong[%d]", e.txnFirstOffset)
	}
	s := fmt.Sprintf("producerId: %d producerEpoch: %d coordinatorEpoch: %d currentTxnFirstOffset: %s lastTimestamp: %d ",
		e.producerID, e.epoch, e.coordinatorEpoch, txn, e.lastTimestamp)
	if e.hasBatch {
		s += fmt.Sprintf("firstSequence: %d lastSequence: %d lastOffset: %d offsetDelta: %d timestamp: %d",
			e.firstSeq, e.lastSeq, e.lastOffset, e.offsetDelta, e.lastTimestamp)
	}
	return s
}

// dumpProducerSnapshot prints the producers of a producer snapshot file,
// one line each.
func (d *dumper) dumpProducerSnapshot(file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var entries []producerEntry
	if len(b) >= 4 && string(b[:4]) == tributarySnapshotMagic {
		entries, err = decodeTributarySnapshot(b)
	} else {
		entries, err = decodeKafkaSnapshot(b)
	}
	if err != nil {
		return fmt.Errorf("producer snapshot %s: %w", file, err)
	}
	for _, e := range entries {
		fmt.Fprintln(d.out, e)
	}
	return nil
}

// Kafka's producer snapshot (ProducerSnapshot.json, version 1): version
// int16, CRC-32C uint32 of everything after it, then an int32 count of
// 46-byte entries: producer id int64, epoch int16, last sequence int32,
// last offset int64, offset delta int32, timestamp int64, coordinator
// epoch int32, current transaction's first offset int64 (-1: none).
const (
	kafkaSnapshotEntrySize = 46
	kafkaSnapshotHeader    = 10 // version, crc, count
)

func decodeKafkaSnapshot(b []byte) ([]producerEntry, error) {
	be := binary.BigEndian
	if len(b) < kafkaSnapshotHeader {
		return nil, fmt.Errorf("%w: snapshot failed schema validation: %d bytes are fewer than its header", errCorrupt, len(b))
	}
	if v := int16(be.Uint16(b)); v != 1 {
		return nil, fmt.Errorf("%w: snapshot contained an unknown file version %d", errCorrupt, v)
	}
	count := int32(be.Uint32(b[6:]))
	body := b[kafkaSnapshotHeader:]
	if count < 0 || int64(count)*kafkaSnapshotEntrySize != int64(len(body)) {
		return nil, fmt.Errorf("%w: snapshot failed schema validation: %d entries do not fill %d bytes", errCorrupt, count, len(body))
	}
	stored, computed := be.Uint32(b[2:]), crc32.Checksum(b[6:], castagnoli)
	if stored != computed {
		return nil, fmt.Errorf("%w: snapshot is corrupt (CRC is no longer valid). Stored crc: %d. Computed crc: %d", errCorrupt, stored, computed)
	}
	entries := make([]producerEntry, count)
	for i := range entries {
		p := body[i*kafkaSnapshotEntrySize:]
		e := producerEntry{
			producerID:       int64(be.Uint64(p)),
			epoch:            int16(be.Uint16(p[8:])),
			lastSeq:          int32(be.Uint32(p[10:])),
			lastOffset:       int64(be.Uint64(p[14:])),
			offsetDelta:      int32(be.Uint32(p[22:])),
			lastTimestamp:    int64(be.Uint64(p[26:])),
			coordinatorEpoch: int32(be.Uint32(p[34:])),
			txnFirstOffset:   int64(be.Uint64(p[38:])),
		}
		if e.lastOffset >= 0 {
			e.hasBatch = true
			e.firstSeq = decrementSequence(e.lastSeq, e.offsetDelta)
		}
		if e.txnFirstOffset < 0 {
			e.txnFirstOffset = -1
		}
		entries[i] = e
	}
	return entries, nil
}

func decrementSequence(seq, delta int32) int32 {
	if seq < delta {
		return int32(int64(1)<<31-1) - (delta - seq) + 1
	}
	return seq - delta
}

// The bundled broker's producer snapshot: magic "TRPS", version uint16 (1
// or 2), the offset it was taken at int64, a count int32, per producer its
// id int64, epoch int16, open transaction's first offset int64 (version
// 2; -1 when none) and up to five batches (a count int8, each first and
// last sequence int32, first and last offset int64 and max timestamp
// int64, oldest first), then a CRC-32C of all before it.
const tributarySnapshotMagic = "TRPS"

func decodeTributarySnapshot(b []byte) ([]producerEntry, error) {
	be := binary.BigEndian
	if len(b) < 22 {
		return nil, fmt.Errorf("%w: %d bytes are fewer than a snapshot's header", errCorrupt, len(b))
	}
	body := b[:len(b)-4]
	if stored, computed := be.Uint32(b[len(b)-4:]), crc32.Checksum(body, castagnoli); stored != computed {
		return nil, fmt.Errorf("%w: snapshot is corrupt (CRC is no longer valid). Stored crc: %d. Computed crc: %d", errCorrupt, stored, computed)
	}
	version := be.Uint16(b[4:])
	if version != 1 && version != 2 {
		return nil, fmt.Errorf("%w: snapshot contained an unknown file version %d", errCorrupt, version)
	}
	count := int64(be.Uint32(b[14:]))
	p := body[18:]
	head := 11
	if version >= 2 {
		head += 8
	}
	if count*int64(head) > int64(len(p)) {
		return nil, fmt.Errorf("%w: %d producers do not fit in %d bytes", errCorrupt, count, len(p))
	}
	entries := make([]producerEntry, 0, count)
	for range count {
		if len(p) < head {
			return nil, fmt.Errorf("%w: snapshot cut short", errCorrupt)
		}
		e := producerEntry{producerID: int64(be.Uint64(p)), epoch: int16(be.Uint16(p[8:])), coordinatorEpoch: -1, txnFirstOffset: -1}
		p = p[10:]
		if version >= 2 {
			e.txnFirstOffset = int64(be.Uint64(p))
			p = p[8:]
		}
		n := int(p[0])
		p = p[1:]
		if len(p) < n*32 {
			return nil, fmt.Errorf("%w: snapshot cut short", errCorrupt)
		}
		if n > 0 { // the newest batch, as Kafka's snapshot keeps
			q := p[(n-1)*32:]
			e.hasBatch = true
			e.firstSeq = int32(be.Uint32(q))
			e.lastSeq = int32(be.Uint32(q[4:]))
			first := int64(be.Uint64(q[8:]))
			e.lastOffset = int64(be.Uint64(q[16:]))
			e.offsetDelta = int32(e.lastOffset - first)
			e.lastTimestamp = int64(be.Uint64(q[24:]))
		}
		p = p[n*32:]
		if e.txnFirstOffset < 0 {
			e.txnFirstOffset = -1
		}
		entries = append(entries, e)
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last producer", errCorrupt, len(p))
	}
	return entries, nil
}

// Kafka's .txnindex: 34-byte entries of version int16 (0), producer id
// int64, first offset int64, last offset int64 and last stable offset
// int64.
const txnEntrySize = 34

func (d *dumper) dumpTxnIndex(file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	be := binary.BigEndian
	for pos := 0; pos < len(b); pos += txnEntrySize {
		if len(b)-pos < txnEntrySize {
			return fmt.Errorf("transaction index %s position %d: %w: expected to read %d bytes of aborted transaction, found only %d", file, pos, errCorrupt, txnEntrySize, len(b)-pos)
		}
		e := b[pos:]
		if v := int16(be.Uint16(e)); v != 0 {
			return fmt.Errorf("transaction index %s position %d: %w: unexpected aborted transaction version %d", file, pos, errCorrupt, v)
		}
		fmt.Fprintf(d.out, "version: 0 producerId: %d firstOffset: %d lastOffset: %d lastStableOffset: %d\n",
			int64(be.Uint64(e[2:])), int64(be.Uint64(e[10:])), int64(be.Uint64(e[18:])), int64(be.Uint64(e[26:])))
	}
	return nil
}

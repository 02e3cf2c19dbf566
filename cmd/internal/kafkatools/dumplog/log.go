package dumplog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// recordIndent starts the line of a record, under its batch's line.
const recordIndent = "|"

// dumpLog prints a segment file's batches and, with deep iteration, their
// records, in the format of Kafka's DumpLogSegments.
func (d *dumper) dumpLog(file string) error {
	base, err := baseOffset(file)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "Log starting offset: %d\n", base)
	r, err := openSegment(file, int64(d.o.MaxBytes))
	if err != nil {
		return err
	}
	defer r.Close()
	path := absPath(file)
	var valid int64
	last := int64(-1)
	for {
		b, err := r.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		d.printBatch(b)
		if d.deep {
			recs, err := b.records()
			if err != nil {
				return fmt.Errorf("%s position %d (batch at offset %d): %w", file, b.position, b.FirstOffset, err)
			}
			for _, rec := range recs {
				if last != -1 && rec.offset != last+1 {
					add(&d.findings.nonConsecutive, path, last, rec.offset)
				}
				last = rec.offset
				if err := d.printRecord(b, rec); err != nil {
					return fmt.Errorf("%s position %d, offset %d: %w", file, b.position, rec.offset, err)
				}
			}
		}
		valid += int64(b.size())
	}
	if trailing := r.size() - valid; trailing > 0 && d.o.MaxBytes == DefaultMaxBytes {
		fmt.Fprintf(d.out, "Found %d invalid bytes at the end of %s\n", trailing, filepath.Base(file))
	}
	return nil
}

// printBatch writes a batch's line.
func (d *dumper) printBatch(b *batch) {
	codec := "unknown"
	if c := b.codec(); c < len(codecNames) {
		codec = codecNames[c]
	}
	fmt.Fprintf(d.out, "baseOffset: %d lastOffset: %d count: %d baseSequence: %d lastSequence: %d producerId: %d producerEpoch: %d partitionLeaderEpoch: %d isTransactional: %t isControl: %t deleteHorizonMs: %s position: %d %s: %d size: %d magic: %d compresscodec: %s crc: %d isvalid: %t\n",
		b.FirstOffset, b.lastOffset(), b.NumRecords, b.FirstSequence, b.lastSequence(),
		b.ProducerID, b.ProducerEpoch, b.PartitionLeaderEpoch, b.isTxn(), b.isControl(), b.deleteHorizon(),
		b.position, b.timestampType(), b.MaxTimestamp, b.size(), b.Magic, codec, b.crc(), b.valid())
}

// printRecord writes a record's line.
func (d *dumper) printRecord(b *batch, r record) error {
	var line strings.Builder
	prefix := recordIndent + " "
	if !d.o.SkipRecordMetadata {
		fmt.Fprintf(&line, "%soffset: %d %s: %d keySize: %d valueSize: %d sequence: %d headerKeys: [%s]",
			prefix, r.offset, b.timestampType(), r.timestamp, size(r.key), size(r.value), r.sequence, strings.Join(r.headerKeys, ","))
		prefix = " "
		if b.isControl() {
			control, err := describeControl(r)
			if err != nil {
				return err
			}
			line.WriteString(" " + control)
		}
	}
	if d.printData && !b.isControl() {
		if r.key != nil {
			line.WriteString(prefix + "key: " + javaString(r.key))
			prefix = " "
		}
		if r.value != nil {
			line.WriteString(" payload: " + javaString(r.value))
		}
	}
	line.WriteByte('\n')
	_, err := d.out.WriteString(line.String())
	return err
}

func size(b []byte) int {
	if b == nil {
		return -1
	}
	return len(b)
}

var controlTypes = []string{"ABORT", "COMMIT", "LEADER_CHANGE", "SNAPSHOT_HEADER", "SNAPSHOT_FOOTER", "KRAFT_VERSION", "KRAFT_VOTERS"}

// describeControl is what Kafka prints of a control record: the end
// transaction marker of a COMMIT or ABORT, the type of any other.
func describeControl(r record) (string, error) {
	if len(r.key) < 4 {
		return "", fmt.Errorf("%w: invalid value size found for end control record key: must have at least 4 bytes, but found only %d", errCorrupt, len(r.key))
	}
	if version := int16(binary.BigEndian.Uint16(r.key)); version < 0 {
		return "", fmt.Errorf("%w: invalid version found for control record: %d", errCorrupt, version)
	}
	typ := int16(binary.BigEndian.Uint16(r.key[2:]))
	switch {
	case typ == 0 || typ == 1:
		if len(r.value) < 6 {
			return "", fmt.Errorf("%w: invalid value size found for end control record value: must have at least 6 bytes, but found only %d", errCorrupt, len(r.value))
		}
		epoch := int32(binary.BigEndian.Uint32(r.value[2:]))
		return fmt.Sprintf("endTxnMarker: %s coordinatorEpoch: %d", controlTypes[typ], epoch), nil
	case typ > 1 && int(typ) < len(controlTypes):
		return fmt.Sprintf("controlType: %s(%d)", controlTypes[typ], typ), nil
	}
	return fmt.Sprintf("controlType: UNKNOWN(%d)", typ), nil
}

// javaString is what Java's new String(bytes, UTF_8) makes of b: each
// byte that is not part of valid UTF-8 becomes U+FFFD.
func javaString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var s strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		s.WriteRune(r) // utf8.RuneError for an invalid byte
		b = b[n:]
	}
	return s.String()
}

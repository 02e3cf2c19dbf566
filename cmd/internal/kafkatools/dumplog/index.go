package dumplog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Index entry sizes: an .index entry is a 4-byte offset relative to the
// segment's base and a 4-byte position in its .log file; a .timeindex
// entry an 8-byte timestamp and a 4-byte relative offset. Big-endian.
const (
	offsetEntrySize = 8
	timeEntrySize   = 12
)

type offsetEntry struct {
	offset   int64
	position int64
}

type timeEntry struct {
	timestamp int64
	offset    int64
}

// readOffsetIndex reads an .index file's entries (a partial last entry is
// left out, as Kafka does) and the file's length.
func readOffsetIndex(file string, base int64) ([]offsetEntry, int64, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, 0, err
	}
	entries := make([]offsetEntry, len(b)/offsetEntrySize)
	for i := range entries {
		e := b[i*offsetEntrySize:]
		entries[i] = offsetEntry{
			offset:   base + int64(int32(binary.BigEndian.Uint32(e))),
			position: int64(int32(binary.BigEndian.Uint32(e[4:]))),
		}
	}
	return entries, int64(len(b)), nil
}

func readTimeIndex(file string, base int64) ([]timeEntry, int64, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, 0, err
	}
	entries := make([]timeEntry, len(b)/timeEntrySize)
	for i := range entries {
		e := b[i*timeEntrySize:]
		entries[i] = timeEntry{
			timestamp: int64(binary.BigEndian.Uint64(e)),
			offset:    base + int64(int32(binary.BigEndian.Uint32(e[8:]))),
		}
	}
	return entries, int64(len(b)), nil
}

// offsetIndexSanity is the check a Kafka broker makes of an offset index
// at start-up, with its messages.
func offsetIndexSanity(path string, base int64, entries []offsetEntry, length int64) error {
	if n := len(entries); n > 0 && entries[n-1].offset < base {
		return fmt.Errorf("corrupt index found, index file %s has non-zero size but the last offset is %d which is less than the base offset %d", path, entries[n-1].offset, base)
	}
	if length%offsetEntrySize != 0 {
		return fmt.Errorf("index file %s is corrupt, found %d bytes which is neither positive nor a multiple of %d", path, length, offsetEntrySize)
	}
	return nil
}

func timeIndexSanity(path string, base int64, entries []timeEntry, length int64) error {
	if n := len(entries); n > 0 {
		last := entries[n-1]
		if last.timestamp < entries[0].timestamp {
			return fmt.Errorf("corrupt time index found, time index file (%s) has non-zero size but the last timestamp is %d which is less than the first timestamp %d", path, last.timestamp, entries[0].timestamp)
		}
		if last.offset < base {
			return fmt.Errorf("corrupt time index found, time index file (%s) has non-zero size but the last offset is %d which is less than the first offset %d", path, last.offset, base)
		}
	}
	if length%timeEntrySize != 0 {
		return fmt.Errorf("time index file %s is corrupt, found %d bytes which is neither positive nor a multiple of %d", path, length, timeEntrySize)
	}
	return nil
}

// namesBatch reports whether an index entry's offset names batch b: its
// last offset (Kafka's brokers) or its first (the bundled broker).
func namesBatch(offset int64, b *batch) bool {
	return offset == b.lastOffset() || offset == b.FirstOffset
}

// dumpIndex prints an offset index's entries and checks each against the
// batch at its position in the segment's .log file.
func (d *dumper) dumpIndex(file string) error {
	base, err := baseOffset(file)
	if err != nil {
		return err
	}
	entries, length, err := readOffsetIndex(file, base)
	if err != nil {
		return err
	}
	path := absPath(file)
	if len(entries) == 0 {
		fmt.Fprintf(d.out, "%s is empty.\n", file)
		return nil
	}
	if d.o.IndexSanityCheck {
		if err := offsetIndexSanity(path, base, entries, length); err != nil {
			return err
		}
		fmt.Fprintf(d.out, "%s passed sanity check.\n", file)
		return nil
	}
	logFile := siblingFile(file, ".log")
	r, err := openSegment(logFile, math.MaxInt64)
	if err != nil {
		return fmt.Errorf("index %s: its segment: %w", file, err)
	}
	defer r.Close()
	for i, e := range entries {
		// A crash may leave the preallocated tail of an index zeroed.
		if e.offset == base && i > 0 {
			return nil
		}
		r.seek(e.position)
		b, err := r.next()
		switch {
		case errors.Is(err, io.EOF):
			add(&d.findings.indexMismatches, path, e.offset, -1)
		case err != nil:
			return fmt.Errorf("index %s entry %d (offset %d position %d): %w", file, i, e.offset, e.position, err)
		case !namesBatch(e.offset, b):
			add(&d.findings.indexMismatches, path, e.offset, b.lastOffset())
		}
		if !d.o.VerifyIndexOnly {
			fmt.Fprintf(d.out, "offset: %d position: %d\n", e.offset, e.position)
		}
	}
	return nil
}

// dumpTimeIndex prints a time index's entries and checks each: its offset
// is that of a batch, its timestamp that batch's largest, and larger than
// the entry's before it.
func (d *dumper) dumpTimeIndex(file string) error {
	base, err := baseOffset(file)
	if err != nil {
		return err
	}
	entries, length, err := readTimeIndex(file, base)
	if err != nil {
		return err
	}
	path := absPath(file)
	if d.o.IndexSanityCheck {
		if err := timeIndexSanity(path, base, entries, length); err != nil {
			return err
		}
		fmt.Fprintf(d.out, "%s passed sanity check.\n", file)
		return nil
	}
	// The offset index, when there is one, says where to start looking.
	var index []offsetEntry
	if idx := siblingFile(file, ".index"); fileExists(idx) {
		if index, _, err = readOffsetIndex(idx, base); err != nil {
			return fmt.Errorf("time index %s: %w", file, err)
		}
	}
	logFile := siblingFile(file, ".log")
	r, err := openSegment(logFile, math.MaxInt64)
	if err != nil {
		return fmt.Errorf("time index %s: its segment: %w", file, err)
	}
	defer r.Close()
	prev := int64(-1) // Kafka's NO_TIMESTAMP
	for i, e := range entries {
		if e.offset == base && i > 0 {
			return nil
		}
		r.seek(lookup(index, e.offset))
		b, err := findBatch(r, e.offset)
		switch {
		case err != nil:
			return fmt.Errorf("time index %s entry %d (timestamp %d offset %d): %w", file, i, e.timestamp, e.offset, err)
		case b == nil:
			add(&d.findings.timeNotFound, path, e.offset, -1)
		case !namesBatch(e.offset, b):
			add(&d.findings.timeNotFound, path, e.offset, b.lastOffset())
		default:
			recs, err := b.records()
			if err != nil {
				return fmt.Errorf("time index %s entry %d: %s position %d: %w", file, i, logFile, b.position, err)
			}
			max := int64(-1)
			for _, rec := range recs {
				max = maxInt(max, rec.timestamp)
			}
			if max != e.timestamp {
				add(&d.findings.timeMismatches, path, e.timestamp, max)
			}
			if prev >= e.timestamp {
				add(&d.findings.timeOutOfOrder, path, e.timestamp, prev)
			}
		}
		if !d.o.VerifyIndexOnly {
			fmt.Fprintf(d.out, "timestamp: %d offset: %d\n", e.timestamp, e.offset)
		}
		prev = e.timestamp
	}
	return nil
}

func maxInt(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// lookup is the position of the last index entry at or below offset, 0
// when there is none (the index's entries ascend).
func lookup(index []offsetEntry, offset int64) int64 {
	pos := int64(0)
	for _, e := range index {
		if e.offset > offset {
			break
		}
		pos = e.position
	}
	return pos
}

// findBatch reads on from r's position to the first batch whose last
// offset is at or above offset; nil when there is none.
func findBatch(r *segmentReader, offset int64) (*batch, error) {
	for {
		b, err := r.next()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if b.lastOffset() >= offset {
			return b, nil
		}
	}
}

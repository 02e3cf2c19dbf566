package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// logStartFile holds the log start offset when DeleteRecords has moved it
// past the first segment's base offset: the decimal offset and a newline.
// Kafka keeps these offsets in one log-start-offset-checkpoint file per log
// dir; this package keeps one per partition folder.
const logStartFile = "log-start-offset"

// DeleteRecords moves the log start offset up to offset (Kafka's
// DeleteRecords): records below it are no longer served, and whole
// segments below it are removed (the active segment stays). The new start
// is written to the partition folder, through a temporary file renamed
// into place, before it takes effect, so it survives a restart. An offset
// at or below the current start changes nothing; one beyond the log end is
// ErrOffsetOutOfRange. It returns the log start offset afterwards, or -1
// when it failed and the start did not move (an error with a start is a
// segment file that could not be removed; retention tries it again).
func (l *Log) DeleteRecords(offset int64) (int64, error) {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return -1, ErrClosed
	}
	if l.failed != nil {
		err := l.failed
		l.mu.Unlock()
		return -1, err
	}
	end := l.active().next
	if offset < 0 || offset > end {
		start := l.start
		l.mu.Unlock()
		return -1, fmt.Errorf("%w: offset %d is outside [%d, %d]", ErrOffsetOutOfRange, offset, start, end)
	}
	if offset <= l.start {
		start := l.start
		l.mu.Unlock()
		return start, nil
	}
	data := []byte(strconv.FormatInt(offset, 10) + "\n")
	// A failure to record the new start leaves the log as it was.
	if err := l.writeMetaFile(logStartFile, data); err != nil {
		l.mu.Unlock()
		return -1, fmt.Errorf("%w: delete records: %w", ErrStorage, err)
	}
	if err := SyncDir(l.dir); err != nil {
		l.mu.Unlock()
		return -1, fmt.Errorf("%w: delete records: %w", ErrStorage, err)
	}
	// Whole segments below the new start leave the log, oldest first, as
	// retention removes them.
	n := 0
	var errs []error
	for n < len(l.segs)-1 && l.segs[n+1].base <= offset {
		s := l.segs[n]
		if err := l.renameFile(s.path, s.path+deletedSuffix); err != nil {
			errs = append(errs, fmt.Errorf("delete records: %w", err))
			break
		}
		n++
	}
	removed := l.segs[:n]
	l.rmu.Lock()
	l.segs = append([]*segment(nil), l.segs[n:]...)
	l.start = offset
	l.rmu.Unlock()
	l.producers.expire(offset)
	l.mu.Unlock()
	if n > 0 {
		errs = append(errs, l.dropRenamed(removed, "delete records")...)
	}
	l.log.Info("deleted records", "log_start_offset", offset, "segments", n)
	return offset, errors.Join(errs...)
}

// loadLogStart applies the log start offset recorded by DeleteRecords, if
// it lies above the first segment's base; one beyond the log end (the log
// lost its tail in a crash) is capped to it.
func (l *Log) loadLogStart() {
	data, err := os.ReadFile(filepath.Join(l.dir, logStartFile))
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			l.log.Warn("cannot read the log start offset; using the first segment's", "dir", l.dir, "err", err)
		}
		return
	}
	off, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		l.log.Warn("bad log start offset file; using the first segment's", "file", filepath.Join(l.dir, logStartFile), "err", err)
		return
	}
	l.start = max(l.start, min(off, l.active().next))
}

// ProducerState is what the log knows of one idempotent producer.
type ProducerState struct {
	ProducerID    int64
	Epoch         int16
	LastSequence  int32
	LastTimestamp int64 // the largest timestamp of its last batch
	LastOffset    int64 // the last offset of its last batch
	// TxnStartOffset is the first offset of its open transaction, -1
	// when none is open.
	TxnStartOffset int64
}

// Producers lists the idempotent producers the log holds state for, by
// producer id.
func (l *Log) Producers() []ProducerState {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]ProducerState, 0, len(l.producers))
	for id, e := range l.producers {
		if len(e.batches) == 0 {
			continue
		}
		b := e.batches[len(e.batches)-1]
		out = append(out, ProducerState{ProducerID: id, Epoch: e.epoch, LastSequence: b.lastSeq, LastTimestamp: b.maxTs, LastOffset: b.lastOffset, TxnStartOffset: e.txnFirst})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ProducerID < out[j].ProducerID })
	return out
}

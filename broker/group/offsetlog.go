package group

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tributary-io/tributary/config/atomicfile"
	"github.com/tributary-io/tributary/internal/binfield"
)

// The offsets log is one append-only file, Dir/offsets.log:
//
//	file   = header record*
//	header = "TRIBOFF" version:uint8            (8 bytes, version 1)
//	record = length:uint32 crc:uint32 payload   (big endian; length of payload,
//	                                              CRC-32C of payload)
//	payload = kind:uint8 fields...
//
// with these kinds (strings are uint16 length + bytes, metadata is uint32
// length + bytes, times are Unix milliseconds):
//
//	1 commit        group topic partition:int32 offset:int64 leaderEpoch:int32
//	                metadata commitTime:int64 expireTime:int64 (-1: none)
//	2 deleteOffset  group topic partition:int32
//	3 deleteGroup   group
//	4 deleteTopic   topic
//	5 groupMeta     group protocolType protocol generation:int32 empty:uint8 time:int64
//	6 txnCommit     the fields of commit, then producerID:int64: an offset
//	                committed in a transaction (TxnOffsetCommit), pending
//	                until its producer's txnEnd
//	7 txnEnd        group producerID:int64 commit:uint8: the producer's
//	                transaction ended; its pending offsets of the group
//	                become committed (commit 1) or are dropped
//
// Replaying the records in order gives the committed offsets of every group.
// Open reads the file up to the first record that is torn or fails its CRC
// (everything after it was never acknowledged: a commit is acknowledged only
// once its record is fsynced), then rewrites the live state into
// offsets.log.tmp, fsyncs it, renames it over offsets.log and fsyncs Dir. The
// same rewrite runs while serving once the file has grown well past its live
// size.
const (
	logName     = "offsets.log"
	tmpName     = logName + atomicfile.TempSuffix
	logVersion  = 1
	frameHeader = 8
	// maxPayload bounds a record; a longer length field is corruption.
	maxPayload = 64 << 20
)

var logMagic = [8]byte{'T', 'R', 'I', 'B', 'O', 'F', 'F', logVersion}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt reports an offsets log whose header is not one this package
// writes.
var ErrCorrupt = errors.New("group: offsets log corrupt")

type recordKind uint8

const (
	kindCommit recordKind = iota + 1
	kindDeleteOffset
	kindDeleteGroup
	kindDeleteTopic
	kindGroupMeta
	kindTxnCommit
	kindTxnEnd
)

// record is one entry of the offsets log. Which fields matter depends on
// kind.
type record struct {
	kind      recordKind
	group     string
	topic     string
	partition int32

	// commit
	offset      int64
	leaderEpoch int32
	metadata    string
	commitTime  int64
	expireTime  int64

	// txnCommit, txnEnd
	producerID int64
	commit     bool
	// applied lists, for a txnEnd that committed, the partitions whose
	// offsets it made visible (set by apply, not stored).
	applied []topicPartition

	// groupMeta
	protocolType string
	protocol     string
	generation   int32
	empty        bool
	time         int64
}

// appendRecord appends r, framed, to b.
func appendRecord(b []byte, r *record) []byte {
	start := len(b)
	b = append(b, make([]byte, frameHeader)...)
	b = append(b, byte(r.kind))
	switch r.kind {
	case kindCommit, kindTxnCommit:
		b = binfield.AppendStr(b, r.group)
		b = binfield.AppendStr(b, r.topic)
		b = binary.BigEndian.AppendUint32(b, uint32(r.partition))
		b = binary.BigEndian.AppendUint64(b, uint64(r.offset))
		b = binary.BigEndian.AppendUint32(b, uint32(r.leaderEpoch))
		b = binary.BigEndian.AppendUint32(b, uint32(len(r.metadata)))
		b = append(b, r.metadata...)
		b = binary.BigEndian.AppendUint64(b, uint64(r.commitTime))
		b = binary.BigEndian.AppendUint64(b, uint64(r.expireTime))
		if r.kind == kindTxnCommit {
			b = binary.BigEndian.AppendUint64(b, uint64(r.producerID))
		}
	case kindTxnEnd:
		b = binfield.AppendStr(b, r.group)
		b = binary.BigEndian.AppendUint64(b, uint64(r.producerID))
		var c byte
		if r.commit {
			c = 1
		}
		b = append(b, c)
	case kindDeleteOffset:
		b = binfield.AppendStr(b, r.group)
		b = binfield.AppendStr(b, r.topic)
		b = binary.BigEndian.AppendUint32(b, uint32(r.partition))
	case kindDeleteGroup:
		b = binfield.AppendStr(b, r.group)
	case kindDeleteTopic:
		b = binfield.AppendStr(b, r.topic)
	case kindGroupMeta:
		b = binfield.AppendStr(b, r.group)
		b = binfield.AppendStr(b, r.protocolType)
		b = binfield.AppendStr(b, r.protocol)
		b = binary.BigEndian.AppendUint32(b, uint32(r.generation))
		var e byte
		if r.empty {
			e = 1
		}
		b = append(b, e)
		b = binary.BigEndian.AppendUint64(b, uint64(r.time))
	default:
		panic(fmt.Sprintf("group: append record of unknown kind %d", r.kind))
	}
	payload := b[start+frameHeader:]
	binary.BigEndian.PutUint32(b[start:], uint32(len(payload)))
	binary.BigEndian.PutUint32(b[start+4:], crc32.Checksum(payload, castagnoli))
	return b
}

// decodePayload decodes one record payload (CRC already checked).
func decodePayload(p []byte) (record, error) {
	r := binfield.Reader{B: p}
	rec := record{kind: recordKind(r.U8())}
	switch rec.kind {
	case kindCommit, kindTxnCommit:
		rec.group = r.Str()
		rec.topic = r.Str()
		rec.partition = int32(r.U32())
		rec.offset = int64(r.U64())
		rec.leaderEpoch = int32(r.U32())
		rec.metadata = r.Blob()
		rec.commitTime = int64(r.U64())
		rec.expireTime = int64(r.U64())
		if rec.kind == kindTxnCommit {
			rec.producerID = int64(r.U64())
		}
	case kindTxnEnd:
		rec.group = r.Str()
		rec.producerID = int64(r.U64())
		rec.commit = r.U8() != 0
	case kindDeleteOffset:
		rec.group = r.Str()
		rec.topic = r.Str()
		rec.partition = int32(r.U32())
	case kindDeleteGroup:
		rec.group = r.Str()
	case kindDeleteTopic:
		rec.topic = r.Str()
	case kindGroupMeta:
		rec.group = r.Str()
		rec.protocolType = r.Str()
		rec.protocol = r.Str()
		rec.generation = int32(r.U32())
		rec.empty = r.U8() != 0
		rec.time = int64(r.U64())
	default:
		return rec, fmt.Errorf("unknown record kind %d", rec.kind)
	}
	if r.Bad {
		return rec, errors.New("short record")
	}
	if len(r.B) != 0 {
		return rec, fmt.Errorf("%d trailing bytes in record", len(r.B))
	}
	return rec, nil
}

// decodeLog decodes the records of a whole file. It returns the records
// before the first invalid one and the length of that valid prefix; a file
// shorter than the header is empty. An unknown header is ErrCorrupt.
func decodeLog(data []byte) (recs []record, valid int, err error) {
	if len(data) < len(logMagic) {
		return nil, 0, nil
	}
	if [8]byte(data[:8]) != logMagic {
		return nil, 0, fmt.Errorf("%w: header %q", ErrCorrupt, data[:8])
	}
	pos := len(logMagic)
	for pos+frameHeader <= len(data) {
		n := binary.BigEndian.Uint32(data[pos:])
		sum := binary.BigEndian.Uint32(data[pos+4:])
		if n == 0 || n > maxPayload || uint64(pos+frameHeader)+uint64(n) > uint64(len(data)) {
			break
		}
		payload := data[pos+frameHeader : pos+frameHeader+int(n)]
		if crc32.Checksum(payload, castagnoli) != sum {
			break
		}
		rec, derr := decodePayload(payload)
		if derr != nil {
			break
		}
		recs = append(recs, rec)
		pos += frameHeader + int(n)
	}
	return recs, pos, nil
}

// batch is a group of records written with one write and one fsync. Every
// request whose records are in the batch waits on done; err is set before
// done is closed.
type batch struct {
	recs []record
	buf  []byte
	done chan struct{}
	err  error
}

func newBatch() *batch { return &batch{done: make(chan struct{})} }

// offsetLog is the open offsets log. The file, size and the repair state
// belong to the coordinator's writer goroutine; mu guards the batch being
// filled, the last write error and closing.
type offsetLog struct {
	dir  string
	f    *os.File
	size int64 // where the last batch written whole and fsynced ends
	// compactAt is the size at which the writer rewrites the file.
	compactAt int64
	// slack is how far beyond twice the live size the file may grow.
	slack int64
	// broken: a write or fsync failed, so the file may hold part of a
	// batch past size; the next batch first repairs it. stale: a
	// compaction renamed a new file into place but f is still the old
	// one. dirDirty: that rename is not known to be durable.
	broken, stale, dirDirty bool

	// syncs counts fsyncs of appended batches; beforeSync, if set, runs
	// before each (tests).
	syncs      atomic.Int64
	beforeSync func()
	// fault, if set (tests), is asked before each write (sync false) and
	// fsync (sync true) of a batch; an error it returns is that call's,
	// after partial bytes of the batch were written.
	fault func(sync bool, size int) (partial int, err error)

	mu       sync.Mutex
	cur      *batch
	inflight *batch // being written by the writer; nil when idle
	err      error  // the last write error, until a write succeeds
	closing  bool
	kick     chan struct{}
}

// readLogFile reads and decodes Dir/offsets.log; a missing file is empty.
// dropped is how many bytes past the valid prefix were ignored.
func readLogFile(dir string) (recs []record, dropped int, err error) {
	data, err := os.ReadFile(filepath.Join(dir, logName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read offsets log: %w", err)
	}
	recs, valid, err := decodeLog(data)
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", filepath.Join(dir, logName), err)
	}
	return recs, len(data) - valid, nil
}

// writeSnapshot atomically replaces Dir/offsets.log with the header and
// snap (framed records): temp file, fsync, rename, fsync of Dir
// (atomicfile). renamed says whether the new file is in place, even when
// an error follows.
func writeSnapshot(dir string, snap []byte) (renamed bool, err error) {
	if err := atomicfile.Replace(filepath.Join(dir, logName), append(logMagic[:], snap...), 0o644); err != nil {
		return false, fmt.Errorf("write offsets log: %w", err)
	}
	return true, syncDir(dir)
}

// syncDir fsyncs dir (atomicfile.SyncDir).
func syncDir(dir string) error { return atomicfile.SyncDir(dir) }

// openLog writes snap as the new log and opens it for appending.
func openLog(dir string, snap []byte, slack int64) (*offsetLog, error) {
	if _, err := writeSnapshot(dir, snap); err != nil {
		return nil, err
	}
	l := &offsetLog{dir: dir, slack: slack, cur: newBatch(), kick: make(chan struct{}, 1)}
	if err := l.reopen(int64(len(logMagic) + len(snap))); err != nil {
		return nil, err
	}
	return l, nil
}

// reopen opens the file after a snapshot of size bytes was written.
func (l *offsetLog) reopen(size int64) error {
	path := filepath.Join(l.dir, logName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if l.f != nil {
		l.f.Close()
	}
	l.f = f
	l.size = size
	l.compactAt = 2*size + l.slack
	return nil
}

// append adds records to the batch being filled and returns that batch.
// Once closing, the returned batch is already done with an error. (After
// a write error batches are still taken: the writer repairs the file
// before it writes the next one.)
func (l *offsetLog) append(recs ...record) *batch {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		b := newBatch()
		b.err = errClosed
		close(b.done)
		return b
	}
	for i := range recs {
		l.cur.buf = appendRecord(l.cur.buf, &recs[i])
	}
	l.cur.recs = append(l.cur.recs, recs...)
	select {
	case l.kick <- struct{}{}:
	default:
	}
	return l.cur
}

// take swaps out the batch being filled.
func (l *offsetLog) take() (b *batch, closing bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b = l.cur
	l.cur = newBatch()
	l.inflight = nil
	if len(b.recs) > 0 {
		l.inflight = b
	}
	return b, l.closing
}

// pendingBatch returns the last batch not yet done, if any: once it is
// done, every record appended before the call is on disk and applied.
func (l *offsetLog) pendingBatch() *batch {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.cur.recs) > 0 {
		return l.cur
	}
	return l.inflight
}

// write appends b to the file and fsyncs it, first repairing the file if
// an earlier write failed. A failure leaves the file to be repaired by the
// next write; b's records are not applied (their requests are refused).
func (l *offsetLog) write(b *batch) error {
	if l.broken {
		if err := l.repair(); err != nil {
			return l.failed(err)
		}
	}
	var (
		n   int
		err error
	)
	if l.fault != nil {
		if partial, ferr := l.fault(false, len(b.buf)); ferr != nil {
			l.f.Write(b.buf[:min(max(partial, 0), len(b.buf))])
			err = ferr
		}
	}
	if err == nil {
		n, err = l.f.Write(b.buf)
	}
	if err == nil {
		if l.beforeSync != nil {
			l.beforeSync()
		}
		if l.fault != nil {
			_, err = l.fault(true, 0)
		}
		if err == nil {
			err = l.f.Sync()
		}
		l.syncs.Add(1)
	}
	if err != nil {
		return l.failed(fmt.Errorf("append to %s: %w", filepath.Join(l.dir, logName), err))
	}
	l.size += int64(n)
	l.mu.Lock()
	l.err = nil
	l.mu.Unlock()
	return nil
}

// failed records a write error: the file needs repair before the next
// write.
func (l *offsetLog) failed(err error) error {
	l.broken = true
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
	return err
}

// repair brings the file back to a valid log ending at size, the end of
// the last batch written whole and fsynced: it opens the file a failed
// compaction renamed into place, makes that rename durable, and cuts off
// whatever part of a failed batch reached the file (an fsync error may
// also have left such bytes, never acknowledged), then fsyncs it.
func (l *offsetLog) repair() error {
	path := filepath.Join(l.dir, logName)
	if l.stale {
		if err := l.reopen(l.size); err != nil {
			return err
		}
		l.stale = false
	}
	if l.dirDirty {
		if err := syncDir(l.dir); err != nil {
			return err
		}
		l.dirDirty = false
	}
	if err := l.f.Truncate(l.size); err != nil {
		return fmt.Errorf("truncate %s to %d bytes: %w", path, l.size, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	l.broken = false
	return nil
}

var errClosed = errors.New("group: coordinator closed")

// writeLoop is the coordinator's writer goroutine: it writes each batch
// with one fsync, applies its records to the in-memory state in log order,
// and then releases the requests waiting on it. Concurrent commits land in
// the same batch while the previous one is being synced, so they share an
// fsync. It drains the last batch and returns once the log is closing.
func (c *Coordinator) writeLoop() {
	l := c.olog
	for {
		<-l.kick
		for {
			b, closing := l.take()
			if len(b.recs) == 0 {
				close(b.done)
				if closing {
					return
				}
				break
			}
			wasBroken := l.broken
			b.err = l.write(b)
			switch {
			case b.err != nil && !wasBroken:
				c.log.Error("offsets log write failed; its commits are refused, and each later commit tries again", "err", b.err)
			case b.err != nil:
				c.log.Debug("offsets log write failed again", "err", b.err)
			case wasBroken:
				c.log.Info("offsets log written again after a failure; commits are accepted", "file", filepath.Join(l.dir, logName))
			}
			var vc *viewChanges
			c.mu.Lock()
			if b.err == nil {
				for i := range b.recs {
					c.apply(&b.recs[i], false)
				}
				if c.cfg.OffsetsTopic != nil {
					vc = c.viewDiff(c.viewTouched(b.recs), false)
				}
			} else {
				for i := range b.recs {
					c.unpend(&b.recs[i])
				}
			}
			var snap []byte
			if b.err == nil && l.size >= l.compactAt {
				snap = c.snapshot()
			}
			c.mu.Unlock()
			// The offsets topic has the batch's changes before its
			// requests are answered (see OffsetsTopic).
			c.writeView(vc)
			close(b.done)
			if snap != nil {
				c.compact(snap)
			}
		}
	}
}

// compact rewrites the log from snap, a snapshot of the state after the
// last written record.
//
// If the new file is not in place, the old one stays in use (it is whole)
// and the rewrite is tried again once the file has grown by slack. If it
// is in place but could not be opened, or the rename not made durable,
// the next write repairs that first.
func (c *Coordinator) compact(snap []byte) {
	l := c.olog
	before := l.size
	renamed, err := writeSnapshot(l.dir, snap)
	if !renamed {
		c.log.Error("cannot compact the offsets log; it keeps growing", "err", err)
		l.compactAt = l.size + l.slack
		return
	}
	size := int64(len(logMagic) + len(snap))
	if err != nil {
		l.dirDirty = true
	}
	if rerr := l.reopen(size); rerr != nil {
		l.stale, l.size = true, size
		err = errors.Join(err, rerr)
	}
	if err != nil {
		c.log.Error("compact offsets log", "err", l.failed(err))
		return
	}
	c.log.Debug("compacted offsets log", "before", before, "after", l.size)
}

// closeLog drains pending batches, stops the writer and closes the file.
func (c *Coordinator) closeLog() error {
	l := c.olog
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
	c.writerDone.Wait()
	l.mu.Lock()
	err := l.err
	l.mu.Unlock()
	if serr := l.f.Sync(); err == nil && serr != nil {
		err = fmt.Errorf("fsync offsets log: %w", serr)
	}
	if cerr := l.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close offsets log: %w", cerr)
	}
	return err
}

// snapshot encodes the live state: each group's metadata and committed
// offsets, groups and partitions in sorted order. Called with mu held.
func (c *Coordinator) snapshot() []byte {
	var b []byte
	names := make([]string, 0, len(c.groups))
	for name := range c.groups {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		g := c.groups[name]
		if g.protocolType != "" || g.generation > 0 {
			m := g.metaRecord(c.clk.Now())
			b = appendRecord(b, &m)
		}
		for _, tp := range g.sortedOffsets() {
			o := g.offsets[tp]
			b = appendRecord(b, &record{
				kind: kindCommit, group: name, topic: tp.topic, partition: tp.partition,
				offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata,
				commitTime: o.commitTime, expireTime: o.expireTime,
			})
		}
		pids := make([]int64, 0, len(g.txnOffsets))
		for pid := range g.txnOffsets {
			pids = append(pids, pid)
		}
		slices.Sort(pids)
		for _, pid := range pids {
			offs := g.txnOffsets[pid]
			tps := make([]topicPartition, 0, len(offs))
			for tp := range offs {
				tps = append(tps, tp)
			}
			slices.SortFunc(tps, compareTopicPartition)
			for _, tp := range tps {
				o := offs[tp]
				b = appendRecord(b, &record{
					kind: kindTxnCommit, group: name, topic: tp.topic, partition: tp.partition,
					offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata,
					commitTime: o.commitTime, expireTime: o.expireTime, producerID: pid,
				})
			}
		}
	}
	return b
}

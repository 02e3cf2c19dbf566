package txn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/tributary-io/tributary/config/atomicfile"
	"github.com/tributary-io/tributary/internal/binfield"
)

// The state log is one append-only file, Dir/transactions.log:
//
//	file    = header record*
//	header  = "TRIBTXN" version:uint8              (8 bytes, version 1)
//	record  = length:uint32 crc:uint32 payload     (big endian; CRC-32C of payload)
//	payload = id producerID:int64 producerEpoch:int16
//	          lastProducerID:int64 lastProducerEpoch:int16
//	          timeoutMs:int32 state:uint8 startMs:int64 updateMs:int64
//	          partitions:uint32 { topic partition:int32 }*
//	          groups:uint32 { group }*
//
// Strings are a uint16 length and the bytes. Each record is the whole
// metadata of one transactional id after a change; the last record of an
// id wins, and a record in state Dead removes the id. Open keeps the
// records up to the first torn or corrupt one (none after it was
// acknowledged: a change is answered only once its record is fsynced),
// then rewrites the live records into transactions.log.tmp, fsyncs it and
// renames it into place; the same rewrite runs while serving once the file
// is well past twice its live size.
const (
	stateLogName    = "transactions.log"
	stateLogVersion = 1
	frameHeader     = 8
	maxPayload      = 16 << 20
)

var (
	stateMagic = [8]byte{'T', 'R', 'I', 'B', 'T', 'X', 'N', stateLogVersion}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// ErrCorrupt reports a state log whose header is not one this package
// writes.
var ErrCorrupt = errors.New("txn: state log corrupt")

// record is the persisted metadata of one transactional id.
type record struct {
	id            string
	pid           int64
	epoch         int16
	lastPID       int64
	lastEpoch     int16
	timeout       time.Duration
	state         State
	start, update time.Time
	partitions    []TopicPartition // sorted
	groups        []string         // sorted
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return -1
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms < 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// encode appends r, framed, to b.
func (r *record) encode(b []byte) []byte {
	be := binary.BigEndian
	start := len(b)
	b = append(b, make([]byte, frameHeader)...)
	b = binfield.AppendStr(b, r.id)
	b = be.AppendUint64(b, uint64(r.pid))
	b = be.AppendUint16(b, uint16(r.epoch))
	b = be.AppendUint64(b, uint64(r.lastPID))
	b = be.AppendUint16(b, uint16(r.lastEpoch))
	b = be.AppendUint32(b, uint32(r.timeout.Milliseconds()))
	b = append(b, byte(r.state))
	b = be.AppendUint64(b, uint64(millis(r.start)))
	b = be.AppendUint64(b, uint64(millis(r.update)))
	b = be.AppendUint32(b, uint32(len(r.partitions)))
	for _, tp := range r.partitions {
		b = binfield.AppendStr(b, tp.Topic)
		b = be.AppendUint32(b, uint32(tp.Partition))
	}
	b = be.AppendUint32(b, uint32(len(r.groups)))
	for _, g := range r.groups {
		b = binfield.AppendStr(b, g)
	}
	payload := b[start+frameHeader:]
	be.PutUint32(b[start:], uint32(len(payload)))
	be.PutUint32(b[start+4:], crc32.Checksum(payload, castagnoli))
	return b
}

func decodeRecord(p []byte) (record, error) {
	r := binfield.Reader{B: p}
	var rec record
	rec.id = r.Str()
	rec.pid = int64(r.U64())
	rec.epoch = int16(r.U16())
	rec.lastPID = int64(r.U64())
	rec.lastEpoch = int16(r.U16())
	rec.timeout = time.Duration(r.U32()) * time.Millisecond
	rec.state = State(r.U8())
	rec.start = fromMillis(int64(r.U64()))
	rec.update = fromMillis(int64(r.U64()))
	n := int(r.U32())
	if n > len(r.B)/6 {
		return rec, errors.New("partition count beyond the record")
	}
	for range n {
		tp := TopicPartition{Topic: r.Str()}
		tp.Partition = int32(r.U32())
		rec.partitions = append(rec.partitions, tp)
	}
	n = int(r.U32())
	if n > len(r.B)/2 {
		return rec, errors.New("group count beyond the record")
	}
	for range n {
		rec.groups = append(rec.groups, r.Str())
	}
	switch {
	case r.Bad:
		return rec, errors.New("short record")
	case len(r.B) != 0:
		return rec, fmt.Errorf("%d trailing bytes in record", len(r.B))
	case rec.state > StateDead:
		return rec, fmt.Errorf("unknown state %d", rec.state)
	case rec.id == "":
		return rec, errors.New("empty transactional id")
	}
	return rec, nil
}

// decodeStateLog decodes a whole file: the records before the first bad
// one, and how many bytes follow them.
func decodeStateLog(data []byte) ([]record, int, error) {
	if len(data) < len(stateMagic) {
		return nil, len(data), nil
	}
	if [8]byte(data[:8]) != stateMagic {
		return nil, 0, fmt.Errorf("%w: header %q", ErrCorrupt, data[:8])
	}
	var recs []record
	pos := len(stateMagic)
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
		rec, err := decodeRecord(payload)
		if err != nil {
			break
		}
		recs = append(recs, rec)
		pos += frameHeader + int(n)
	}
	return recs, len(data) - pos, nil
}

// stateLog is the open state log. mu serialises appends and rewrites;
// live holds the last encoded record of each id, what a rewrite writes.
type stateLog struct {
	dir  string
	mu   sync.Mutex
	f    *os.File
	size int64
	live map[string][]byte
	// liveSize is the sum of the live records' sizes.
	liveSize int64
	// fault, if set (tests), fails writes.
	fault func() error
}

// openStateLog reads Dir/transactions.log and rewrites it with its live
// records; it returns them.
func openStateLog(dir string) (*stateLog, []record, int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, 0, fmt.Errorf("txn: %w", err)
	}
	path := filepath.Join(dir, stateLogName)
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, 0, fmt.Errorf("txn: read %s: %w", path, err)
	}
	recs, dropped, err := decodeStateLog(data)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("txn: read %s: %w", path, err)
	}
	l := &stateLog{dir: dir, live: map[string][]byte{}}
	last := map[string]record{}
	for _, r := range recs {
		if r.state == StateDead {
			delete(last, r.id)
			continue
		}
		last[r.id] = r
	}
	ids := make([]string, 0, len(last))
	for id := range last {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]record, 0, len(ids))
	for _, id := range ids {
		r := last[id]
		l.setLive(id, r.encode(nil))
		out = append(out, r)
	}
	if err := l.rewrite(); err != nil {
		return nil, nil, 0, err
	}
	return l, out, dropped, nil
}

func (l *stateLog) setLive(id string, enc []byte) {
	l.liveSize -= int64(len(l.live[id]))
	if enc == nil {
		delete(l.live, id)
		return
	}
	l.live[id] = enc
	l.liveSize += int64(len(enc))
}

// rewrite replaces the file with the live records and reopens it for
// appends. mu is held (or the log is not shared yet).
func (l *stateLog) rewrite() error {
	ids := make([]string, 0, len(l.live))
	for id := range l.live {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	data := append([]byte(nil), stateMagic[:]...)
	for _, id := range ids {
		data = append(data, l.live[id]...)
	}
	path := filepath.Join(l.dir, stateLogName)
	if err := atomicfile.Replace(path, data, 0o644); err != nil {
		return fmt.Errorf("txn: rewrite %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0o644)
	if l.f != nil {
		// Replaced: appends to the old file would be lost.
		l.f.Close()
		l.f = nil
	}
	if err != nil {
		return fmt.Errorf("txn: open %s: %w", path, err)
	}
	l.f, l.size = f, int64(len(data))
	return nil
}

// append writes r and fsyncs it. A failed write is cut off again, so the
// file keeps ending with a whole record.
func (l *stateLog) append(r *record) error {
	enc := r.encode(nil)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return errors.New("txn: state log closed")
	}
	err := func() error {
		if l.fault != nil {
			if err := l.fault(); err != nil {
				return err
			}
		}
		if _, err := l.f.WriteAt(enc, l.size); err != nil {
			return err
		}
		return l.f.Sync()
	}()
	if err != nil {
		l.f.Truncate(l.size)
		return fmt.Errorf("txn: write %s: %w", filepath.Join(l.dir, stateLogName), err)
	}
	l.size += int64(len(enc))
	if r.state == StateDead {
		l.setLive(r.id, nil)
	} else {
		l.setLive(r.id, enc)
	}
	if l.size > 2*l.liveSize+1<<20 {
		if err := l.rewrite(); err != nil {
			// The old file is whole and still in use; a later append
			// tries again.
			return nil
		}
	}
	return nil
}

func (l *stateLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

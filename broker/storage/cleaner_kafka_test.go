package storage

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// Scenarios of Kafka's LogCleanerTest (core/src/test/scala/unit/kafka/log),
// with their assertions: which keys and offsets a log holds after each
// pass. Kafka cleans [log start, dirty end) against the map of
// [first dirty, dirty end); so does Clean, up to the active segment.

// txnLog is a compacted log for these scenarios, rolled by hand.
type txnLog struct {
	t   *testing.T
	l   *Log
	seq map[int64]int32
}

func newTxnLog(t *testing.T) *txnLog {
	o := DefaultOptions()
	o.Compact, o.Delete = true, false
	return &txnLog{t: t, l: openLog(t, t.TempDir(), o, true, 0), seq: map[int64]int32{}}
}

// txn appends one transactional batch of producer pid with the keys
// (values equal to the keys).
func (x *txnLog) txn(pid int64, keys ...int) {
	x.t.Helper()
	var recs []kv
	for _, k := range keys {
		recs = append(recs, rec(fmt.Sprint(k), fmt.Sprint(k)))
	}
	mustAppend(x.t, x.l, keyedBatch(x.t, time.Now().UnixMilli(), 0, pid, x.seq[pid], true, recs...))
	x.seq[pid] += int32(len(keys))
}

func (x *txnLog) commit(pid int64) { mustControl(x.t, x.l, pid, 0, true) }
func (x *txnLog) abort(pid int64)  { mustControl(x.t, x.l, pid, 0, false) }

func (x *txnLog) roll() {
	x.t.Helper()
	x.l.mu.Lock()
	err := x.l.roll()
	x.l.mu.Unlock()
	if err != nil {
		x.t.Fatal(err)
	}
	if err := x.l.Flush(); err != nil {
		x.t.Fatal(err)
	}
}

func (x *txnLog) clean(now time.Time) {
	x.t.Helper()
	mustClean(x.t, x.l, now, true)
}

// keys lists the keys of the data records, in offset order.
func (x *txnLog) keys() string {
	var out []string
	for _, r := range readRecords(x.t, x.l) {
		out = append(out, r.key)
	}
	return strings.Join(out, " ")
}

// offsets lists the offsets of every record, markers included.
func (x *txnLog) offsets() []int64 {
	var out []int64
	for _, h := range readAll(x.t, x.l, x.l.StartOffset()) {
		if h.Control() {
			out = append(out, h.BaseOffset)
		}
	}
	for _, r := range readRecords(x.t, x.l) {
		out = append(out, r.offset)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (x *txnLog) check(keys string, offsets []int64) {
	x.t.Helper()
	if got := x.keys(); got != keys {
		x.t.Fatalf("keys %q, want %q", got, keys)
	}
	if offsets != nil {
		if got := x.offsets(); !reflect.DeepEqual(got, offsets) {
			x.t.Fatalf("offsets %v, want %v", got, offsets)
		}
	}
}

// testCleanWithTransactionsSpanningSegments.
func TestKafkaCleanWithTransactionsSpanningSegments(t *testing.T) {
	x := newTxnLog(t)
	defer x.l.Close()
	x.txn(1, 1, 2)
	x.txn(3, 2, 3)
	x.txn(2, 3, 4)
	x.roll()
	x.txn(2, 5, 6)
	x.txn(3, 6, 7)
	x.txn(1, 7, 8)
	x.abort(2)
	x.txn(3, 8, 9)
	x.commit(3)
	x.txn(1, 9, 10)
	x.abort(1)
	// Only the first segment is cleaned.
	x.clean(time.Now())
	x.check("2 3 5 6 6 7 7 8 8 9 9 10", nil)
	x.roll()
	mustAppend(t, x.l, keyedBatch(t, time.Now().UnixMilli(), 0, -1, 0, false, rec("11", "11")))
	mustAppend(t, x.l, keyedBatch(t, time.Now().UnixMilli(), 0, -1, 0, false, rec("12", "12")))
	x.roll()
	x.clean(time.Now())
	x.check("2 3 6 7 8 9 11 12", nil)
}

// testCommitMarkerRemoval.
func TestKafkaCommitMarkerRemoval(t *testing.T) {
	x := newTxnLog(t)
	defer x.l.Close()
	large := time.Now().Add(24 * time.Hour)
	x.txn(1, 1)
	x.txn(1, 2, 3)
	x.commit(1)
	x.txn(1, 2)
	x.commit(1)
	x.roll()
	// The marker stays while its transaction has records.
	x.clean(large)
	x.check("1 3 2", []int64{0, 2, 3, 4, 5})
	x.txn(1, 1, 3)
	x.commit(1)
	x.roll()
	// The marker at 3 stays: the pass found records of its transaction.
	x.clean(large)
	x.check("2 1 3", []int64{3, 4, 5, 6, 7, 8})
	// Not removed before its horizon...
	x.clean(large)
	x.check("2 1 3", []int64{3, 4, 5, 6, 7, 8})
	// ...and removed after.
	x.clean(large.Add(100 * 365 * 24 * time.Hour))
	x.check("2 1 3", []int64{4, 5, 6, 7, 8})
}

// testDeletedBatchesWithNoMessagesRead.
func TestKafkaDeletedBatchesWithNoMessagesRead(t *testing.T) {
	x := newTxnLog(t)
	defer x.l.Close()
	large := time.Now().Add(24 * time.Hour)
	x.txn(1, 1)
	x.abort(1)
	x.txn(1, 2)
	x.txn(1, 2)
	x.commit(1)
	x.roll()
	x.clean(large)
	x.check("2", []int64{1, 3, 4})
	// The first pass gives the abort marker its horizon, the second,
	// after it, removes it.
	x.clean(large)
	x.clean(large.Add(24*time.Hour + time.Millisecond))
	x.check("2", []int64{3, 4})
}

package connect

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ackRunner is a source runner whose batches are acknowledged by the test,
// in any order, with failures, or never: a fake of the cluster's answers.
type ackRunner struct {
	r  *sourceRunner
	sp *SourcePartition
}

func newAckRunner(t *testing.T) *ackRunner {
	t.Helper()
	w := &Worker{offsets: &OffsetStore{entries: map[string]*offsetEntry{}, kick: make(chan struct{}, 1), log: slog.New(slog.DiscardHandler)}}
	c := &connectorRuntime{w: w, spec: &connectorSpec{name: "src"}, log: slog.New(slog.DiscardHandler)}
	tr := &taskRuntime{c: c, log: c.log, state: StateRunning}
	return &ackRunner{
		r:  &sourceRunner{t: tr, w: w, keys: map[string][]*pendingOffset{}},
		sp: NewSourcePartition(map[string]any{"filename": "/var/log/a.log"}, "1:2:ab"),
	}
}

// batch makes and enqueues a batch of one record per [start, end) pair, as
// send does, at Kafka offsets from kafkaOff on.
func (a *ackRunner) batch(kafkaOff int64, ranges ...[2]int64) *sourceBatch {
	b := a.r.newBatch(len(ranges), 64)
	var cur *pendingOffset
	for i, rg := range ranges {
		kr := &b.krecs[i]
		kr.Topic, kr.Offset = "t", kafkaOff+int64(i)
		pos := appendPosition(nil, rg[0], rg[1])
		kr.Headers = []kgo.RecordHeader{{Key: HeaderSource, Value: a.sp.identity}, {Key: HeaderPosition, Value: pos}}
		if cur == nil {
			cur = b.noteOffset("src", a.sp)
		}
		cur.off.Position, cur.lastIdx = rg[1], i
	}
	a.r.enqueue(b)
	return b
}

func (a *ackRunner) stored(t *testing.T) int64 {
	t.Helper()
	off, ok, err := a.r.w.offsets.SourceOffset("src", a.sp.Key())
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return -1
	}
	return off.Position
}

// ack answers every record of b, failing those at the given indexes.
func ack(b *sourceBatch, fail map[int]error) {
	n := len(b.krecs)
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &b.krecs[i]
	}
	for i, rec := range recs {
		b.promise(rec, fail[i])
	}
}

// TestAcknowledgedPrefixOutOfOrder: batches acknowledged out of order store
// the offset of the longest acknowledged prefix only, with the Kafka offset
// of its last record.
func TestAcknowledgedPrefixOutOfOrder(t *testing.T) {
	a := newAckRunner(t)
	b1 := a.batch(0, [2]int64{0, 10})
	b2 := a.batch(1, [2]int64{10, 20}, [2]int64{20, 30})
	b3 := a.batch(3, [2]int64{30, 40})
	ack(b3, nil)
	if got := a.stored(t); got != -1 {
		t.Fatalf("stored %d after only the third batch was acknowledged", got)
	}
	ack(b1, nil)
	if got := a.stored(t); got != 10 {
		t.Fatalf("stored %d, want 10", got)
	}
	ack(b2, nil)
	if got := a.stored(t); got != 40 {
		t.Fatalf("stored %d, want 40", got)
	}
	off, _, _ := a.r.w.offsets.SourceOffset("src", a.sp.Key())
	if off.Record != (RecordRef{Topic: "t", Offset: 3}) || off.Identity != "1:2:ab" {
		t.Fatalf("stored %+v", off)
	}
	if a.r.failure() != nil || a.r.t.stateOf() != StateRunning {
		t.Fatal("no failure expected")
	}
}

// TestAcknowledgedPrefixFailure: one record of the middle batch is refused
// while the batches around it land. The offset stays before that batch for
// good, the task is FAILED at once, and the error names the file and the
// refused record's position.
func TestAcknowledgedPrefixFailure(t *testing.T) {
	a := newAckRunner(t)
	b1 := a.batch(0, [2]int64{0, 10})
	b2 := a.batch(1, [2]int64{10, 20}, [2]int64{20, 30}, [2]int64{30, 40})
	b3 := a.batch(4, [2]int64{40, 50})
	ack(b1, nil)
	ack(b3, nil)
	ack(b2, map[int]error{1: kerr.MessageTooLarge})
	if got := a.stored(t); got != 10 {
		t.Fatalf("stored %d, want 10 (before the batch with the refused record)", got)
	}
	if a.r.t.stateOf() != StateFailed {
		t.Fatalf("task %s, want FAILED at once", a.r.t.stateOf())
	}
	err := a.r.failure()
	if !errors.Is(err, kerr.MessageTooLarge) || !strings.Contains(err.Error(), `position 20 of ["src",{"filename":"/var/log/a.log"}]`) {
		t.Fatalf("failure %v", err)
	}
	// Later acknowledgements never move it.
	b4 := a.batch(5, [2]int64{50, 60})
	ack(b4, nil)
	if got := a.stored(t); got != 10 {
		t.Fatalf("stored %d after a later batch, want 10", got)
	}
}

// TestAcknowledgedPrefixLost: an acknowledgement that never comes holds
// the offset before it, however many later ones arrive.
func TestAcknowledgedPrefixLost(t *testing.T) {
	a := newAckRunner(t)
	b1 := a.batch(0, [2]int64{0, 10})
	a.batch(1, [2]int64{10, 20}) // never answered
	for i := range 5 {
		ack(a.batch(int64(2+i), [2]int64{20 + 10*int64(i), 30 + 10*int64(i)}), nil)
	}
	ack(b1, nil)
	if got := a.stored(t); got != 10 {
		t.Fatalf("stored %d, want 10", got)
	}
}

// TestParsePosition: the position header, and the older one without the
// record's start.
func TestParsePosition(t *testing.T) {
	for _, c := range []struct {
		in         string
		start, end int64
		ok         bool
	}{
		{"12:12", 0, 12, true},
		{"5:0", 5, 5, true},
		{"791253245:198", 791253047, 791253245, true},
		{"42", -1, 42, true},
		{"3:9", 0, 0, false},
		{"9:-3", 0, 0, false},
		{"-3", 0, 0, false},
		{"x:1", 0, 0, false},
		{"", 0, 0, false},
	} {
		s, e, ok := parsePosition([]byte(c.in))
		if ok != c.ok || ok && (s != c.start || e != c.end) {
			t.Errorf("%q: %d %d %v", c.in, s, e, ok)
		}
	}
}

// TestAppendSpanJoins: spans joined as they are appended reach what the
// records one by one reach, from every position, across gaps, a record
// without its start, an unreadable header and a stream read twice.
func TestAppendSpanJoins(t *testing.T) {
	recs := []span{{0, 10, true}, {10, 25, true}, {25, 30, true}, {40, 50, true}, {50, 60, false},
		{60, 70, true}, {-1, 80, true}, {80, 90, true}, {0, 10, true}, {10, 20, true}}
	var joined []span
	for _, s := range recs {
		joined = appendSpan(joined, s)
	}
	if len(joined) >= len(recs) {
		t.Fatalf("%d spans from %d records: nothing joined", len(joined), len(recs))
	}
	for pos := int64(0); pos <= 95; pos++ {
		if got, want := chainOver(joined, pos), chainOver(recs, pos); got != want {
			t.Errorf("from %d: joined spans reach %d, the records %d", pos, got, want)
		}
	}
}

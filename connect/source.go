package connect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect/data"
	"github.com/tributary-io/tributary/connect/transforms"
)

// Header keys carried by every record of a source partition: the identity
// of the stream it was read from and the source position after it.
const (
	HeaderSource   = "tributary.source"
	HeaderPosition = "tributary.position"
)

// sourceRunner runs one source task: poll, convert, produce, and record the
// source offsets that the cluster has acknowledged.
//
// The offset of a source partition advances only over an acknowledged
// prefix of what was sent for it: each batch's part in a partition waits in
// that partition's queue (keys) until every earlier part is acknowledged.
// The first record that cannot be delivered stops the partition there for
// good and fails the task at once, naming the record's position; what was
// sent after it is never counted, so a restart resumes at that record.
type sourceRunner struct {
	t    *taskRuntime
	w    *Worker
	task SourceTask

	keyConv, valConv Converter
	passValue        bool // value converter copies bytes unchanged
	headers          bool // position.headers: records carry HeaderSource and HeaderPosition

	// chain is the connector's transforms (nil: none). With one, from
	// holds, for each source partition, where the position header of its
	// next sent record starts: the end of the last record sent, so that a
	// record's header covers the records dropped before it and the chain
	// that Produced follows has no gap; refs holds each key's last Kafka
	// record, for the offsets of batches whose records were all dropped.
	// Both are used by one goroutine (send) and under keysMu (advance).
	chain *transforms.Chain
	// typed: the chain works on fields; transform then converts too.
	typed bool
	// bad is errors.tolerance and errors.log.*: with all, a record the
	// transforms or converters fail on is logged and skipped (its offset
	// passes as a dropped record's does).
	bad  badRecords
	from map[*SourcePartition]int64
	refs map[string]RecordRef

	inflight sync.WaitGroup // batches not yet fully acknowledged
	errMu    sync.Mutex
	err      error              // first failure
	stopRun  context.CancelFunc // ends run's loop: set once by run
	// stopProduce ends the context records are produced under, when the
	// cluster refuses a record, so that records behind it that are still
	// buffered are not sent. A record refused before sending (too large)
	// does not end it: the records before that one go.
	stopProduce context.CancelFunc

	lastTopic string
	lastMeta  topicMeta

	keysMu sync.Mutex // guards keys
	keys   map[string][]*pendingOffset

	freeMu sync.Mutex // guards free
	free   []*sourceBatch
}

// pendingOffset is one batch's last offset of one source partition, stored
// once it and everything sent before it for that partition is acknowledged.
type pendingOffset struct {
	key     string
	off     SourceOffset
	lastIdx int // index in the batch of the partition's last record sent; -1: none (all dropped)
	// anchor, for an offset with no record of its own (a Mark), is the
	// index of the batch's last record sent before it to the Kafka
	// partition its records go to; -1: none. Its Kafka offset comes before
	// any record sent after the offset.
	anchor int
	since  RecordRef // the last record's SourceRecord.Since
	forget bool      // the stored offset is removed (SourceRecord.Forget)
	done   bool
	failed bool
}

// maxFreeBatches bounds the acknowledged batches kept for reuse: about what
// the producer's buffer holds at the default batch.size.
const maxFreeBatches = 6

func newSourceRunner(t *taskRuntime, task SourceTask) *sourceRunner {
	r := &sourceRunner{t: t, w: t.c.w, task: task, keyConv: t.c.spec.keyConv, valConv: t.c.spec.valConv, keys: map[string][]*pendingOffset{},
		headers: positionHeaders(t.c.spec.vals), chain: t.c.spec.chain, typed: t.c.spec.chain.Typed()}
	if t.c.spec.vals != nil {
		r.bad = newBadRecords(t.c.spec.vals)
	}
	if r.chain != nil {
		r.from, r.refs = map[*SourcePartition]int64{}, map[string]RecordRef{}
	}
	switch r.valConv.(type) {
	case stringConverter, byteArrayConverter:
		r.passValue = true
	}
	t.c.w.metrics.started(t, task)
	return r
}

// setErr keeps the first failure and ends the run loop at once.
func (r *sourceRunner) setErr(err error) bool {
	r.errMu.Lock()
	first := r.err == nil
	if first {
		r.err = err
	}
	stop := r.stopRun
	r.errMu.Unlock()
	if first && stop != nil {
		stop()
	}
	return first
}

func (r *sourceRunner) failure() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.err
}

func (r *sourceRunner) run(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	// Not ended by a stop: what was handed to the producer is still sent
	// and acknowledged while finish waits for it.
	produceCtx, stopProduce := context.WithCancel(context.WithoutCancel(parent))
	defer stopProduce()
	r.errMu.Lock()
	r.stopRun, r.stopProduce = cancel, stopProduce
	failed := r.err != nil
	r.errMu.Unlock()
	defer r.finish()
	if failed {
		return
	}
	for {
		pctx, pcancel, ok := r.t.gate.wait(ctx)
		if !ok {
			return
		}
		polled := time.Now()
		recs, err := r.task.Poll(pctx)
		r.t.metrics().pollReturned(len(recs), time.Since(polled))
		paused := pctx.Err() != nil // before pcancel, which ends pctx too
		pcancel()
		if r.failure() != nil {
			return // the task was failed by a record: it says why
		}
		if ctx.Err() != nil {
			// Records read but not sent are read again on the next start:
			// offsets only move over what the cluster acknowledged.
			return
		}
		if err != nil {
			if paused {
				continue
			}
			r.t.fail(fmt.Errorf("poll: %w", err))
			return
		}
		if len(recs) > 0 {
			if err := r.send(ctx, produceCtx, recs); err != nil {
				if r.setErr(err) {
					r.t.fail(err)
				}
				return
			}
		}
	}
}

// finish stops the task and waits for its records to be acknowledged.
func (r *sourceRunner) finish() {
	if err := r.task.Stop(); err != nil {
		r.t.log.Warn("stopping task", "err", err)
	}
	done := make(chan struct{})
	go func() { // owned by finish: ends when every batch is acknowledged or failed
		r.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(r.w.cfg.ShutdownTimeout):
		r.t.log.Warn("records still unacknowledged at shutdown; they will be read again on the next start if they were lost")
	}
}

// sourceBatch is the records of one poll on their way to the cluster. Its
// slabs hold every record, header and converted byte, so a batch costs a
// handful of allocations however many records it has; once the cluster has
// answered for all of them the batch is kept for reuse.
type sourceBatch struct {
	r       *sourceRunner
	krecs   []kgo.Record
	hdrs    []kgo.RecordHeader
	arena   []byte
	pending atomic.Int64
	failed  atomic.Bool
	offsets []*pendingOffset
	bytes   int64
}

// newBatch returns an empty batch for n records with room for arenaSize
// bytes, reusing an acknowledged one when there is one.
func (r *sourceRunner) newBatch(n, arenaSize int) *sourceBatch {
	var b *sourceBatch
	r.freeMu.Lock()
	if k := len(r.free); k > 0 {
		b = r.free[k-1]
		r.free[k-1] = nil
		r.free = r.free[:k-1]
	}
	r.freeMu.Unlock()
	if b == nil {
		b = &sourceBatch{r: r}
	}
	if cap(b.krecs) < n {
		b.krecs = make([]kgo.Record, n)
	} else {
		b.krecs = b.krecs[:n]
	}
	if cap(b.hdrs) < 3*n {
		b.hdrs = make([]kgo.RecordHeader, 0, 3*n)
	}
	if cap(b.arena) < arenaSize {
		b.arena = make([]byte, 0, arenaSize)
	}
	return b
}

// release keeps an acknowledged batch for reuse: the client has let go of
// its records once their promises were called.
func (b *sourceBatch) release() {
	clear(b.krecs)
	clear(b.hdrs[:cap(b.hdrs)])
	b.hdrs = b.hdrs[:0]
	b.arena = b.arena[:0]
	clear(b.offsets)
	b.offsets = b.offsets[:0]
	b.bytes = 0
	b.failed.Store(false)
	r := b.r
	r.freeMu.Lock()
	if len(r.free) < maxFreeBatches {
		r.free = append(r.free, b)
	}
	r.freeMu.Unlock()
}

func (r *sourceRunner) topicOf(ctx context.Context, topic string) (topicMeta, error) {
	if topic != r.lastTopic || r.lastMeta.parts == 0 {
		m, err := r.w.topicFor(ctx, topic, r.t.c)
		if err != nil {
			return topicMeta{}, err
		}
		r.lastTopic, r.lastMeta = topic, m
	}
	return r.lastMeta, nil
}

func (r *sourceRunner) partitionOf(m topicMeta, sp *SourcePartition) int32 {
	if sp == nil {
		return int32(r.t.id) % m.parts
	}
	return int32(sp.hash % uint32(m.parts))
}

// recordOverhead bounds what a record adds to its value and header bytes in
// a batch of its own: the batch header (61 bytes) and the record's varints.
const recordOverhead = 128

// encodedSize is an upper bound of the bytes a record takes in a batch of
// its own, which is what the producer's and the topic's limits are
// checked against.
func encodedSize(kr *kgo.Record) int {
	n := recordOverhead + len(kr.Key) + len(kr.Value)
	for _, h := range kr.Headers {
		n += len(h.Key) + len(h.Value) + 10
	}
	return n
}

// describe names a source partition and position for errors and logs.
// positionHeaders says whether a source connector's records carry the
// position headers (position.headers, on unless set to false).
func positionHeaders(vals *config.Values) bool {
	return vals == nil || !vals.Has("position.headers") || vals.Bool("position.headers")
}

func describe(sp *SourcePartition, pos int64) string {
	if sp == nil {
		return "record"
	}
	return fmt.Sprintf("record at position %d of %s", pos, sp.keyJSON)
}

// send converts and produces one poll's records. A record too large for its
// topic is not sent, nor anything after it: the records before it are, and
// the error returned names it.
func (r *sourceRunner) send(ctx, produceCtx context.Context, recs []SourceRecord) error {
	n := len(recs)
	arenaSize := 44 * n
	if !r.passValue {
		size := 0
		for i := range recs {
			size += len(recs[i].Value)
		}
		arenaSize += size + 64*n
	}
	b := r.newBatch(n, arenaSize)
	arena := b.arena
	var last *SourcePartition
	var cur *pendingOffset
	var tooLarge error
	limitTopic, limit := "", 0 // recordLimit of the topic of the record before
	var now time.Time
	if r.chain != nil {
		now = time.Now() // the records' timestamp, for TimestampRouter and Kafka alike
	}
	j := 0 // records to send so far
	for i := range recs {
		rec := &recs[i]
		topic, key, value, start := rec.Topic, rec.Key, rec.Value, rec.Start
		var extra []kgo.RecordHeader
		keep, converted := !rec.Mark, false
		if r.chain != nil && keep {
			var err error
			if topic, key, value, extra, keep, err = r.transform(rec, now); err != nil {
				r.t.metrics().badRecord(r.bad)
				if !r.bad.tolerateAll {
					tooLarge = err
					break
				}
				if r.bad.log {
					r.t.log.Error("bad record skipped (errors.tolerance=all)", "err", err)
				}
				keep = false
			}
			converted = r.typed
			start = r.headerStart(rec, keep)
		}
		if keep {
			kr := &b.krecs[j]
			kr.Topic = topic
			kr.Timestamp = now
			m, err := r.topicOf(ctx, topic)
			if err != nil {
				tooLarge = err
				break
			}
			kr.Partition = r.partitionOf(m, rec.Source)
			if key != nil && !converted {
				kr.Key = r.keyConv.FromConnect(nil, key)
			} else {
				kr.Key = key
			}
			if r.passValue || value == nil || converted {
				kr.Value = value
			} else {
				start := len(arena)
				arena = r.valConv.FromConnect(arena, value)
				kr.Value = arena[start:len(arena):len(arena)]
			}
			h := len(b.hdrs)
			if r.chain == nil {
				// Without transforms the task's headers go as they are;
				// with them, the chain was given them and returned extra.
				for _, rh := range rec.Headers {
					b.hdrs = append(b.hdrs, kgo.RecordHeader{Key: rh.Key, Value: rh.Value})
				}
			}
			if sp := rec.Source; sp != nil && r.headers {
				hstart := len(arena)
				arena = appendPosition(arena, start, rec.Position)
				b.hdrs = append(b.hdrs,
					kgo.RecordHeader{Key: HeaderSource, Value: sp.identity},
					kgo.RecordHeader{Key: HeaderPosition, Value: arena[hstart:len(arena):len(arena)]})
			}
			if k := len(b.hdrs); k > h {
				kr.Headers = b.hdrs[h:k:k]
			}
			if len(extra) > 0 {
				kr.Headers = append(extra[:len(extra):len(extra)], kr.Headers...)
			}
			if topic != limitTopic {
				limitTopic, limit = topic, r.w.recordLimit(topic)
			}
			if limit > 0 {
				if size := encodedSize(kr); size > limit {
					tooLarge = fmt.Errorf("%s is %d bytes with its headers, more than the %d bytes a record may have for topic %s (%s); it was not sent, nor anything after it",
						describe(rec.Source, rec.Start), size, limit, topic, r.w.limitReason(topic))
					break
				}
			}
			b.bytes += int64(len(value))
			j++
		}
		// A dropped record counts for its partition's offset as a sent one
		// does: the offset goes past it once what was sent before it is
		// acknowledged.
		if sp := rec.Source; sp != nil {
			if sp != last {
				cur = b.noteOffset(r.t.c.spec.name, sp)
				last = sp
			}
			cur.off.Position = rec.Position
			cur.forget = rec.Mark && rec.Forget
			cur.since = rec.Since
			if keep {
				cur.lastIdx = j - 1
			} else if rec.Mark && !rec.Forget {
				cur.anchor = r.anchorOf(ctx, b.krecs[:j], rec)
			}
			if rec.Proof != "" {
				cur.off.Proof = rec.Proof
			}
		}
	}
	clear(b.krecs[j:])
	b.krecs = b.krecs[:j]
	b.arena = arena
	if len(b.krecs) == 0 {
		if len(b.offsets) == 0 {
			b.release()
			return tooLarge
		}
		// Every record was dropped: the offsets are done at once, and stored
		// once the earlier batches of their partitions are acknowledged.
		r.enqueue(b)
		b.complete()
		return tooLarge
	}
	r.enqueue(b)
	promise := b.promise
	for i := range b.krecs {
		r.w.producer.Produce(produceCtx, &b.krecs[i], promise)
	}
	return tooLarge
}

// anchorOf returns the index in sent of the last record that goes to the
// Kafka partition of mark's source partition, or -1.
func (r *sourceRunner) anchorOf(ctx context.Context, sent []kgo.Record, mark *SourceRecord) int {
	if len(sent) == 0 {
		return -1
	}
	m, err := r.topicOf(ctx, mark.Topic)
	if err != nil {
		return -1
	}
	part := r.partitionOf(m, mark.Source)
	for i := len(sent) - 1; i >= 0; i-- {
		if sent[i].Topic == mark.Topic && sent[i].Partition == part {
			return i
		}
	}
	return -1
}

// enqueue queues a batch's offsets behind the earlier ones of their source
// partitions and counts its records as in flight.
func (r *sourceRunner) enqueue(b *sourceBatch) {
	r.keysMu.Lock()
	for _, o := range b.offsets {
		r.keys[o.key] = append(r.keys[o.key], o)
	}
	r.keysMu.Unlock()
	sent := int64(len(b.krecs))
	r.t.stats.records.Add(sent)
	r.t.stats.bytes.Add(b.bytes)
	b.pending.Store(sent)
	r.inflight.Add(1)
}

// appendPosition appends a record's position header, "end:length": the
// source offset after the record and how many bytes of the source it took
// (so its start is end-length). The length is small and repeats, so the
// header costs little more, compressed, than the end alone.
func appendPosition(b []byte, start, end int64) []byte {
	b = strconv.AppendInt(b, end, 10)
	b = append(b, ':')
	return strconv.AppendInt(b, end-start, 10)
}

// parsePosition reads a position header. Records written before headers
// carried the length hold the end alone (start -1).
func parsePosition(v []byte) (start, end int64, ok bool) {
	s := string(v)
	if a, b, cut := strings.Cut(s, ":"); cut {
		en, err1 := strconv.ParseInt(a, 10, 64)
		n, err2 := strconv.ParseInt(b, 10, 64)
		return en - n, en, err1 == nil && err2 == nil && n >= 0 && en >= n
	}
	en, err := strconv.ParseInt(s, 10, 64)
	return -1, en, err == nil && en >= 0
}

// sourceHeaders returns a record's source identity and position headers.
func sourceHeaders(rec *kgo.Record) (id, pos []byte) {
	for _, h := range rec.Headers {
		switch h.Key {
		case HeaderSource:
			id = h.Value
		case HeaderPosition:
			pos = h.Value
		}
	}
	return id, pos
}

// noteOffset returns sp's entry in b.offsets, adding it when it is new.
// Another generation of the same partition key (a rotated file) shares the
// stored entry; the later one in the batch wins when both are here.
func (b *sourceBatch) noteOffset(connector string, sp *SourcePartition) *pendingOffset {
	key := offsetKey(connector, sp.keyJSON)
	for i := len(b.offsets) - 1; i >= 0; i-- {
		if o := b.offsets[i]; o.key == key {
			o.off.Identity = string(sp.identity)
			o.off.Proof = ""
			return o
		}
	}
	o := &pendingOffset{key: key, off: SourceOffset{Identity: string(sp.identity)}, lastIdx: -1, anchor: -1}
	b.offsets = append(b.offsets, o)
	return o
}

func (b *sourceBatch) promise(rec *kgo.Record, err error) {
	r := b.r
	if err != nil {
		b.failed.Store(true)
		r.recordFailed(rec, err)
	}
	if b.pending.Add(-1) != 0 {
		return
	}
	b.complete()
}

// complete stores what a batch's offsets allow, once the cluster has
// answered for all its records (at once for a batch whose records were all
// dropped), and keeps the batch for reuse.
func (b *sourceBatch) complete() {
	r := b.r
	failed := b.failed.Load()
	r.keysMu.Lock()
	for _, o := range b.offsets { // one entry per key
		o.done, o.failed = true, failed
		switch i := max(o.lastIdx, o.anchor); {
		case failed:
		case o.since.Known():
			o.off.Record = o.since
		case i >= 0:
			kr := &b.krecs[i]
			o.off.Record = RecordRef{Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset}
		}
		r.advance(o.key)
	}
	r.keysMu.Unlock()
	if !failed {
		r.t.stats.acked.Add(int64(len(b.krecs)))
		r.t.metrics().written.mark(int64(len(b.krecs)))
	}
	b.release()
	r.inflight.Done()
}

// advance stores the offset of key's acknowledged prefix and drops it from
// the queue; a failed part stays at the head, so nothing after it is ever
// stored. keysMu is held.
func (r *sourceRunner) advance(key string) {
	q := r.keys[key]
	i := 0
	var last *pendingOffset
	var ref RecordRef
	for i < len(q) && q[i].done && !q[i].failed {
		last = q[i]
		if last.off.Record.Known() {
			ref = last.off.Record
		}
		i++
	}
	if last != nil {
		off := last.off
		if r.refs != nil && ref.Known() {
			r.refs[key] = ref
		}
		if !off.Record.Known() {
			// The last records were dropped, or the offset is a Mark with
			// no record before it in its batch: it names the last record
			// of the key that reached Kafka, which comes before anything
			// sent after it.
			if ref.Known() {
				off.Record = ref
			} else if ref, ok := r.refs[key]; ok {
				off.Record = ref
			} else {
				off.Record = r.w.offsets.recordOf(key)
			}
		}
		if last.forget {
			r.w.offsets.forget(key, r.w.seq.Add(1))
		} else {
			r.w.offsets.set(key, off, r.w.seq.Add(1))
		}
	}
	if i == len(q) {
		delete(r.keys, key)
		return
	}
	r.keys[key] = q[i:]
}

// recordFailed fails the task at the first record the cluster refused,
// naming it; a record dropped because the task is stopping is no failure
// (it is read again on the next start).
func (r *sourceRunner) recordFailed(rec *kgo.Record, err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) {
		r.setErr(err)
		return
	}
	where := "record"
	id, pos := sourceHeaders(rec)
	if start, _, ok := parsePosition(pos); ok && id != nil {
		where = fmt.Sprintf("record at position %d of the stream %s", start, id)
		r.keysMu.Lock()
	find:
		for key, q := range r.keys {
			for _, o := range q {
				if o.off.Identity == string(id) {
					where = fmt.Sprintf("record at position %d of %s", start, key)
					break find
				}
			}
		}
		r.keysMu.Unlock()
	}
	ferr := fmt.Errorf("producing the %s to %s/%d: %w; nothing after it is counted as sent, and a restart resumes at it", where, rec.Topic, rec.Partition, err)
	if r.setErr(ferr) {
		r.errMu.Lock()
		stop := r.stopProduce
		r.errMu.Unlock()
		if stop != nil {
			stop()
		}
		r.t.fail(ferr)
	}
}

// tailWindow is how many records of each partition are read back from its
// end when no stored offset says where a source's records were last
// written.
const tailWindow = 200000

// produced answers SourceTaskContext.Produced. With from.Record in the
// partition that p's records go to, it reads that partition after it;
// otherwise the last tailWindow records of every partition, since the
// stream may have been read under other source partitions (a file renamed
// within a task's set) whose records went to other partitions. It follows
// p's records that continue from from.Position without a gap.
func (w *Worker) produced(ctx context.Context, topic string, p *SourcePartition, from SourceOffset, c *connectorRuntime, pc *producedCache) (int64, error) {
	if c != nil && c.spec.chain != nil {
		// Where the transforms send the records of topic, when that depends
		// on the topic (and the day) alone; otherwise a restart after a
		// crash may send again what was sent since the last offset flush.
		topic = c.spec.chain.Route(topic, time.Now())
	}
	m, err := w.topicFor(ctx, topic, c)
	if err != nil {
		return 0, err
	}
	part := int32(p.hash % uint32(m.parts))
	starts, ends, err := w.listOffsets(ctx, topic, pc)
	if err != nil {
		return 0, err
	}
	bounds := func(q int32) (start, end int64, err error) {
		so, ok1 := starts.Lookup(topic, q)
		eo, ok2 := ends.Lookup(topic, q)
		if !ok1 || !ok2 || so.Err != nil || eo.Err != nil {
			return 0, 0, fmt.Errorf("list offsets of %s/%d: %v %v", topic, q, so.Err, eo.Err)
		}
		return so.Offset, eo.Offset, nil
	}
	start, end, err := bounds(part)
	if err != nil {
		return 0, err
	}
	ref := from.Record
	anchored := ref.Known() && ref.Topic == topic && ref.Partition == part
	lo := max(start, end-tailWindow)
	if anchored {
		lo = max(start, ref.Offset+1)
	}
	var own []span
	if lo < end {
		if own, err = w.spansOf(ctx, pc, topicPart{topic, part}, lo, end, p.identity); err != nil {
			return 0, err
		}
	}
	pos := chainOver(own, from.Position)
	if !anchored {
		others := make([][]span, 0, m.parts)
		for q := range int32(m.parts) {
			qs, qe, err := bounds(q)
			if err != nil {
				return 0, err
			}
			if q == part || max(qs, qe-tailWindow) >= qe {
				continue
			}
			sp, err := w.spansOf(ctx, pc, topicPart{topic, q}, max(qs, qe-tailWindow), qe, p.identity)
			if err != nil {
				return 0, err
			}
			if len(sp) > 0 {
				others = append(others, sp)
			}
		}
		// Records of one stream in several partitions: each partition's
		// in order, the partitions in any order, until none goes further.
		for moved := len(others) > 0; moved; {
			moved = false
			for _, sp := range append(others, own) {
				if next := chainOver(sp, pos); next != pos {
					pos, moved = next, true
				}
			}
		}
	}
	if pos == from.Position && len(own) > 0 && own[0].ok && own[0].start > from.Position && lo > start &&
		(from.Position == 0 || !anchored) {
		// The stream's records go on from further than where it is, so its
		// earlier ones are before lo: a file read in part, then its rotated
		// predecessor finished after it by a restart, whose record is the
		// one stored.
		return w.followEarlier(ctx, topic, part, start, lo, end, p.identity, from.Position)
	}
	return pos, nil
}

// span is where one record of a stream came from: [start, end) (ok false:
// its position header is unreadable).
type span struct {
	start, end int64
	ok         bool
}

// appendSpan appends a record's span to a stream's spans, joined to the
// one before when it continues it: following the joined span reaches what
// following both does, from any position, and a long stream takes a span
// per gap rather than per record.
func appendSpan(spans []span, s span) []span {
	if n := len(spans); n > 0 && s.ok && s.start >= 0 && spans[n-1].ok && spans[n-1].end == s.start {
		spans[n-1].end = s.end
		return spans
	}
	return append(spans, s)
}

// chainOver returns the position the records of spans, in order, reach
// from pos.
func chainOver(spans []span, pos int64) int64 {
	for _, s := range spans {
		pos = chainStep(pos, s.start, s.end, s.ok)
	}
	return pos
}

// followEarlier looks back from lo, in growing steps down to start, for the
// latest record of identity that covers pos, and follows the chain from it
// up to hi; pos when there is none.
func (w *Worker) followEarlier(ctx context.Context, topic string, part int32, start, lo, hi int64, identity []byte, pos int64) (int64, error) {
	w.log.Info("a source's records in the topic begin before where the lookup started; looking further back", "topic", topic, "partition", part, "before", lo, "identity", string(identity))
	step := int64(tailWindow)
	for end := lo; end > start; step *= 2 {
		begin := max(start, end-step)
		covering := int64(-1)
		err := w.readSent(ctx, topic, part, begin, end, func(off int64, id []byte, s, e int64, ok bool) {
			if string(id) == string(identity) && chainStep(pos, s, e, ok) != pos {
				covering = off
			}
		})
		if err != nil {
			return 0, err
		}
		if covering >= 0 {
			spans, err := w.spansOf(ctx, nil, topicPart{topic, part}, covering, hi, identity)
			return chainOver(spans, pos), err
		}
		end = begin
	}
	return pos, nil
}

// listOffsets returns the start and end offsets of topic's partitions,
// once per topic while pc is in use.
func (w *Worker) listOffsets(ctx context.Context, topic string, pc *producedCache) (starts, ends kadm.ListedOffsets, err error) {
	if pc != nil {
		pc.mu.Lock()
		o, ok := pc.offsets[topic]
		pc.mu.Unlock()
		if ok {
			return o[0], o[1], nil
		}
	}
	if starts, err = w.admin.ListStartOffsets(ctx, topic); err != nil {
		return nil, nil, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	if ends, err = w.admin.ListEndOffsets(ctx, topic); err != nil {
		return nil, nil, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	if pc != nil {
		pc.mu.Lock()
		if !pc.off {
			pc.offsets[topic] = [2]kadm.ListedOffsets{starts, ends}
		}
		pc.mu.Unlock()
	}
	return starts, ends, nil
}

// spansOf returns the records of identity in offsets [lo, hi) of tp, in
// order: from what pc read of tp (reading [lo, hi) first when pc does not
// hold it), or, pc nil or no longer in use, read now.
func (w *Worker) spansOf(ctx context.Context, pc *producedCache, tp topicPart, lo, hi int64, identity []byte) ([]span, error) {
	var out []span
	if pc != nil {
		pc.mu.Lock()
		defer pc.mu.Unlock()
	}
	if pc == nil || pc.off {
		err := w.readSent(ctx, tp.topic, tp.part, lo, hi, func(_ int64, id []byte, start, end int64, ok bool) {
			if string(id) == string(identity) {
				out = appendSpan(out, span{start, end, ok})
			}
		})
		return out, err
	}
	r := pc.parts[tp]
	if r == nil || r.lo > lo {
		r = &sentRange{lo: lo, hi: lo}
		err := w.readSent(ctx, tp.topic, tp.part, lo, hi, func(off int64, id []byte, start, end int64, ok bool) {
			s, seen := pc.ids[string(id)]
			if !seen {
				s = string(id)
				pc.ids[s] = s
			}
			r.recs = append(r.recs, sentRec{off: off, id: s, start: start, end: end, ok: ok})
			r.hi = off + 1
		})
		if err != nil {
			return nil, err
		}
		pc.parts[tp] = r
	}
	i, _ := slices.BinarySearchFunc(r.recs, lo, func(e sentRec, t int64) int { return cmp.Compare(e.off, t) })
	for _, e := range r.recs[i:] {
		if e.id == string(identity) {
			out = appendSpan(out, span{e.start, e.end, e.ok})
		}
	}
	return out, nil
}

// chainStep returns the position a chain at pos reaches with a record that
// covers [start, end) (ok false: its position header is unreadable).
func chainStep(pos, start, end int64, ok bool) int64 {
	switch {
	case !ok:
	case start <= pos && pos < end:
		// It starts where the chain is, or before it when it also stands
		// for records the transforms dropped (see
		// sourceRunner.headerStart), which the stored offset may have
		// gone past.
		return end
	case start < 0 && end > pos:
		return end // written before records carried their start
	}
	return pos
}

// readSent reads offsets [lo, hi) of one partition and calls each for every
// record with a source identity header, in offset order. Reading that takes
// longer than a minute stops early without an error: stopping short only
// means resuming earlier, so records are sent again and none is skipped.
func (w *Worker) readSent(ctx context.Context, topic string, part int32, lo, hi int64, each func(off int64, id []byte, start, end int64, ok bool)) error {
	res, err := kafkaclientOptions(w, w.cfg.ConsumerProps)
	if err != nil {
		return err
	}
	cl, err := newKgoClient(append(res,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {part: kgo.NewOffset().At(lo)}}),
	)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		fs := cl.PollFetches(pctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("reading %s/%d from offset %d: %w", topic, part, lo, err)
		}
		if pctx.Err() != nil {
			w.log.Warn("reading what was produced took too long; resuming from what was read", "topic", topic, "partition", part, "from", lo, "to", hi)
			return nil
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.Canceled) {
				ferr = err
			}
		})
		if ferr != nil {
			return fmt.Errorf("reading %s/%d from offset %d: %w", topic, part, lo, ferr)
		}
		done := false
		fs.EachRecord(func(rec *kgo.Record) {
			if done || rec.Offset >= hi {
				done = true
				return
			}
			if rec.Offset == hi-1 {
				done = true
			}
			id, p := sourceHeaders(rec)
			if id == nil {
				return
			}
			start, end, ok := parsePosition(p)
			each(rec.Offset, id, start, end, ok)
		})
		if done {
			return nil
		}
	}
}

// producedCache keeps what was read of each Kafka partition while a source
// task starts, so that a task that looks up many source partitions (a file
// each) reads each Kafka partition once rather than once per file. Records
// appended meanwhile are not the task's (it has sent nothing yet).
type producedCache struct {
	mu      sync.Mutex
	off     bool // the task has started: lookups read the cluster again
	offsets map[string][2]kadm.ListedOffsets
	parts   map[topicPart]*sentRange
	ids     map[string]string // identities, each kept once
}

type topicPart struct {
	topic string
	part  int32
}

// sentRange is what a partition holds in [lo, hi): every record with a
// source identity, in offset order.
type sentRange struct {
	lo, hi int64
	recs   []sentRec
}

type sentRec struct {
	off        int64
	id         string
	start, end int64
	ok         bool
}

func newProducedCache() *producedCache {
	return &producedCache{offsets: map[string][2]kadm.ListedOffsets{}, parts: map[topicPart]*sentRange{}, ids: map[string]string{}}
}

// stop ends the cache's use: later lookups read the cluster.
func (pc *producedCache) stop() {
	pc.mu.Lock()
	pc.off, pc.parts, pc.offsets, pc.ids = true, nil, nil, nil
	pc.mu.Unlock()
}

// transform runs the connector's transforms on rec, stamped now. It
// returns what to send, or keep false when a transformation dropped it; an
// error (a transformation failed, or routed the record to a topic name
// Kafka refuses) names the record.
//
// A chain that works on fields (typed) is given the record as Kafka's file
// source makes it, a string value of schema STRING (and a string key, if
// any), and what it returns is converted here: key and value are then the
// converters' bytes.
func (r *sourceRunner) transform(rec *SourceRecord, now time.Time) (topic string, key, value []byte, hdrs []kgo.RecordHeader, keep bool, err error) {
	if r.typed {
		return r.transformTyped(rec, now)
	}
	tr := transforms.Record{Topic: rec.Topic, Key: rec.Key, Value: rec.Value, Timestamp: now, Headers: taskHeaders(rec.Headers)}
	keep, err = r.chain.Apply(&tr)
	if err == nil && keep && tr.Topic != rec.Topic {
		if terr := config.TopicName(tr.Topic); terr != nil {
			err = fmt.Errorf("the transforms route it to topic %q: %w", tr.Topic, terr)
		}
	}
	if err != nil {
		return "", nil, nil, nil, false, fmt.Errorf("%s: %w; it was not sent, nor anything after it", describe(rec.Source, rec.Start), err)
	}
	return tr.Topic, tr.Key, tr.Value, tr.Headers, keep, nil
}

func (r *sourceRunner) transformTyped(rec *SourceRecord, now time.Time) (topic string, key, value []byte, hdrs []kgo.RecordHeader, keep bool, err error) {
	tr := transforms.Record{Topic: rec.Topic, Timestamp: now, Typed: true, ValueSchema: data.StringSchema, Headers: taskHeaders(rec.Headers)}
	if rec.Value != nil {
		tr.ValueData = string(rec.Value)
	}
	if rec.Key != nil {
		tr.KeySchema, tr.KeyData = data.StringSchema, string(rec.Key)
	}
	fail := func(err error) (string, []byte, []byte, []kgo.RecordHeader, bool, error) {
		return "", nil, nil, nil, false, fmt.Errorf("%s: %w; it was not sent, nor anything after it", describe(rec.Source, rec.Start), err)
	}
	if keep, err = r.chain.Apply(&tr); err != nil {
		return fail(err)
	}
	if !keep {
		return "", nil, nil, nil, false, nil
	}
	if tr.Topic != rec.Topic {
		if err := config.TopicName(tr.Topic); err != nil {
			return fail(fmt.Errorf("the transforms route it to topic %q: %w", tr.Topic, err))
		}
	}
	if tr.KeyData != nil || tr.KeySchema != nil {
		if key, err = r.keyConv.FromData(nil, tr.KeySchema, tr.KeyData); err != nil {
			return fail(fmt.Errorf("converting the key (%s): %w", converterClass(r.keyConv), err))
		}
	}
	if value, err = r.valConv.FromData(nil, tr.ValueSchema, tr.ValueData); err != nil {
		return fail(fmt.Errorf("converting the value (%s): %w", converterClass(r.valConv), err))
	}
	return tr.Topic, key, value, tr.Headers, true, nil
}

// taskHeaders returns a task's headers as the transforms take them.
func taskHeaders(hs []Header) []kgo.RecordHeader {
	if len(hs) == 0 {
		return nil
	}
	out := make([]kgo.RecordHeader, len(hs))
	for i, h := range hs {
		out[i] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
	}
	return out
}

// headerStart returns the start that the position header of rec gives,
// when transforms run: the end of the record of its partition sent before
// it in this run (or rec's own start when none was, or when the stream was
// read again from an earlier position), so that the records dropped
// between two sent ones are covered by the second.
func (r *sourceRunner) headerStart(rec *SourceRecord, keep bool) int64 {
	sp := rec.Source
	if sp == nil {
		return rec.Start
	}
	from, ok := r.from[sp]
	if !ok || rec.Start < from {
		from = rec.Start
		r.from[sp] = from
	}
	if keep {
		r.from[sp] = rec.Position
	}
	return from
}

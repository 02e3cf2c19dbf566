package connect

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Header keys carried by every record of a source partition: the identity
// of the stream it was read from and the source position after it.
const (
	HeaderSource   = "tributary.source"
	HeaderPosition = "tributary.position"
)

// sourceRunner runs one source task: poll, convert, produce, and record the
// source offsets of each batch once the cluster has acknowledged all of it.
type sourceRunner struct {
	t    *taskRuntime
	w    *Worker
	task SourceTask

	keyConv, valConv Converter
	passValue        bool // value converter copies bytes unchanged

	inflight sync.WaitGroup // batches not yet fully acknowledged
	errMu    sync.Mutex
	err      error // first produce failure

	lastTopic string
	lastParts int32

	freeMu sync.Mutex // guards free
	free   []*sourceBatch
}

// maxFreeBatches bounds the acknowledged batches kept for reuse: about what
// the producer's buffer holds at the default batch.size.
const maxFreeBatches = 6

func newSourceRunner(t *taskRuntime, task SourceTask) *sourceRunner {
	r := &sourceRunner{t: t, w: t.c.w, task: task, keyConv: t.c.spec.keyConv, valConv: t.c.spec.valConv}
	switch r.valConv.(type) {
	case stringConverter, byteArrayConverter:
		r.passValue = true
	}
	return r
}

func (r *sourceRunner) setErr(err error) {
	r.errMu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.errMu.Unlock()
}

func (r *sourceRunner) failure() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.err
}

func (r *sourceRunner) run(ctx context.Context) {
	defer r.finish()
	for {
		if err := r.failure(); err != nil {
			r.t.fail(fmt.Errorf("producing records: %w", err))
			return
		}
		pctx, cancel, ok := r.t.gate.wait(ctx)
		if !ok {
			return
		}
		recs, err := r.task.Poll(pctx)
		cancel()
		if ctx.Err() != nil {
			if len(recs) > 0 {
				r.send(recs) // read already: send rather than read again
			}
			return
		}
		if err != nil {
			if pctx.Err() != nil { // paused
				continue
			}
			r.t.fail(fmt.Errorf("poll: %w", err))
			return
		}
		if len(recs) > 0 {
			if err := r.send(recs); err != nil {
				r.t.fail(err)
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
	seq     uint64
	krecs   []kgo.Record
	hdrs    []kgo.RecordHeader
	arena   []byte
	pending atomic.Int64
	failed  atomic.Bool
	offsets []batchOffset
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
	b.seq = r.w.seq.Add(1)
	if cap(b.krecs) < n {
		b.krecs = make([]kgo.Record, n)
	} else {
		b.krecs = b.krecs[:n]
	}
	if cap(b.hdrs) < 2*n {
		b.hdrs = make([]kgo.RecordHeader, 0, 2*n)
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

type batchOffset struct {
	key string
	off SourceOffset
	sp  *SourcePartition
}

func (r *sourceRunner) partitionOf(topic string, sp *SourcePartition) (int32, error) {
	if topic != r.lastTopic || r.lastParts == 0 {
		n, err := r.w.partitions(context.Background(), topic, r.t.c)
		if err != nil {
			return 0, err
		}
		r.lastTopic, r.lastParts = topic, n
	}
	if sp == nil {
		return int32(r.t.id) % r.lastParts, nil
	}
	return int32(sp.hash % uint32(r.lastParts)), nil
}

func (r *sourceRunner) send(recs []SourceRecord) error {
	n := len(recs)
	arenaSize := 20 * n
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
	cur := -1 // index in b.offsets of last
	for i := range recs {
		rec := &recs[i]
		kr := &b.krecs[i]
		kr.Topic = rec.Topic
		p, err := r.partitionOf(rec.Topic, rec.Source)
		if err != nil {
			return err
		}
		kr.Partition = p
		if rec.Key != nil {
			kr.Key = r.keyConv.FromConnect(nil, rec.Key)
		}
		if r.passValue || rec.Value == nil {
			kr.Value = rec.Value
		} else {
			start := len(arena)
			arena = r.valConv.FromConnect(arena, rec.Value)
			kr.Value = arena[start:len(arena):len(arena)]
		}
		if sp := rec.Source; sp != nil {
			start := len(arena)
			arena = strconv.AppendInt(arena, rec.Position, 10)
			h := len(b.hdrs)
			b.hdrs = append(b.hdrs,
				kgo.RecordHeader{Key: HeaderSource, Value: sp.identity},
				kgo.RecordHeader{Key: HeaderPosition, Value: arena[start:len(arena):len(arena)]})
			kr.Headers = b.hdrs[h : h+2 : h+2]
			if sp != last {
				cur = b.noteOffset(r.t.c.spec.name, sp)
				last = sp
			}
			b.offsets[cur].off.Position = rec.Position
		}
		b.bytes += int64(len(rec.Value))
	}
	b.arena = arena
	r.t.stats.records.Add(int64(n))
	r.t.stats.bytes.Add(b.bytes)
	b.pending.Store(int64(n))
	r.inflight.Add(1)
	promise := b.promise
	for i := range b.krecs {
		r.w.producer.Produce(context.Background(), &b.krecs[i], promise)
	}
	return nil
}

func (b *sourceBatch) find(sp *SourcePartition) int {
	for i := len(b.offsets) - 1; i >= 0; i-- {
		if b.offsets[i].sp == sp {
			return i
		}
	}
	return -1
}

// noteOffset returns the index of sp's entry in b.offsets, adding it when
// it is new.
func (b *sourceBatch) noteOffset(connector string, sp *SourcePartition) int {
	if i := b.find(sp); i >= 0 {
		return i
	}
	// Another generation of the same partition key (a rotated file) shares
	// the stored entry; the later one in the batch wins when both are here.
	b.offsets = append(b.offsets, batchOffset{key: offsetKey(connector, sp.keyJSON), sp: sp, off: SourceOffset{Identity: string(sp.identity)}})
	return len(b.offsets) - 1
}

func (b *sourceBatch) promise(_ *kgo.Record, err error) {
	if err != nil {
		b.failed.Store(true)
		b.r.setErr(err)
	}
	if b.pending.Add(-1) != 0 {
		return
	}
	r := b.r
	if !b.failed.Load() {
		for _, o := range b.offsets {
			r.w.offsets.set(o.key, o.off, b.seq)
		}
		r.t.stats.acked.Add(int64(len(b.krecs)))
	}
	b.release()
	r.inflight.Done()
}

// tailWindow is how many records lastProduced reads at a time, going back
// from the end of the partition, and tailLimit how many at most in all.
const (
	tailWindow = 2000
	tailLimit  = 200000
)

// lastProduced finds, in the partition that p's records go to, the last
// record whose source header is p's identity, and returns its position.
func (w *Worker) lastProduced(ctx context.Context, topic string, p *SourcePartition, c *connectorRuntime) (int64, bool, error) {
	n, err := w.partitions(ctx, topic, c)
	if err != nil {
		return 0, false, err
	}
	part := int32(p.hash % uint32(n))
	starts, err := w.admin.ListStartOffsets(ctx, topic)
	if err != nil {
		return 0, false, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	ends, err := w.admin.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, false, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	so, ok1 := starts.Lookup(topic, part)
	eo, ok2 := ends.Lookup(topic, part)
	if !ok1 || !ok2 || so.Err != nil || eo.Err != nil {
		return 0, false, fmt.Errorf("list offsets of %s/%d: %v %v", topic, part, so.Err, eo.Err)
	}
	start, end := so.Offset, eo.Offset
	for hi := end; hi > start && end-hi < tailLimit; {
		lo := max(start, hi-tailWindow)
		pos, found, err := w.scanForIdentity(ctx, topic, part, lo, hi, p.identity)
		if err != nil {
			return 0, false, err
		}
		if found {
			return pos, true, nil
		}
		hi = lo
	}
	return 0, false, nil
}

// scanForIdentity reads offsets [lo, hi) of one partition and returns the
// position header of the last record whose source header is identity.
func (w *Worker) scanForIdentity(ctx context.Context, topic string, part int32, lo, hi int64, identity []byte) (int64, bool, error) {
	res, err := kafkaclientOptions(w, w.cfg.ConsumerProps)
	if err != nil {
		return 0, false, err
	}
	cl, err := newKgoClient(append(res,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {part: kgo.NewOffset().At(lo)}}),
	)...)
	if err != nil {
		return 0, false, err
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var pos int64
	found := false
	for {
		fs := cl.PollFetches(pctx)
		if err := ctx.Err(); err != nil {
			return 0, false, fmt.Errorf("reading the end of %s/%d: %w", topic, part, err)
		}
		if pctx.Err() != nil {
			w.log.Warn("reading the end of a partition took too long; using what was read", "topic", topic, "partition", part, "from", lo, "to", hi)
			return pos, found, nil
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.Canceled) {
				ferr = err
			}
		})
		if ferr != nil {
			return 0, false, fmt.Errorf("reading the end of %s/%d: %w", topic, part, ferr)
		}
		done := false
		fs.EachRecord(func(rec *kgo.Record) {
			if rec.Offset >= hi {
				done = true
				return
			}
			if rec.Offset == hi-1 {
				done = true
			}
			var id, p []byte
			for _, h := range rec.Headers {
				switch h.Key {
				case HeaderSource:
					id = h.Value
				case HeaderPosition:
					p = h.Value
				}
			}
			if id != nil && string(id) == string(identity) {
				if v, err := strconv.ParseInt(string(p), 10, 64); err == nil {
					pos, found = v, true
				}
			}
		})
		if done {
			return pos, found, nil
		}
	}
}

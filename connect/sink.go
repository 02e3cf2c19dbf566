package connect

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/connect/kafkaclient"
)

// kafkaclientOptions translates consumer properties (minus the keys the
// worker decides itself) into kgo options for a client of this worker.
func kafkaclientOptions(w *Worker, props map[string]string) ([]kgo.Opt, error) {
	p := w.clientProps(props)
	delete(p, "group.id")
	delete(p, "enable.auto.commit")
	delete(p, "group.instance.id")
	res, err := kafkaclient.Options(p, kafkaclient.Consumer)
	if err != nil {
		return nil, fmt.Errorf("%s: consumer.%w", w.cfg.Source, err)
	}
	return append([]kgo.Opt{
		kgo.WithLogger(kafkaclient.Logger(w.log)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}, res.Opts...), nil
}

func newKgoClient(opts ...kgo.Opt) (*kgo.Client, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return cl, nil
}

type topicPartition struct {
	topic     string
	partition int32
}

// sinkRunner runs one sink task: consume in group connect-<name>, convert,
// put, and on each flush interval, rebalance and shutdown flush the task and
// commit the offsets with the state the flush returned.
//
// mu serialises every call into the task between the loop and the group's
// rebalance callbacks.
type sinkRunner struct {
	t        *taskRuntime
	w        *Worker
	task     SinkTask
	cl       *kgo.Client // set before any callback can use the task
	group    string
	instance string

	keyConv, valConv Converter
	resetLatest      bool

	mu        sync.Mutex
	next      map[topicPartition]int64 // offset to commit: after the last record put
	committed map[topicPartition]int64
	state     string // state saved with the last commit
	dirty     bool   // records put since the last flush
	failErr   error
	closed    bool
	recs      []SinkRecord
	hwm       map[topicPartition]int64
	// baseline holds starting offsets to commit, with baselineState,
	// before anything of those partitions is written.
	baseline      map[topicPartition]int64
	baselineState string
}

func newSinkRunner(t *taskRuntime, task SinkTask) (*sinkRunner, error) {
	w := t.c.w
	spec := t.c.spec
	r := &sinkRunner{
		t: t, w: w, task: task,
		group:     "connect-" + spec.name,
		keyConv:   spec.keyConv,
		valConv:   spec.valConv,
		next:      map[topicPartition]int64{},
		committed: map[topicPartition]int64{},
		hwm:       map[topicPartition]int64{},
		baseline:  map[topicPartition]int64{},
		instance:  instanceID("connect-"+spec.name, t.id, w.cfg.OffsetsFile),
	}
	r.resetLatest = strings.EqualFold(strings.TrimSpace(w.cfg.ConsumerProps["auto.offset.reset"]), "latest")
	opts, err := kafkaclientOptions(w, w.cfg.ConsumerProps)
	if err != nil {
		return nil, err
	}
	opts = append(opts,
		kgo.ConsumerGroup(r.group),
		kgo.InstanceID(r.instance),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.WithPools(&fetchPool{}),
		kgo.OnPartitionsAssigned(r.onAssigned),
		kgo.OnPartitionsRevoked(r.onRevoked),
		kgo.OnPartitionsLost(r.onLost),
	)
	if spec.regex != nil {
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(spec.regex.String()))
	} else {
		opts = append(opts, kgo.ConsumeTopics(spec.topics...))
		// Create missing topics so that the sink starts at their beginning
		// rather than waiting for metadata.
		for _, topic := range spec.topics {
			if _, err := w.partitions(context.Background(), topic, nil); err != nil {
				return nil, err
			}
		}
	}
	r.cl, err = newKgoClient(opts...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// instanceID is the sink task's static group membership id (KIP-345): the
// same for every run of this worker on this machine, so that a worker
// restarted after a crash takes its partitions back at once instead of
// waiting for the old member's session to time out.
func instanceID(group string, task int, offsetsFile string) string {
	host, _ := os.Hostname()
	abs, err := filepath.Abs(offsetsFile)
	if err != nil {
		abs = offsetsFile
	}
	h := fnv.New64a()
	h.Write([]byte(host + "\x00" + abs))
	return fmt.Sprintf("%s-%d-%016x", group, task, h.Sum64())
}

func (r *sinkRunner) fail(err error) {
	if r.failErr == nil {
		r.failErr = err
	}
}

func (r *sinkRunner) run(ctx context.Context) {
	interval := r.w.cfg.FlushInterval
	nextFlush := time.Now().Add(interval)
	for {
		pctx, pcancel, ok := r.t.gate.wait(ctx)
		if !ok {
			break
		}
		dctx, dcancel := context.WithDeadline(pctx, nextFlush)
		fetches := r.cl.PollRecords(dctx, 10000)
		dcancel()
		pcancel()
		r.mu.Lock()
		if ctx.Err() == nil {
			r.handle(ctx, fetches)
		}
		if r.failErr == nil && ctx.Err() == nil && !time.Now().Before(nextFlush) {
			r.flushCommit(ctx, r.cl)
			nextFlush = time.Now().Add(interval)
		}
		failed := r.failErr
		r.mu.Unlock()
		r.cl.AllowRebalance()
		if failed != nil {
			r.t.fail(failed)
			break
		}
		if ctx.Err() != nil {
			break
		}
	}
	r.shutdown()
}

func (r *sinkRunner) shutdown() {
	r.mu.Lock()
	if r.failErr == nil {
		ctx, cancel := context.WithTimeout(context.Background(), r.w.cfg.ShutdownTimeout)
		r.flushCommit(ctx, r.cl)
		cancel()
		if r.failErr != nil {
			r.t.log.Error("final flush and commit", "err", r.failErr)
		}
	}
	r.closed = true
	r.mu.Unlock()
	if err := r.task.Stop(); err != nil {
		r.t.log.Warn("stopping task", "err", err)
	}
	r.cl.Close()
	r.leave()
}

// leave removes the task's static member from the group: a static member
// does not leave when its client closes, and would otherwise hold its
// partitions until its session times out.
func (r *sinkRunner) leave() {
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group = r.group
	m := kmsg.NewLeaveGroupRequestMember()
	inst := r.instance
	m.InstanceID = &inst
	reason := "the worker stopped"
	m.Reason = &reason
	req.Members = append(req.Members, m)
	ctx, cancel := context.WithTimeout(context.Background(), r.w.cfg.FlushTimeout)
	defer cancel()
	resp, err := req.RequestWith(ctx, r.w.producer)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
		for _, m := range resp.Members {
			if e := kerr.ErrorForCode(m.ErrorCode); e != nil && !errors.Is(e, kerr.UnknownMemberID) {
				err = e
			}
		}
	}
	if err != nil {
		r.t.log.Warn("leaving the group", "group", r.group, "err", err)
	}
}

// handle converts and puts one poll's records; r.mu is held.
func (r *sinkRunner) handle(ctx context.Context, fetches kgo.Fetches) {
	if r.failErr != nil {
		return
	}
	fetches.EachError(func(topic string, p int32, err error) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, kgo.ErrClientClosed) {
			return
		}
		r.t.log.Warn("fetch", "topic", topic, "partition", p, "err", err)
	})
	if err := r.commitBaseline(ctx); err != nil {
		// Writing without it could repeat lines after a crash.
		r.fail(err)
		return
	}
	recs := r.recs[:0]
	var nbytes int64
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if len(fp.Records) == 0 {
			return
		}
		tp := topicPartition{fp.Topic, fp.Partition}
		for _, rec := range fp.Records {
			v, err := r.valConv.ToConnect(rec.Value)
			if err != nil {
				r.fail(fmt.Errorf("converting the value of %s/%d@%d: %w", rec.Topic, rec.Partition, rec.Offset, err))
				return
			}
			var k []byte
			if rec.Key != nil {
				if k, err = r.keyConv.ToConnect(rec.Key); err != nil {
					r.fail(fmt.Errorf("converting the key of %s/%d@%d: %w", rec.Topic, rec.Partition, rec.Offset, err))
					return
				}
			}
			recs = append(recs, SinkRecord{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Timestamp: rec.Timestamp, Key: k, Value: v})
			nbytes += int64(len(rec.Value))
		}
		last := fp.Records[len(fp.Records)-1].Offset
		r.next[tp] = last + 1
		r.hwm[tp] = fp.HighWatermark
	})
	r.recs = recs[:0]
	if r.failErr != nil || len(recs) == 0 {
		return
	}
	if err := r.task.Put(ctx, recs); err != nil {
		r.fail(fmt.Errorf("put: %w", err))
		return
	}
	clear(recs) // drop references to the fetched bytes
	fetches.EachRecord(func(rec *kgo.Record) { rec.Recycle() })
	r.dirty = true
	r.t.stats.records.Add(int64(len(recs)))
	r.t.stats.bytes.Add(nbytes)
	var lag int64
	for tp, h := range r.hwm {
		if n, ok := r.next[tp]; ok && h > n {
			lag += h - n
		}
	}
	r.t.stats.lag.Store(lag)
}

// flushCommit flushes the task and commits the offsets after the records it
// was given, with the returned state as metadata; r.mu is held.
func (r *sinkRunner) flushCommit(ctx context.Context, cl *kgo.Client) {
	if r.failErr != nil {
		return
	}
	changed := r.dirty
	for tp, n := range r.next {
		if c, ok := r.committed[tp]; !ok || c != n {
			changed = true
		}
	}
	if !changed {
		return
	}
	state, err := r.task.Flush(ctx)
	if err != nil {
		r.fail(fmt.Errorf("flush: %w", err))
		return
	}
	r.dirty = false
	if err := r.commit(ctx, cl, maps.Clone(r.next), state); err != nil {
		// The records stay in the file; the next assignment's Open drops
		// them again if this commit is lost for good.
		r.t.log.Warn("commit failed; will retry at the next flush", "err", err)
		return
	}
	r.state = state
}

// commit commits offsets for the group's current generation with the
// client's own commit (which knows topic IDs and versions), setting
// metadata on every partition just before the request is sent.
func (r *sinkRunner) commit(ctx context.Context, cl *kgo.Client, offsets map[topicPartition]int64, metadata string) error {
	if len(offsets) == 0 {
		return nil
	}
	uncommitted := map[string]map[int32]kgo.EpochOffset{}
	for tp, off := range offsets {
		m := uncommitted[tp.topic]
		if m == nil {
			m = map[int32]kgo.EpochOffset{}
			uncommitted[tp.topic] = m
		}
		m[tp.partition] = kgo.EpochOffset{Epoch: -1, Offset: off}
	}
	cctx, cancel := context.WithTimeout(ctx, r.w.cfg.FlushTimeout)
	defer cancel()
	cctx = kgo.PreCommitFnContext(cctx, func(req *kmsg.OffsetCommitRequest) error {
		for i := range req.Topics {
			for j := range req.Topics[i].Partitions {
				md := metadata
				req.Topics[i].Partitions[j].Metadata = &md
			}
		}
		return nil
	})
	var errs []error
	cl.CommitOffsetsSync(cctx, uncommitted, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					errs = append(errs, fmt.Errorf("%s/%d: %w", t.Topic, p.Partition, err))
				}
			}
		}
	})
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for tp, off := range offsets {
		r.committed[tp] = off
	}
	return nil
}

// onAssigned hands the task the states saved with the committed offsets of
// the new partitions, and commits a starting point (with the task's current
// state) for partitions that have none, so that a crash before the first
// flush cannot repeat what was written before.
func (r *sinkRunner) onAssigned(ctx context.Context, cl *kgo.Client, assigned map[string][]int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.failErr != nil {
		return
	}
	adm := kadm.NewClient(cl)
	committed, err := adm.FetchOffsets(ctx, r.group)
	if err != nil {
		r.fail(fmt.Errorf("fetching committed offsets of group %s: %w", r.group, err))
		return
	}
	// Partitions still held were written since their commits: the file
	// may then only be cut back when nothing else is held (first start, or
	// after the whole assignment was lost).
	holding := len(r.next) > 0
	var states []string
	var missing []topicPartition
	for topic, parts := range assigned {
		for _, p := range parts {
			tp := topicPartition{topic, p}
			o, ok := committed.Lookup(topic, p)
			if ok && o.Err == nil && o.At >= 0 {
				r.next[tp] = o.At
				r.committed[tp] = o.At
				if o.Metadata != "" {
					states = append(states, o.Metadata)
				}
				continue
			}
			missing = append(missing, tp)
		}
	}
	if holding {
		states = nil
	}
	state, err := r.task.Open(ctx, states)
	if err != nil {
		r.fail(fmt.Errorf("open: %w", err))
		return
	}
	r.state = state
	if len(missing) == 0 {
		return
	}
	topics := make([]string, 0, len(missing))
	for _, tp := range missing {
		topics = append(topics, tp.topic)
	}
	var listed kadm.ListedOffsets
	if r.resetLatest {
		listed, err = adm.ListEndOffsets(ctx, topics...)
	} else {
		listed, err = adm.ListStartOffsets(ctx, topics...)
	}
	if err != nil {
		r.fail(fmt.Errorf("listing offsets: %w", err))
		return
	}
	for _, tp := range missing {
		lo, ok := listed.Lookup(tp.topic, tp.partition)
		if !ok || lo.Err != nil {
			r.fail(fmt.Errorf("listing offsets of %s/%d: %v", tp.topic, tp.partition, lo.Err))
			return
		}
		r.baseline[tp] = lo.Offset
		r.next[tp] = lo.Offset
	}
	r.baselineState = state
}

// commitBaseline commits the starting offsets of partitions that had none,
// before any of their records is written; r.mu is held.
func (r *sinkRunner) commitBaseline(ctx context.Context) error {
	if len(r.baseline) == 0 {
		return nil
	}
	if err := r.commit(ctx, r.cl, r.baseline, r.baselineState); err != nil {
		return fmt.Errorf("committing starting offsets: %w", err)
	}
	clear(r.baseline)
	return nil
}

func (r *sinkRunner) onRevoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.flushCommit(ctx, cl)
	r.forget(revoked)
}

func (r *sinkRunner) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.forget(lost)
}

func (r *sinkRunner) forget(parts map[string][]int32) {
	for topic, ps := range parts {
		for _, p := range ps {
			tp := topicPartition{topic, p}
			delete(r.next, tp)
			delete(r.committed, tp)
			delete(r.hwm, tp)
			delete(r.baseline, tp)
		}
	}
}

// fetchPool lends the sink's consumer the record slices and decompression
// buffers of batches already written, instead of new ones for every fetch.
// Records go back with Recycle once Put has returned. It is a sync.Pool, so
// an idle worker lets go of them at the next collections.
type fetchPool struct {
	recs sync.Pool // *[]kgo.Record
	bufs sync.Pool // *[]byte
}

// GetRecords implements kgo.PoolRecords.
func (p *fetchPool) GetRecords(n int) []kgo.Record {
	if s, ok := p.recs.Get().(*[]kgo.Record); ok && cap(*s) >= n {
		return (*s)[:0]
	}
	return make([]kgo.Record, 0, roundPow2(n))
}

// PutRecords implements kgo.PoolRecords.
func (p *fetchPool) PutRecords(s []kgo.Record) { p.recs.Put(&s) }

// GetDecompressBytes implements kgo.PoolDecompressBytes.
func (p *fetchPool) GetDecompressBytes(compressed []byte, _ kgo.CompressionCodecType) []byte {
	if b, ok := p.bufs.Get().(*[]byte); ok && cap(*b) >= 2*len(compressed) {
		return (*b)[:0]
	}
	return make([]byte, 0, roundPow2(4*len(compressed)))
}

// PutDecompressBytes implements kgo.PoolDecompressBytes.
func (p *fetchPool) PutDecompressBytes(b []byte) { p.bufs.Put(&b) }

func roundPow2(n int) int {
	c := 64
	for c < n {
		c <<= 1
	}
	return c
}

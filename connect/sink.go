package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/connect/data"
	"github.com/tributary-io/tributary/connect/kafkaclient"
	"github.com/tributary-io/tributary/connect/transforms"
)

// kafkaclientOptions translates the worker's consumer properties, with its
// bootstrap.servers, into kgo options for a consumer whose group the
// worker runs (kafkaclient.ConsumerOptions); errors name the worker file.
func kafkaclientOptions(w *Worker, props map[string]string) ([]kgo.Opt, error) {
	opts, err := kafkaclient.ConsumerOptions(w.clientProps(props), w.log)
	if err != nil {
		return nil, fmt.Errorf("%s: consumer.%w", w.cfg.Source, err)
	}
	return opts, nil
}

func newKgoClient(opts ...kgo.Opt) (*kgo.Client, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return cl, nil
}

// commitFaults is nil except in tests, which set it to fail, reorder or
// lose the acknowledgements of the sink's commits.
var commitFaults atomic.Pointer[commitFaultHooks]

type commitFaultHooks struct {
	// Before may change a commit request just before it is sent, or
	// refuse to send it.
	Before func(req *kmsg.OffsetCommitRequest) error
	// After may change the answer to a commit.
	After func(req *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) (*kmsg.OffsetCommitResponse, error)
}

type topicPartition struct {
	topic     string
	partition int32
}

// commitMetadataMax is Kafka's default offset.metadata.max.bytes: the
// longest metadata a committed offset may carry.
const commitMetadataMax = 4096

// sinkRunner runs one sink task: it consumes in group connect-<name>,
// converts, puts, and on each flush interval, on revocation and at shutdown
// flushes the task and commits its offsets.
//
// # Exactly once
//
// The task writes the records of all its partitions to one output (for
// FileStreamSink, one file), whose state (the file's size) the task returns
// from Flush. Every flush is a snapshot: that state, a flush number that
// grows by one with each flush of the task, and the next offset of every
// partition whose records the output holds (the partitions assigned, and
// ones released before their last position was known committed). Each
// assigned partition's commit is its own next offset, with the whole
// snapshot as metadata (sinkSnapshot). A commit can succeed for some
// partitions and fail, or look failed, for others; every snapshot describes
// the output by itself, so whichever commits land, the newest snapshot
// among them is a point the output and every partition can go back to.
//
// On the first assignment of a run, the runner takes the newest snapshot of
// its task among the committed offsets of every partition of the group,
// hands its state to the task's Open (which drops what was written after
// it), and starts each assigned partition at the larger of its own
// committed offset and the snapshot's offset for it. Later assignments
// (partitions added or given back while others are held) drop nothing: the
// runner's positions describe the output, and a partition starts at the
// larger of its committed offset and its position. A partition with
// neither starts at its log start (or end, with consumer
// auto.offset.reset=latest), and that start is committed before any of its
// records is put; if that commit fails, the task fails. Records below a
// partition's position are never put again.
//
// A Put interrupted by the loop's ctx (a stop while a full disk is waited
// out) may have left part of its batch out of the output: nothing more is
// committed in that run, and the next run goes back to the last commit.
//
// The promise: each record of the topics ends up in the output once, in
// partition order, across clean stops, kill -9, commits that fail, are lost
// or land late for some partitions but not others, and rebalances; with
// these limits:
//
//   - the snapshot must fit in offset.metadata.max.bytes (4096 unless the
//     cluster answers OFFSET_METADATA_TOO_LARGE, then less). When it does
//     not, the entries of partitions whose position is known committed are
//     left out (their own commits restore them); when it still does not,
//     each partition carries the snapshot with its own entry only, which
//     is logged: then a commit that fails for some partitions and not
//     others, followed by a crash before a later commit succeeds, repeats
//     the failed partitions' records written since their last commit (at
//     least once, as Kafka Connect). When not even that fits (a task state
//     near the limit), commits carry no metadata, nothing is dropped at
//     restart, and a crash repeats what was written since the last commit.
//   - leaving entries out relies on the cluster applying this member's
//     commits in the order sent (franz-go sends one at a time).
//   - offsets committed by versions before snapshots carry the task's state
//     alone; with no snapshot found, the task is handed those states and
//     partitions start at their committed offsets, as those versions did,
//     once.
//   - a commit reset with a tool, or made by another task, wins only
//     forward: a partition never starts below what the output holds.
//
// # Locking
//
// mu guards the fields below it and serialises every call into the task
// between the loop, the group's rebalance callbacks and shutdown. It is
// never held across network I/O: commits and offset fetches and listings
// run without it. A task call under mu may wait (a full disk) but returns
// when its ctx ends: the loop's ctx, or in callbacks a ctx that ends with
// the loop's (life). turn orders flush-and-commit pairs, so that commits
// are sent in flush order; it is taken with a ctx.
type sinkRunner struct {
	t        *taskRuntime
	w        *Worker
	task     SinkTask
	cl       *kgo.Client // for the loop; callbacks use the client they are given
	group    string
	instance string

	keyConv, valConv Converter
	chain            *transforms.Chain // applied after conversion, before Put; nil: none
	resetLatest      bool
	bad              badRecords // errors.* settings

	// life ends when the loop's ctx does: it bounds the blocking calls of
	// the rebalance callbacks, which franz-go calls with its own ctx.
	life    context.Context
	endLife context.CancelFunc
	turn    chan struct{} // held from a flush until its commit is answered

	commitErr string // the last commit's error, if it failed; guarded by turn

	mu        sync.Mutex
	assigned  map[topicPartition]bool
	pos       map[topicPartition]int64 // next offset of each partition in the output
	confirmed map[topicPartition]int64 // assigned: committed offset, as acknowledged or fetched
	needStart map[topicPartition]bool  // assigned: start to commit before any record is put
	hwm       map[topicPartition]int64
	seq       uint64 // number of the last flush
	recovered bool   // the output was brought back to a snapshot in this run
	dirty     bool   // records put since the last flush
	halted    bool   // a Put was interrupted: nothing more may be committed
	metaMax   int    // longest metadata to send
	degraded  int    // snapshotMetadata level last logged
	failErr   error
	closed    bool
	recs      []SinkRecord
	headers   bool     // the task reads headers (HeaderReader)
	hdrs      []Header // the headers of recs
}

func newSinkRunner(ctx context.Context, t *taskRuntime, task SinkTask) (*sinkRunner, error) {
	w := t.c.w
	spec := t.c.spec
	r := &sinkRunner{
		t: t, w: w, task: task,
		group:     "connect-" + spec.name,
		keyConv:   spec.keyConv,
		valConv:   spec.valConv,
		chain:     spec.chain,
		turn:      make(chan struct{}, 1),
		assigned:  map[topicPartition]bool{},
		pos:       map[topicPartition]int64{},
		confirmed: map[topicPartition]int64{},
		needStart: map[topicPartition]bool{},
		hwm:       map[topicPartition]int64{},
		metaMax:   commitMetadataMax,
		instance:  instanceID("connect-"+spec.name, t.id, w.cfg.OffsetsFile),
	}
	if hr, ok := task.(HeaderReader); ok {
		r.headers = hr.ReadsHeaders()
	}
	r.life, r.endLife = context.WithCancel(context.Background())
	r.resetLatest = strings.EqualFold(strings.TrimSpace(w.cfg.ConsumerProps["auto.offset.reset"]), "latest")
	r.bad = newBadRecords(spec.vals)
	if err := r.ensureDLQ(ctx); err != nil {
		return nil, err
	}
	opts, err := kafkaclientOptions(w, w.cfg.ConsumerProps)
	if err != nil {
		return nil, err
	}
	opts = append(opts,
		kgo.ConsumerGroup(r.group),
		kgo.InstanceID(r.instance),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kafkaclient.FetchPools(),
		kgo.OnPartitionsAssigned(r.onAssigned),
		kgo.AdjustFetchOffsetsFn(r.adjustOffsets),
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
			if _, err := w.partitions(ctx, topic, nil); err != nil {
				return nil, err
			}
		}
	}
	r.cl, err = newKgoClient(opts...)
	if err != nil {
		return nil, err
	}
	w.metrics.started(t, task)
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

// fail records the task's first error; r.mu is held.
func (r *sinkRunner) fail(err error) {
	if r.failErr == nil {
		r.failErr = err
	}
}

// callbackFail fails the task from a rebalance callback, unless the error
// comes from the runner stopping.
func (r *sinkRunner) callbackFail(err error) {
	if r.life.Err() != nil {
		r.t.log.Debug("rebalance callback interrupted by shutdown", "err", err)
		return
	}
	r.mu.Lock()
	r.fail(err)
	r.mu.Unlock()
}

// callbackContext is kctx, ended also when the runner's life ends.
func (r *sinkRunner) callbackContext(kctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(kctx)
	stop := context.AfterFunc(r.life, cancel)
	return ctx, func() { stop(); cancel() }
}

func (r *sinkRunner) run(ctx context.Context) {
	stop := context.AfterFunc(ctx, r.endLife)
	defer stop()
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
		if ctx.Err() == nil {
			r.commitStarts(ctx, r.cl)
			r.handle(ctx, fetches)
		}
		if ctx.Err() == nil && !time.Now().Before(nextFlush) {
			r.flushCommit(ctx, r.cl)
			nextFlush = time.Now().Add(interval)
		}
		r.mu.Lock()
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

// shutdown ends the callbacks' blocking calls, flushes and commits once
// more (bounded by shutdown.timeout), stops the task and leaves the group.
func (r *sinkRunner) shutdown() {
	r.endLife()
	r.mu.Lock()
	final := r.failErr == nil && !r.halted
	r.mu.Unlock()
	if final {
		ctx, cancel := context.WithTimeout(context.Background(), r.w.cfg.ShutdownTimeout)
		r.flushCommit(ctx, r.cl)
		cancel()
		r.mu.Lock()
		if r.failErr != nil {
			r.t.log.Error("final flush and commit", "err", r.failErr)
		}
		r.mu.Unlock()
	}
	r.mu.Lock()
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
// partitions until its session times out. It is part of shutdown, after
// the loop's ctx ended, and bounded by offset.flush.timeout.ms.
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

// handle converts and puts one poll's records, skipping those the output
// already holds.
func (r *sinkRunner) handle(ctx context.Context, fetches kgo.Fetches) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failErr != nil || r.halted || r.closed {
		return
	}
	fetches.EachError(func(topic string, p int32, err error) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, kgo.ErrClientClosed) {
			return
		}
		r.t.log.Warn("fetch", "topic", topic, "partition", p, "err", err)
	})
	recs, hdrs := r.recs[:0], r.hdrs[:0]
	var nbytes int64
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if len(fp.Records) == 0 || r.failErr != nil {
			return
		}
		r.t.metrics().read.mark(int64(len(fp.Records)))
		tp := topicPartition{fp.Topic, fp.Partition}
		from, ok := r.pos[tp]
		if !r.assigned[tp] || !ok || r.needStart[tp] {
			// Putting them would leave the output and the positions apart.
			r.fail(fmt.Errorf("records of %s/%d, which the task does not hold or whose start is not committed", fp.Topic, fp.Partition))
			return
		}
		next := from
		defer func() { r.pos[tp] = next }() // once per partition, not per record
		for _, rec := range fp.Records {
			if rec.Offset < from {
				continue // in the output already
			}
			topic, k, v, hs, keep, err := r.convert(ctx, rec)
			if err != nil {
				r.fail(err)
				return
			}
			if !keep {
				next = rec.Offset + 1 // skipped or dropped: counted as written
				continue
			}
			sr := SinkRecord{Topic: topic, Partition: rec.Partition, Offset: rec.Offset, Timestamp: rec.Timestamp, Key: k, Value: v}
			if r.headers && len(hs) > 0 {
				h := len(hdrs)
				for _, kh := range hs {
					hdrs = append(hdrs, Header{Key: kh.Key, Value: kh.Value})
				}
				sr.Headers = hdrs[h:len(hdrs):len(hdrs)]
			}
			recs = append(recs, sr)
			nbytes += int64(len(rec.Value))
			next = rec.Offset + 1
		}
		r.hwm[tp] = fp.HighWatermark
	})
	r.recs, r.hdrs = recs[:0], hdrs[:0]
	if r.failErr != nil || len(recs) == 0 {
		return
	}
	putStart := time.Now()
	if err := r.task.Put(ctx, recs); err != nil {
		if ctx.Err() != nil {
			// Part of the batch may be missing from the output: commit
			// nothing more; the restart goes back to the last commit.
			r.halted = true
			r.t.log.Info("stopped while writing; what was written since the last commit will be written again", "err", err)
			return
		}
		r.fail(fmt.Errorf("put: %w", err))
		return
	}
	clear(recs) // drop references to the fetched bytes
	fetches.EachRecord(func(rec *kgo.Record) { rec.Recycle() })
	r.dirty = true
	r.t.stats.records.Add(int64(len(recs)))
	r.t.metrics().putDone(len(recs), time.Since(putStart))
	r.t.stats.bytes.Add(nbytes)
	var lag int64
	for tp, h := range r.hwm {
		if n, ok := r.pos[tp]; ok && h > n {
			lag += h - n
		}
	}
	r.t.stats.lag.Store(lag)
}

// convert turns a fetched record into what the task is given: converted
// (to its Java text) and transformed. keep is false for a record a
// transformation dropped or that failed and is skipped
// (errors.tolerance=all); an error fails the task. A chain that works on
// fields is given the converters' data, and its result is then written as
// Java text.
func (r *sinkRunner) convert(ctx context.Context, rec *kgo.Record) (topic string, k, v []byte, hs []kgo.RecordHeader, keep bool, err error) {
	bad := func(stage, class string, cause error) (string, []byte, []byte, []kgo.RecordHeader, bool, error) {
		r.t.metrics().badRecord(r.bad)
		return "", nil, nil, nil, false, r.badRecord(ctx, rec, stage, class, cause)
	}
	if r.chain.Typed() {
		tr := transforms.Record{Topic: rec.Topic, Headers: rec.Headers, Timestamp: rec.Timestamp, Typed: true,
			Sink: true, Partition: rec.Partition, Offset: rec.Offset}
		if tr.ValueSchema, tr.ValueData, err = r.valConv.ToData(rec.Value); err != nil {
			return bad("VALUE_CONVERTER", converterClass(r.valConv), err)
		}
		if rec.Key != nil {
			if tr.KeySchema, tr.KeyData, err = r.keyConv.ToData(rec.Key); err != nil {
				return bad("KEY_CONVERTER", converterClass(r.keyConv), err)
			}
		}
		if keep, err := r.chain.Apply(&tr); err != nil || !keep {
			if err != nil {
				return bad("TRANSFORMATION", stepClass(err), err)
			}
			return "", nil, nil, nil, false, nil
		}
		return tr.Topic, javaText(tr.KeyData), javaText(tr.ValueData), tr.Headers, true, nil
	}
	if v, err = r.valConv.ToConnect(rec.Value); err != nil {
		return bad("VALUE_CONVERTER", converterClass(r.valConv), err)
	}
	if rec.Key != nil {
		if k, err = r.keyConv.ToConnect(rec.Key); err != nil {
			return bad("KEY_CONVERTER", converterClass(r.keyConv), err)
		}
	}
	if r.chain == nil {
		return rec.Topic, k, v, rec.Headers, true, nil
	}
	tr := transforms.Record{Topic: rec.Topic, Key: k, Value: v, Headers: rec.Headers, Timestamp: rec.Timestamp,
		Sink: true, Partition: rec.Partition, Offset: rec.Offset}
	if keep, err := r.chain.Apply(&tr); err != nil || !keep {
		if err != nil {
			return bad("TRANSFORMATION", stepClass(err), err)
		}
		return "", nil, nil, nil, false, nil
	}
	return tr.Topic, tr.Key, tr.Value, tr.Headers, true, nil
}

// stepClass is the class of the transformation that failed, for the
// __connect.errors.class.name header.
func stepClass(err error) string {
	var se *transforms.StepError
	if errors.As(err, &se) {
		return se.Class
	}
	return ""
}

// javaText is the Java text of a value of Connect's data; nil for a null.
func javaText(v any) []byte {
	if v == nil {
		return nil
	}
	return nonNil(data.AppendJava(nil, v))
}

// flushCommit flushes the task and commits the snapshot of that flush for
// the assigned partitions. A failed Flush fails the task (unless ctx
// ended); a failed commit is logged and retried with the next flush.
func (r *sinkRunner) flushCommit(ctx context.Context, cl *kgo.Client) {
	select {
	case r.turn <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-r.turn }()

	r.mu.Lock()
	if r.failErr != nil || r.halted || r.closed || !r.changedLocked() {
		r.mu.Unlock()
		return
	}
	commitStart := time.Now()
	state, err := r.task.Flush(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.fail(fmt.Errorf("flush: %w", err))
		}
		r.mu.Unlock()
		return
	}
	r.dirty = false
	r.seq++
	snap := sinkSnapshot{Flush: r.seq, Task: r.t.id, State: state}
	offsets := make(map[topicPartition]int64, len(r.assigned))
	for tp := range r.assigned {
		offsets[tp] = r.pos[tp]
	}
	md, level := snapshotMetadata(snap, r.pos, r.confirmed, offsets, r.metaMax)
	if level != r.degraded {
		r.logDegraded(level)
		r.degraded = level
	}
	r.mu.Unlock()

	acked, tooLarge, err := r.commit(ctx, cl, offsets, md)
	r.t.metrics().committed(err, time.Since(commitStart))

	r.mu.Lock()
	for tp, off := range acked {
		if r.assigned[tp] {
			r.confirmed[tp] = off
		}
	}
	if tooLarge > 0 && tooLarge <= r.metaMax {
		r.metaMax = tooLarge - 1
		r.t.log.Warn("the cluster refused commit metadata as too large (offset.metadata.max.bytes); sending less", "bytes", tooLarge)
	}
	r.mu.Unlock()
	switch {
	case err != nil && err.Error() != r.commitErr:
		// The output keeps the records: a snapshot committed for any
		// partition describes them, and the next flush commits again.
		r.t.log.Warn("commit failed; will retry at each flush", "err", err)
		r.commitErr = err.Error()
	case err != nil:
		r.t.log.Debug("commit failed again", "err", err)
	case r.commitErr != "":
		r.t.log.Info("commits succeed again")
		r.commitErr = ""
	}
}

// changedLocked reports whether there is anything to flush or commit.
func (r *sinkRunner) changedLocked() bool {
	if r.dirty {
		return true
	}
	for tp := range r.assigned {
		if c, ok := r.confirmed[tp]; !ok || c != r.pos[tp] {
			return true
		}
	}
	return false
}

func (r *sinkRunner) logDegraded(level int) {
	switch level {
	case metadataWhole:
		r.t.log.Info("the sink's snapshot fits in the commit metadata again")
	case metadataPruned:
		r.t.log.Info("the sink's snapshot leaves out partitions known committed, to fit in the commit metadata", "max_bytes", r.metaMax)
	case metadataOwn:
		r.t.log.Warn("the sink's snapshot does not fit in the commit metadata; each partition carries its own entry only: a commit that fails for some partitions, followed by a crash, may repeat their records", "max_bytes", r.metaMax)
	case metadataNone:
		r.t.log.Error("the task's state does not fit in the commit metadata; after a crash, records written since the last commit are written again", "max_bytes", r.metaMax)
	}
}

// commit sends one commit of offsets, each partition with its metadata,
// and returns the partitions the cluster acknowledged, and the length of
// the longest metadata refused as too large. err names the others.
func (r *sinkRunner) commit(ctx context.Context, cl *kgo.Client, offsets map[topicPartition]int64, md map[topicPartition]string) (acked map[topicPartition]int64, tooLarge int, err error) {
	if len(offsets) == 0 {
		return nil, 0, nil
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
	faults := commitFaults.Load()
	cctx = kgo.PreCommitFnContext(cctx, func(req *kmsg.OffsetCommitRequest) error {
		for i := range req.Topics {
			t := &req.Topics[i]
			for j := range t.Partitions {
				m := md[topicPartition{t.Topic, t.Partitions[j].Partition}]
				t.Partitions[j].Metadata = &m
			}
		}
		if faults != nil && faults.Before != nil {
			return faults.Before(req)
		}
		return nil
	})
	acked = map[topicPartition]int64{}
	var errs []error
	cl.CommitOffsetsSync(cctx, uncommitted, func(_ *kgo.Client, req *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, cerr error) {
		if faults != nil && faults.After != nil {
			resp, cerr = faults.After(req, resp, cerr)
		}
		if cerr != nil {
			errs = append(errs, cerr)
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				tp := topicPartition{t.Topic, p.Partition}
				off, sent := offsets[tp]
				if !sent {
					continue
				}
				if e := kerr.ErrorForCode(p.ErrorCode); e != nil {
					errs = append(errs, fmt.Errorf("%s/%d: %w", t.Topic, p.Partition, e))
					if errors.Is(e, kerr.OffsetMetadataTooLarge) {
						tooLarge = max(tooLarge, len(md[tp]))
					}
					continue
				}
				acked[tp] = off
			}
		}
	})
	if len(errs) == 0 {
		for tp := range offsets {
			if _, ok := acked[tp]; !ok {
				errs = append(errs, fmt.Errorf("%s/%d: not in the answer", tp.topic, tp.partition))
			}
		}
	}
	return acked, tooLarge, errors.Join(errs...)
}

// commitStarts commits the starting offsets of partitions that had none,
// before any of their records is put; the task fails if that commit fails.
func (r *sinkRunner) commitStarts(ctx context.Context, cl *kgo.Client) {
	r.mu.Lock()
	n := len(r.needStart)
	r.mu.Unlock()
	if n == 0 {
		return
	}
	r.flushCommit(ctx, cl)
	r.mu.Lock()
	defer r.mu.Unlock()
	var missing []string
	for tp := range r.needStart {
		if c, ok := r.confirmed[tp]; ok && c == r.pos[tp] {
			delete(r.needStart, tp)
			continue
		}
		missing = append(missing, fmt.Sprintf("%s/%d", tp.topic, tp.partition))
	}
	if len(missing) > 0 && ctx.Err() == nil {
		// Writing without it could repeat or skip records after a crash.
		r.fail(fmt.Errorf("committing the starting offsets of %s failed (see the log)", strings.Join(missing, ", ")))
	}
}

// committedOffset is a partition's committed offset and its metadata.
type committedOffset struct {
	at       int64
	metadata string
}

// onAssigned positions the new partitions (see the type's comment); on the
// first assignment of a run it first brings the task's output back to the
// newest snapshot.
func (r *sinkRunner) onAssigned(kctx context.Context, cl *kgo.Client, assigned map[string][]int32) {
	ctx, cancel := r.callbackContext(kctx)
	defer cancel()
	r.mu.Lock()
	skip := r.closed || r.failErr != nil
	r.mu.Unlock()
	if skip {
		return
	}
	adm := kadm.NewClient(cl)
	fetched, err := adm.FetchOffsets(ctx, r.group)
	if err != nil {
		r.callbackFail(fmt.Errorf("fetching committed offsets of group %s: %w", r.group, err))
		return
	}
	committed := map[topicPartition]committedOffset{}
	fetched.Each(func(o kadm.OffsetResponse) {
		if o.Err == nil && o.At >= 0 {
			committed[topicPartition{o.Topic, o.Partition}] = committedOffset{o.At, o.Metadata}
		}
	})
	var tps []topicPartition
	for topic, parts := range assigned {
		for _, p := range parts {
			if o, ok := fetched.Lookup(topic, p); ok && o.Err != nil {
				r.callbackFail(fmt.Errorf("fetching the committed offset of %s/%d: %w", topic, p, o.Err))
				return
			}
			tps = append(tps, topicPartition{topic, p})
		}
	}

	r.mu.Lock()
	missing, err := r.assignLocked(ctx, tps, committed)
	r.mu.Unlock()
	if err != nil {
		r.callbackFail(err)
		return
	}
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
		r.callbackFail(fmt.Errorf("listing offsets: %w", err))
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, tp := range missing {
		lo, ok := listed.Lookup(tp.topic, tp.partition)
		if !ok || lo.Err != nil {
			r.fail(fmt.Errorf("listing offsets of %s/%d: %v", tp.topic, tp.partition, lo.Err))
			return
		}
		r.pos[tp] = lo.Offset
		r.assigned[tp] = true
		r.needStart[tp] = true
	}
}

// assignLocked opens the task for the partitions tps, positions those with
// a committed offset or a position in the output, and returns the others;
// r.mu is held.
func (r *sinkRunner) assignLocked(ctx context.Context, tps []topicPartition, committed map[topicPartition]committedOffset) ([]topicPartition, error) {
	if r.closed || r.failErr != nil || r.life.Err() != nil {
		return nil, nil // nothing is consumed any more: leave the output as it is
	}
	var states []string
	if !r.recovered {
		if snap, next, ok := newestSnapshot(r.t.id, committed); ok {
			states = []string{snap.State}
			r.pos = next
			r.seq = snap.Flush
			r.t.log.Info("going back to the newest committed flush", "flush", snap.Flush, "state", snap.State, "partitions", len(next))
		} else {
			for _, tp := range tps {
				if c, ok := committed[tp]; ok && c.metadata != "" {
					states = append(states, c.metadata)
				}
			}
		}
	} else {
		r.t.log.Debug("partitions assigned while others are held; nothing dropped", "assigned", len(tps), "held", len(r.assigned))
	}
	if _, err := r.task.Open(ctx, states); err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	r.recovered = true
	var missing []topicPartition
	for _, tp := range tps {
		c, ok := committed[tp]
		n, have := r.pos[tp]
		switch {
		case ok && have:
			n = max(n, c.at)
		case ok:
			n = c.at
		case !have:
			missing = append(missing, tp)
			continue
		}
		r.pos[tp] = n
		r.assigned[tp] = true
		if ok {
			r.confirmed[tp] = c.at
		}
	}
	// Positions of partitions held elsewhere that the group has committed
	// at least as far need no carrying.
	for tp, n := range r.pos {
		if c, ok := committed[tp]; ok && !r.assigned[tp] && c.at >= n {
			delete(r.pos, tp)
		}
	}
	return missing, nil
}

// adjustOffsets starts the assigned partitions at their positions, which
// may be past their committed offsets.
func (r *sinkRunner) adjustOffsets(_ context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for topic, ps := range offsets {
		for p, o := range ps {
			tp := topicPartition{topic, p}
			if n, ok := r.pos[tp]; ok && r.assigned[tp] {
				ps[p] = o.At(n).WithEpoch(-1)
			}
		}
	}
	return offsets, nil
}

func (r *sinkRunner) onRevoked(kctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	ctx, cancel := r.callbackContext(kctx)
	defer cancel()
	r.flushCommit(ctx, cl)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.release(revoked)
}

func (r *sinkRunner) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.release(lost)
}

// release forgets partitions no longer assigned, but keeps their position
// in the output until it is known committed; r.mu is held.
func (r *sinkRunner) release(parts map[string][]int32) {
	for topic, ps := range parts {
		for _, p := range ps {
			tp := topicPartition{topic, p}
			if c, ok := r.confirmed[tp]; ok && c >= r.pos[tp] {
				delete(r.pos, tp)
			}
			delete(r.assigned, tp)
			delete(r.confirmed, tp)
			delete(r.needStart, tp)
			delete(r.hwm, tp)
		}
	}
}

// sinkSnapshot is the commit metadata of a sink flush:
//
//	{"sink_flush":12,"task":0,"state":"{\"file\":\"/var/log/out.txt\",\"size\":5120}","next":{"logs":{"0":340,"1":298}}}
//
// sink_flush numbers the task's flushes from 1, across runs; state is what
// the task's Flush returned; next maps topic and partition to the offset
// after the partition's last record in the output at that flush.
type sinkSnapshot struct {
	Flush uint64                     `json:"sink_flush"`
	Task  int                        `json:"task"`
	State string                     `json:"state"`
	Next  map[string]map[int32]int64 `json:"next"`
}

// parseSnapshot reads commit metadata written by flushCommit; ok is false
// for anything else (older versions' task states, other clients' metadata).
func parseSnapshot(md string) (s sinkSnapshot, ok bool) {
	if !strings.HasPrefix(md, `{"sink_flush":`) {
		return s, false
	}
	if json.Unmarshal([]byte(md), &s) != nil || s.Flush == 0 || s.Next == nil {
		return sinkSnapshot{}, false
	}
	return s, true
}

// newestSnapshot finds task's snapshot with the highest flush number among
// committed metadata, with the entries of every copy of it (a snapshot too
// large for one partition's metadata is spread over several).
func newestSnapshot(task int, committed map[topicPartition]committedOffset) (best sinkSnapshot, next map[topicPartition]int64, ok bool) {
	for _, c := range committed {
		s, sok := parseSnapshot(c.metadata)
		if !sok || s.Task != task || s.Flush < best.Flush {
			continue
		}
		if s.Flush > best.Flush {
			best, next = s, map[topicPartition]int64{}
		}
		for topic, ps := range s.Next {
			for p, n := range ps {
				if n < 0 {
					continue
				}
				tp := topicPartition{topic, p}
				next[tp] = max(next[tp], n)
			}
		}
	}
	return best, next, best.Flush > 0
}

// Levels of snapshotMetadata.
const (
	metadataWhole  = iota // every partition carries the whole snapshot
	metadataPruned        // ... without the entries known committed
	metadataOwn           // each partition carries its own entry only
	metadataNone          // the state alone does not fit: no metadata
)

// snapshotMetadata returns the metadata to commit with each partition of
// offsets: the snapshot s with pos as its entries, made smaller until it
// fits in limit bytes (see sinkRunner), and the level it took.
func snapshotMetadata(s sinkSnapshot, pos, confirmed, offsets map[topicPartition]int64, limit int) (map[topicPartition]string, int) {
	md := make(map[topicPartition]string, len(offsets))
	s.Next = entries(pos, func(topicPartition, int64) bool { return true })
	if b := encodeSnapshot(s); len(b) <= limit {
		for tp := range offsets {
			md[tp] = b
		}
		return md, metadataWhole
	}
	s.Next = entries(pos, func(tp topicPartition, n int64) bool {
		c, ok := confirmed[tp]
		return !ok || c != n
	})
	if b := encodeSnapshot(s); len(b) <= limit {
		for tp := range offsets {
			md[tp] = b
		}
		return md, metadataPruned
	}
	level := metadataOwn
	for tp, n := range offsets {
		s.Next = map[string]map[int32]int64{tp.topic: {tp.partition: n}}
		b := encodeSnapshot(s)
		if len(b) > limit {
			b, level = "", metadataNone
		}
		md[tp] = b
	}
	return md, level
}

func entries(pos map[topicPartition]int64, keep func(topicPartition, int64) bool) map[string]map[int32]int64 {
	next := map[string]map[int32]int64{}
	for tp, n := range pos {
		if !keep(tp, n) {
			continue
		}
		m := next[tp.topic]
		if m == nil {
			m = map[int32]int64{}
			next[tp.topic] = m
		}
		m[tp.partition] = n
	}
	return next
}

func encodeSnapshot(s sinkSnapshot) string {
	b, err := json.Marshal(s)
	if err != nil {
		return "" // strings and numbers only: cannot happen
	}
	return string(b)
}

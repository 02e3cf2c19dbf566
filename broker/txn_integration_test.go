package broker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/tributary-io/tributary/broker/group"
)

// txnProducer is a kgo transactional producer.
func txnProducer(t *testing.T, addr, id string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	return newClient(t, addr, append([]kgo.Opt{
		kgo.TransactionalID(id),
		kgo.TransactionTimeout(30 * time.Second),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	}, opts...)...)
}

// produceTxn produces values to partition 0 of topic in one transaction
// and commits or aborts it.
func produceTxn(t *testing.T, cl *kgo.Client, topic string, commit bool, values ...string) {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: 0, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce %s: %v", v, err)
		}
	}
	if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		t.Fatalf("end transaction (commit %v): %v", commit, err)
	}
}

// consumeValues reads partition 0 of topic from the start until the
// read_uncommitted end, with the given isolation, and returns the values
// of the data records.
func consumeValues(t *testing.T, addr, topic string, committed bool) []string {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	ends, err := newAdmin(t, addr).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(topic, 0)
	iso := kgo.ReadUncommitted()
	if committed {
		iso = kgo.ReadCommitted()
	}
	cl := newClient(t, addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchIsolationLevel(iso), kgo.KeepControlRecords())
	var out []string
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consuming %s (committed %v): got %q before the deadline, end %d", topic, committed, out, end.Offset)
		}
		if err := fs.Err(); err != nil {
			t.Fatalf("consume: %v", err)
		}
		done := false
		fs.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				out = append(out, string(r.Value))
			}
			if r.Offset+1 >= end.Offset {
				done = true
			}
		})
		if done {
			return out
		}
	}
}

// fetchRaw is one Fetch v11 of partition 0 of topic at offset.
func fetchRaw(t *testing.T, c *rawClient, topic string, offset int64, committed bool) kmsg.FetchResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.Version, req.ReplicaID, req.MaxBytes, req.SessionEpoch = 11, -1, 1<<20, -1
	if committed {
		req.IsolationLevel = 1
	}
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset, rp.PartitionMaxBytes = offset, 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	p := c.roundTrip(req).(*kmsg.FetchResponse).Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		t.Fatalf("fetch at %d: %s", offset, errName(p.ErrorCode))
	}
	return p
}

// endOffsets returns the read_uncommitted and read_committed latest
// offsets of partition 0 of topic.
func endOffsets(t *testing.T, addr, topic string) (end, stable int64) {
	t.Helper()
	ctx := testCtx(t, 10*time.Second)
	adm := newAdmin(t, addr)
	e, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	s, err := adm.ListCommittedOffsets(ctx, topic) // read_committed
	if err != nil {
		t.Fatal(err)
	}
	eo, _ := e.Lookup(topic, 0)
	so, _ := s.Lookup(topic, 0)
	return eo.Offset, so.Offset
}

func describeTxn(t *testing.T, addr, id string) kadm.DescribedTransaction {
	t.Helper()
	d, err := newAdmin(t, addr).DescribeTransactions(testCtx(t, 10*time.Second), id)
	if err != nil {
		t.Fatal(err)
	}
	dt, ok := d[id]
	if !ok || dt.Err != nil {
		t.Fatalf("describe %s: %+v", id, dt)
	}
	return dt
}

// TestTxnCommitAbortReadCommitted: committed records are read by a
// read_committed consumer, aborted ones never; a read_uncommitted one
// reads both; an open transaction holds the last stable offset, and with
// it read_committed fetches and ListOffsets.
func TestTxnCommitAbortReadCommitted(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "tx", 1, nil)
	cl := txnProducer(t, tb.addr, "t1")
	produceTxn(t, cl, "tx", true, "c1", "c2")
	produceTxn(t, cl, "tx", false, "a1", "a2", "a3")
	produceSync(t, newClient(t, tb.addr, kgo.RecordPartitioner(kgo.ManualPartitioner())), "tx", "plain")
	produceTxn(t, cl, "tx", true, "c3")

	if got := consumeValues(t, tb.addr, "tx", true); !slices.Equal(got, []string{"c1", "c2", "plain", "c3"}) {
		t.Fatalf("read_committed: %q", got)
	}
	if got := consumeValues(t, tb.addr, "tx", false); !slices.Equal(got, []string{"c1", "c2", "a1", "a2", "a3", "plain", "c3"}) {
		t.Fatalf("read_uncommitted: %q", got)
	}
	// The aborted transaction is listed for a read_committed fetch that
	// covers it.
	raw := dialRaw(t, tb.addr)
	p := fetchRaw(t, raw, "tx", 0, true)
	if len(p.AbortedTransactions) != 1 || p.AbortedTransactions[0].FirstOffset != 3 {
		t.Fatalf("aborted transactions: %+v", p.AbortedTransactions)
	}
	if p := fetchRaw(t, raw, "tx", 7, true); len(p.AbortedTransactions) != 0 {
		t.Fatalf("aborted transactions after the abort: %+v", p.AbortedTransactions)
	}

	// An open transaction holds the last stable offset.
	ctx := testCtx(t, 30*time.Second)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	r, err := cl.ProduceSync(ctx, &kgo.Record{Topic: "tx", Value: []byte("open")}).First()
	if err != nil {
		t.Fatal(err)
	}
	end, stable := endOffsets(t, tb.addr, "tx")
	if stable != r.Offset || end != r.Offset+1 {
		t.Fatalf("end %d, stable %d; the open transaction starts at %d", end, stable, r.Offset)
	}
	p = fetchRaw(t, raw, "tx", r.Offset, true)
	if len(p.RecordBatches) != 0 || p.LastStableOffset != r.Offset || p.HighWatermark != end {
		t.Fatalf("read_committed fetch at the LSO: %d bytes, LSO %d, HW %d", len(p.RecordBatches), p.LastStableOffset, p.HighWatermark)
	}
	if p := fetchRaw(t, raw, "tx", r.Offset, false); len(p.RecordBatches) == 0 || p.LastStableOffset != r.Offset {
		t.Fatalf("read_uncommitted fetch: %d bytes, LSO %d", len(p.RecordBatches), p.LastStableOffset)
	}
	pid := describeTxn(t, tb.addr, "t1").ProducerID
	if ps := describeProducers(t, tb.addr, "tx", pid); ps.CurrentTxnStartOffset != r.Offset {
		t.Fatalf("DescribeProducers: %+v", ps)
	}
	if d := describeTxn(t, tb.addr, "t1"); d.State != "Ongoing" || len(d.Topics["tx"]) != 1 {
		t.Fatalf("DescribeTransactions: %+v", d)
	}
	// A read_committed consumer waiting at the LSO gets the record once
	// the transaction commits.
	waiter := newClient(t, tb.addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"tx": {0: kgo.NewOffset().At(r.Offset)}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	got := make(chan string, 1)
	go func() {
		for {
			fs := waiter.PollFetches(ctx)
			if ctx.Err() != nil {
				got <- "timeout"
				return
			}
			if recs := fs.Records(); len(recs) > 0 {
				got <- string(recs[0].Value)
				return
			}
		}
	}()
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	if v := <-got; v != "open" {
		t.Fatalf("waiting read_committed consumer got %q", v)
	}
	if end, stable := endOffsets(t, tb.addr, "tx"); end != stable {
		t.Fatalf("after the commit: end %d, stable %d", end, stable)
	}
	if ps := describeProducers(t, tb.addr, "tx", pid); ps.CurrentTxnStartOffset != -1 {
		t.Fatalf("DescribeProducers after the commit: %+v", ps)
	}
	lt, err := newAdmin(t, tb.addr).ListTransactions(ctx, nil, []string{"CompleteCommit"})
	if err != nil || !slices.Contains(lt.TransactionalIDs(), "t1") {
		t.Fatalf("ListTransactions: %v %v", lt, err)
	}
}

func describeProducers(t *testing.T, addr, topic string, pid int64) kadm.DescribedProducer {
	t.Helper()
	d, err := newAdmin(t, addr).DescribeProducers(testCtx(t, 10*time.Second), kadm.TopicsSet{topic: {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	var out kadm.DescribedProducer
	n := 0
	d.EachProducer(func(p kadm.DescribedProducer) {
		if p.ProducerID == pid {
			out = p
			n++
		}
	})
	if n == 0 {
		t.Fatal("no producer described")
	}
	return out
}

// TestTxnFencing: a second producer with the same transactional id fences
// the first and aborts its open transaction.
func TestTxnFencing(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "fence", 1, nil)
	old := txnProducer(t, tb.addr, "f")
	ctx := testCtx(t, 30*time.Second)
	if err := old.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := old.ProduceSync(ctx, &kgo.Record{Topic: "fence", Value: []byte("zombie")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	fresh := txnProducer(t, tb.addr, "f")
	produceTxn(t, fresh, "fence", true, "fresh")
	err := old.EndTransaction(ctx, kgo.TryCommit)
	if !errors.Is(err, kerr.ProducerFenced) && !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Fatalf("the fenced producer's commit: %v", err)
	}
	if got := consumeValues(t, tb.addr, "fence", true); !slices.Equal(got, []string{"fresh"}) {
		t.Fatalf("read_committed: %q", got)
	}
	// The old epoch cannot write, even outside the coordinator's view.
	c := dialRaw(t, tb.addr)
	ar := kmsg.NewPtrAddPartitionsToTxnRequest()
	ar.Version, ar.TransactionalID = 3, "f"
	d := describeTxn(t, tb.addr, "f")
	ar.ProducerID, ar.ProducerEpoch = d.ProducerID, d.ProducerEpoch-1
	at := kmsg.NewAddPartitionsToTxnRequestTopic()
	at.Topic, at.Partitions = "fence", []int32{0}
	ar.Topics = append(ar.Topics, at)
	if p := c.roundTrip(ar).(*kmsg.AddPartitionsToTxnResponse).Topics[0].Partitions[0]; p.ErrorCode != kerr.ProducerFenced.Code {
		t.Fatalf("AddPartitionsToTxn v3 of an old epoch: %s", errName(p.ErrorCode))
	}
	ar.Version = 1
	if p := c.roundTrip(ar).(*kmsg.AddPartitionsToTxnResponse).Topics[0].Partitions[0]; p.ErrorCode != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("AddPartitionsToTxn v1 of an old epoch: %s", errName(p.ErrorCode))
	}
}

// TestTxnProduceNeedsPartitionInTxn: a transactional batch to a
// partition not added to the producer's transaction is refused.
func TestTxnProduceNeedsPartitionInTxn(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "np", 1, nil)
	c := dialRaw(t, tb.addr)
	ip := kmsg.NewPtrInitProducerIDRequest()
	id := "np"
	ip.Version, ip.TransactionalID, ip.TransactionTimeoutMillis = 4, &id, 60000
	ir := c.roundTrip(ip).(*kmsg.InitProducerIDResponse)
	if ir.ErrorCode != 0 {
		t.Fatal(errName(ir.ErrorCode))
	}
	batch := testBatch(1, ir.ProducerID, ir.ProducerEpoch, 0, 10)
	batch = markTransactional(batch)
	req := produceRequest(9, -1, "np", 0, batch)
	req.TransactionID = &id
	if p := producePartition(t, c.roundTrip(req)); p.ErrorCode != kerr.InvalidTxnState.Code {
		t.Fatalf("produce outside the transaction: %s", errName(p.ErrorCode))
	}
	ar := kmsg.NewPtrAddPartitionsToTxnRequest()
	ar.Version, ar.TransactionalID, ar.ProducerID, ar.ProducerEpoch = 3, id, ir.ProducerID, ir.ProducerEpoch
	at := kmsg.NewAddPartitionsToTxnRequestTopic()
	at.Topic, at.Partitions = "np", []int32{0}
	ar.Topics = append(ar.Topics, at)
	unknown := kmsg.NewAddPartitionsToTxnRequestTopic()
	unknown.Topic, unknown.Partitions = "missing", []int32{0}
	ar.Topics = append(ar.Topics, unknown)
	resp := c.roundTrip(ar).(*kmsg.AddPartitionsToTxnResponse)
	if resp.Topics[0].Partitions[0].ErrorCode != kerr.OperationNotAttempted.Code || resp.Topics[1].Partitions[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("add with an unknown partition: %s, %s", errName(resp.Topics[0].Partitions[0].ErrorCode), errName(resp.Topics[1].Partitions[0].ErrorCode))
	}
	ar.Topics = ar.Topics[:1]
	if p := c.roundTrip(ar).(*kmsg.AddPartitionsToTxnResponse).Topics[0].Partitions[0]; p.ErrorCode != 0 {
		t.Fatal(errName(p.ErrorCode))
	}
	req = produceRequest(9, -1, "np", 0, markTransactional(testBatch(1, ir.ProducerID, ir.ProducerEpoch, 0, 10)))
	req.TransactionID = &id
	if p := producePartition(t, c.roundTrip(req)); p.ErrorCode != 0 {
		t.Fatalf("produce in the transaction: %s", errName(p.ErrorCode))
	}
	req = produceRequest(9, -1, "np", 0, markTransactional(testBatch(1, ir.ProducerID, ir.ProducerEpoch+1, 0, 10)))
	req.TransactionID = &id
	if p := producePartition(t, c.roundTrip(req)); p.ErrorCode != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("produce at another epoch: %s", errName(p.ErrorCode))
	}
	// An administrator's WriteTxnMarkers ends the transaction in the
	// partition (kafka-transactions.sh abort).
	wm := kmsg.NewPtrWriteTxnMarkersRequest()
	wm.Version = 1
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID, m.ProducerEpoch, m.Committed = ir.ProducerID, ir.ProducerEpoch, false
	mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	mt.Topic, mt.Partitions = "np", []int32{0}
	m.Topics = append(m.Topics, mt)
	wm.Markers = append(wm.Markers, m)
	if p := c.roundTrip(wm).(*kmsg.WriteTxnMarkersResponse).Markers[0].Topics[0].Partitions[0]; p.ErrorCode != 0 {
		t.Fatalf("WriteTxnMarkers: %s", errName(p.ErrorCode))
	}
	if end, stable := endOffsets(t, tb.addr, "np"); end != 2 || stable != 2 {
		t.Fatalf("after the marker: end %d, stable %d", end, stable)
	}
}

// TestTxnTimeoutAborts: a transaction open longer than its timeout is
// aborted by the coordinator, and its producer fenced.
func TestTxnTimeoutAborts(t *testing.T) {
	tb := startBroker(t, "transaction.abort.timed.out.transaction.cleanup.interval.ms=50")
	createTopic(t, tb.addr, "to", 1, nil)
	cl := txnProducer(t, tb.addr, "to", kgo.TransactionTimeout(time.Second))
	ctx := testCtx(t, 30*time.Second)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "to", Value: []byte("late")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if _, stable := endOffsets(t, tb.addr, "to"); stable != 0 {
		t.Fatalf("stable offset %d while open", stable)
	}
	waitUntil(t, 20*time.Second, "the transaction to be aborted", func() bool {
		return describeTxn(t, tb.addr, "to").State == "CompleteAbort"
	})
	if end, stable := endOffsets(t, tb.addr, "to"); end != 2 || stable != 2 {
		t.Fatalf("after the timeout: end %d, stable %d", end, stable)
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err == nil {
		t.Fatal("the timed-out transaction committed")
	}
	if got := consumeValues(t, tb.addr, "to", true); len(got) != 0 {
		t.Fatalf("read_committed after the timeout: %q", got)
	}
}

// waitUntil polls cond until it holds or the deadline passes.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTxnSurvivesRestart: a transaction open when the broker stops (or
// crashes) is still open after it starts again, holding the last stable
// offset; its producer can then abort it, or its timeout does.
func TestTxnSurvivesRestart(t *testing.T) {
	open := func(t *testing.T, tb *testBroker, id string, timeout time.Duration) (first int64, d kadm.DescribedTransaction) {
		t.Helper()
		createTopic(t, tb.addr, "rs", 1, nil)
		produceSync(t, newClient(t, tb.addr), "rs", "before")
		cl := txnProducer(t, tb.addr, id, kgo.TransactionTimeout(timeout))
		ctx := testCtx(t, 30*time.Second)
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		r, err := cl.ProduceSync(ctx, &kgo.Record{Topic: "rs", Value: []byte("pending")}).First()
		if err != nil {
			t.Fatal(err)
		}
		return r.Offset, describeTxn(t, tb.addr, id)
	}
	check := func(t *testing.T, addr, id string, first int64) {
		t.Helper()
		if d := describeTxn(t, addr, id); d.State != "Ongoing" {
			t.Fatalf("after the restart: %+v", d)
		}
		if end, stable := endOffsets(t, addr, "rs"); stable != first || end != first+1 {
			t.Fatalf("after the restart: end %d, stable %d, the transaction starts at %d", end, stable, first)
		}
	}

	t.Run("clean restart then the producer aborts", func(t *testing.T) {
		tb := startBroker(t)
		first, d := open(t, tb, "rs1", 30*time.Second)
		tb.restart()
		check(t, tb.addr, "rs1", first)
		c := dialRaw(t, tb.addr)
		et := kmsg.NewPtrEndTxnRequest()
		et.Version, et.TransactionalID, et.ProducerID, et.ProducerEpoch, et.Commit = 3, "rs1", d.ProducerID, d.ProducerEpoch, false
		if r := c.roundTrip(et).(*kmsg.EndTxnResponse); r.ErrorCode != 0 {
			t.Fatalf("abort after the restart: %s", errName(r.ErrorCode))
		}
		if got := consumeValues(t, tb.addr, "rs", true); !slices.Equal(got, []string{"before"}) {
			t.Fatalf("read_committed: %q", got)
		}
		tb.restart() // the aborted transaction stays aborted
		if got := consumeValues(t, tb.addr, "rs", true); !slices.Equal(got, []string{"before"}) {
			t.Fatalf("read_committed after a second restart: %q", got)
		}
	})

	t.Run("crash then the timeout aborts", func(t *testing.T) {
		tb := startBroker(t)
		first, _ := open(t, tb, "rs2", 2*time.Second)
		crashed := t.TempDir()
		copyDir(t, tb.dir, crashed) // the files as kill -9 leaves them
		tb.stop()
		tb2 := startBrokerIn(t, crashed, "transaction.abort.timed.out.transaction.cleanup.interval.ms=50")
		check(t, tb2.addr, "rs2", first)
		waitUntil(t, 20*time.Second, "the timeout to abort the transaction", func() bool {
			return describeTxn(t, tb2.addr, "rs2").State == "CompleteAbort"
		})
		if got := consumeValues(t, tb2.addr, "rs", true); !slices.Equal(got, []string{"before"}) {
			t.Fatalf("read_committed: %q", got)
		}
	})
}

// TestTxnConsumeTransformProduce: kgo's GroupTransactSession copies a
// topic exactly once: an aborted round is read again, and the group's
// offsets move with the committed transactions only (TxnOffsetCommit,
// RequireStable).
func TestTxnConsumeTransformProduce(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "in", 2, nil)
	createTopic(t, tb.addr, "out", 1, nil)
	const n = 200
	var vals []string
	for i := range n {
		vals = append(vals, strconv.Itoa(i))
	}
	produceSync(t, newClient(t, tb.addr), "in", vals...)

	sess, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(tb.addr),
		kgo.TransactionalID("etl"),
		kgo.TransactionTimeout(30*time.Second),
		kgo.ConsumerGroup("etl-group"),
		kgo.ConsumeTopics("in"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ctx := testCtx(t, 60*time.Second)
	copied, rounds, aborted := 0, 0, false
	for copied < n {
		fs := sess.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("copied %d of %d", copied, n)
		}
		recs := fs.Records()
		if len(recs) == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			sess.Produce(ctx, &kgo.Record{Topic: "out", Partition: 0, Value: []byte("copy-" + string(r.Value))}, func(_ *kgo.Record, err error) {
				if err != nil && !errors.Is(err, kgo.ErrAborting) {
					t.Errorf("produce: %v", err)
				}
			})
		}
		abort := !aborted
		if abort {
			// Written, then aborted: read_committed must skip them.
			if err := sess.Client().Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		committed, err := sess.End(ctx, kgo.TransactionEndTry(!abort))
		if err != nil {
			t.Fatalf("end: %v", err)
		}
		rounds++
		if abort {
			aborted = true
			if committed {
				t.Fatal("the aborted round committed")
			}
			continue
		}
		if committed {
			copied += len(recs)
		}
	}
	got := consumeValues(t, tb.addr, "out", true)
	if len(got) != n {
		t.Fatalf("read_committed out has %d records, want %d (rounds %d)", len(got), n, rounds)
	}
	seen := map[string]bool{}
	for _, v := range got {
		if seen[v] {
			t.Fatalf("%s copied twice", v)
		}
		seen[v] = true
	}
	if all := consumeValues(t, tb.addr, "out", false); len(all) <= n {
		t.Fatalf("read_uncommitted out has %d records; the aborted round should be there too", len(all))
	}
	offs, err := newAdmin(t, tb.addr).FetchOffsets(ctx, "etl-group")
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
	if sum != n {
		t.Fatalf("the group's committed offsets add up to %d, want %d", sum, n)
	}
}

// TestTxnVersionGuess: what franz-go's kversion.VersionGuess (kcl and
// other tools) makes of this broker's ApiVersions: "between v3.6 and
// v3.7". It was "between v0.10.2 and v0.11.0" before the transaction
// APIs (keys 24-28), then "between v0.11.0 and v1.0" until
// AlterReplicaLogDirs (34) and the delegation token keys (38-41) were
// served, then "between v3.5 and v3.6" until AddPartitionsToTxn v4.
//
// Where it stops: the guess takes the newest release all of whose keys
// are advertised at that release's version or above (it ignores
// broker-to-broker keys such as LeaderAndIsr, AlterPartition, Envelope
// and WriteTxnMarkers, which Kafka's brokers do not serve clients
// either). Kafka 3.7 adds ConsumerGroupHeartbeat (68), KIP-848's consumer
// group protocol, which the group coordinator (package group) does not
// implement; 3.8 adds ConsumerGroupDescribe (69) and AddPartitionsToTxn
// v5, 3.9 FindCoordinator v6 (share groups, KIP-932). It can never be an
// exact release: several keys are served at versions newer than 3.7
// (Produce v13, Fetch v18 are Kafka 4.1's).
func TestTxnVersionGuess(t *testing.T) {
	tb := startBroker(t)
	cl := newClient(t, tb.addr)
	vs, err := cl.Request(testCtx(t, 10*time.Second), kmsg.NewPtrApiVersionsRequest())
	if err != nil {
		t.Fatal(err)
	}
	ours := kversion.FromApiVersionsResponse(vs.(*kmsg.ApiVersionsResponse))
	guess := ours.VersionGuess()
	t.Logf("kversion guess: %s", guess)
	if guess != "between v3.6 and v3.7" {
		t.Errorf("version guess %q, want \"between v3.6 and v3.7\"", guess)
	}
	// Kafka 3.7 is out of reach by ConsumerGroupHeartbeat alone.
	skipped := map[int16]bool{4: true, 5: true, 6: true, 7: true, 27: true, 56: true, 57: true, 58: true, 67: true, 71: true, 72: true}
	var short []string
	kversion.V3_7_0().EachMaxKeyVersion(func(k, v int16) {
		if m, ok := ours.LookupMaxKeyVersion(k); !skipped[k] && (!ok || m < v) {
			short = append(short, fmt.Sprintf("%s v%d", kmsg.NameForKey(k), v))
		}
	})
	if strings.Join(short, ",") != "ConsumerGroupHeartbeat v0" {
		t.Errorf("short of Kafka 3.7 by %v, want ConsumerGroupHeartbeat v0 only", short)
	}
}

// markTransactional sets a batch's transactional bit and its CRC.
func markTransactional(b []byte) []byte {
	attrs := binary.BigEndian.Uint16(b[21:])
	binary.BigEndian.PutUint16(b[21:], attrs|0x10)
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

// TestTxnSarama: sarama's transactional producer commits and aborts; a
// read_committed sarama consumer reads the committed records only.
func TestTxnSarama(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "sarama-tx", 1, nil)
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.Producer.Idempotent = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Transaction.ID = "sarama-txn"
	cfg.Producer.Transaction.Timeout = 30 * time.Second
	cfg.Net.MaxOpenRequests = 1
	prod, err := sarama.NewSyncProducer([]string{tb.addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	round := func(commit bool, values ...string) {
		t.Helper()
		if err := prod.BeginTxn(); err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: "sarama-tx", Value: sarama.StringEncoder(v)}); err != nil {
				t.Fatalf("send %s: %v", v, err)
			}
		}
		var err error
		if commit {
			err = prod.CommitTxn()
		} else {
			err = prod.AbortTxn()
		}
		if err != nil {
			t.Fatalf("end (commit %v): %v", commit, err)
		}
	}
	round(true, "s1", "s2")
	round(false, "x1", "x2")
	round(true, "s3")

	ccfg := sarama.NewConfig()
	ccfg.Version = sarama.V3_6_0_0
	ccfg.Consumer.IsolationLevel = sarama.ReadCommitted
	consumer, err := sarama.NewConsumer([]string{tb.addr}, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition("sarama-tx", 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	timeout := time.After(30 * time.Second)
	var got []string
	for len(got) < 3 {
		select {
		case m := <-pc.Messages():
			got = append(got, string(m.Value))
		case err := <-pc.Errors():
			t.Fatal(err)
		case <-timeout:
			t.Fatalf("read_committed sarama consumer got %q", got)
		}
	}
	if !slices.Equal(got, []string{"s1", "s2", "s3"}) {
		t.Fatalf("read_committed sarama consumer: %q", got)
	}
	// Nothing else is delivered: the consumer is at the end, the
	// aborted records behind it.
	if hw := pc.HighWaterMarkOffset(); hw != 8 {
		t.Fatalf("high watermark %d, want 8 (5 records, 3 markers)", hw)
	}
	if got := consumeValues(t, tb.addr, "sarama-tx", false); !slices.Equal(got, []string{"s1", "s2", "x1", "x2", "s3"}) {
		t.Fatalf("read_uncommitted: %q", got)
	}
}

// TestTxnMatchesKfake runs one transactional scenario against this
// broker and against kfake (franz-go's reference fake) and compares what
// the clients see: the values read read_committed and read_uncommitted,
// the end and last stable offsets with a transaction open, and the aborted
// transactions a read_committed fetch lists.
func TestTxnMatchesKfake(t *testing.T) {
	type seen struct {
		committed, uncommitted []string
		end, stable            int64
		aborted                []int64
	}
	scenario := func(t *testing.T, addr string) seen {
		createTopic(t, addr, "cmp", 1, nil)
		cl := txnProducer(t, addr, "cmp-tx")
		produceTxn(t, cl, "cmp", true, "c1", "c2")
		produceTxn(t, cl, "cmp", false, "a1")
		produceTxn(t, cl, "cmp", true, "c3")
		var s seen
		s.committed = consumeValues(t, addr, "cmp", true)
		s.uncommitted = consumeValues(t, addr, "cmp", false)
		p := fetchRaw(t, dialRaw(t, addr), "cmp", 0, true)
		for _, a := range p.AbortedTransactions {
			s.aborted = append(s.aborted, a.FirstOffset)
		}
		ctx := testCtx(t, 30*time.Second)
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "cmp", Value: []byte("open")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		s.end, s.stable = endOffsets(t, addr, "cmp")
		if err := cl.EndTransaction(ctx, kgo.TryAbort); err != nil {
			t.Fatal(err)
		}
		return s
	}
	tb := startBroker(t)
	ours := scenario(t, tb.addr)
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	theirs := scenario(t, c.ListenAddrs()[0])
	if fmt.Sprint(ours) != fmt.Sprint(theirs) {
		t.Fatalf("this broker: %+v\nkfake:       %+v", ours, theirs)
	}
	t.Logf("both: %+v", ours)
}

// TestTxnDescribeGroup: DescribeTransactions lists a transaction's group
// as Kafka does, by its partition of __consumer_offsets; an empty
// transactional id is INVALID_REQUEST.
func TestTxnDescribeGroup(t *testing.T) {
	tb := startBroker(t)
	c := dialRaw(t, tb.addr)
	empty := ""
	ip := kmsg.NewPtrInitProducerIDRequest()
	ip.Version, ip.TransactionalID, ip.TransactionTimeoutMillis = 4, &empty, 60000
	if r := c.roundTrip(ip).(*kmsg.InitProducerIDResponse); r.ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("empty transactional id: %s", errName(r.ErrorCode))
	}
	id := "dg"
	ip.TransactionalID = &id
	ir := c.roundTrip(ip).(*kmsg.InitProducerIDResponse)
	ao := kmsg.NewPtrAddOffsetsToTxnRequest()
	ao.Version, ao.TransactionalID, ao.ProducerID, ao.ProducerEpoch, ao.Group = 3, id, ir.ProducerID, ir.ProducerEpoch, "dg-group"
	if r := c.roundTrip(ao).(*kmsg.AddOffsetsToTxnResponse); r.ErrorCode != 0 {
		t.Fatalf("AddOffsetsToTxn: %s", errName(r.ErrorCode))
	}
	d := describeTxn(t, tb.addr, id)
	want := group.OffsetsTopicPartition("dg-group", 50)
	if _, ok := d.Topics["__consumer_offsets"][want]; d.State != "Ongoing" || !ok {
		t.Fatalf("described: %+v, want __consumer_offsets partition %d", d, want)
	}
}

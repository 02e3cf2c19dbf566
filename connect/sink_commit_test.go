package connect_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
)

// clusters are the Kafka implementations the sink's exactly-once tests run
// against: ours, and franz-go's kfake.
var clusters = []struct {
	name  string
	start func(testing.TB) string
}{
	{"bundled", startBundledBroker}, // lifecycle_test.go
	{"kfake", func(t testing.TB) string { return startKfake(t) }},
}

func adminClient(t testing.TB, addr string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func createTopic(t testing.TB, adm *kadm.Client, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := adm.CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = r.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// partitionProducer sends numbered records to chosen partitions: the
// record n of partition p has the value "p<p> <n>".
type partitionProducer struct {
	t           testing.TB
	addr, topic string
	cl          *kgo.Client
	next        map[int32]int
}

func newPartitionProducer(t testing.TB, addr, topic string) *partitionProducer {
	t.Helper()
	p := &partitionProducer{t: t, addr: addr, topic: topic, next: map[int32]int{}}
	p.reconnect()
	return p
}

// reconnect starts a new client, which sees partitions added since.
func (p *partitionProducer) reconnect() {
	p.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.addr), kgo.DefaultProduceTopic(p.topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(cl.Close)
	p.cl = cl
}

func (p *partitionProducer) send(n int, partitions ...int32) {
	p.t.Helper()
	var recs []*kgo.Record
	for _, part := range partitions {
		for range n {
			recs = append(recs, &kgo.Record{Partition: part, Value: fmt.Appendf(nil, "p%d %06d", part, p.next[part])})
			p.next[part]++
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		p.t.Fatal(err)
	}
}

func (p *partitionProducer) total() int {
	n := 0
	for _, c := range p.next {
		n += c
	}
	return n
}

// checkExactlyOnce reads the sink file: every record sent appears once, in
// its partition's order.
func (p *partitionProducer) checkExactlyOnce(t testing.TB, out string) {
	t.Helper()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int32]int{}
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var part int32
		var n int
		if _, err := fmt.Sscanf(line, "p%d %d", &part, &n); err != nil {
			t.Fatalf("line %d: %q", i+1, line)
		}
		if n != seen[part] {
			t.Fatalf("line %d: %q, want record %d of partition %d (%d of %d records were written once before it)", i+1, line, seen[part], part, i, p.total())
		}
		seen[part]++
	}
	for part, n := range p.next {
		if seen[part] != n {
			t.Fatalf("partition %d: %d records in the file, want %d", part, seen[part], n)
		}
	}
}

// waitLines polls until the file holds at least n lines.
func waitLines(t testing.TB, out string, n int) {
	t.Helper()
	waitFor(t, 60*time.Second, fmt.Sprintf("%d lines in %s", n, out), func() bool {
		b, _ := os.ReadFile(out)
		return bytes.Count(b, []byte("\n")) >= n
	})
}

// waitCommitted polls until the group's committed offsets are the ends of
// the topic's partitions: then nothing more is written.
func waitCommitted(t testing.TB, adm *kadm.Client, group, topic string) {
	t.Helper()
	waitFor(t, 60*time.Second, "the sink's commits to reach the partitions' ends", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			return false
		}
		committed, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			return false
		}
		ok := true
		ends.Each(func(e kadm.ListedOffset) {
			c, found := committed.Lookup(e.Topic, e.Partition)
			ok = ok && found && c.At == e.Offset
		})
		return ok
	})
}

// commitFaults fails the commits of one partition (the victim) once it has
// records, the way a Kafka cluster can answer a commit partly: the broker
// never gets it (rejected), or gets it and the answer is lost (ackLost), or
// one commit of the victim is held back and lands after newer ones
// (reordered). Then, to imitate a kill -9 of the worker, it refuses every
// commit (killed). Commits are sent one at a time.
type commitFaults struct {
	mode   string
	victim int32

	mu           sync.Mutex
	killed       bool
	victimFailed bool            // in the commit under way
	partial      map[int32]int64 // the others' offsets acknowledged in a commit that failed for the victim
	victimAcked  int64           // the victim's offset last acknowledged
	stale        *kmsg.OffsetCommitRequestTopicPartition
	replay       bool
	replayed     bool
}

func (f *commitFaults) hooks() *connect.CommitFaults {
	return &connect.CommitFaults{Before: f.before, After: f.after}
}

func (f *commitFaults) before(req *kmsg.OffsetCommitRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.killed {
		return errors.New("the worker was killed")
	}
	f.victimFailed = false
	for i := range req.Topics {
		ps := req.Topics[i].Partitions[:0]
		for _, p := range req.Topics[i].Partitions {
			if p.Partition != f.victim || p.Offset == 0 {
				ps = append(ps, p)
				continue
			}
			switch f.mode {
			case "rejected":
				f.victimFailed = true
				continue // never reaches the broker
			case "ackLost":
				f.victimFailed = true
			case "reordered":
				if f.stale == nil {
					stale := p
					f.stale = &stale // sent later, after newer ones
					f.victimFailed = true
					continue
				}
				if f.replay && !f.replayed {
					p = *f.stale
					f.replayed = true
				}
			}
			ps = append(ps, p)
		}
		req.Topics[i].Partitions = ps
	}
	return nil
}

func (f *commitFaults) after(req *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) (*kmsg.OffsetCommitResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil || resp == nil {
		return resp, err
	}
	sent := map[int32]int64{}
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			sent[p.Partition] = p.Offset
		}
	}
	acked := map[int32]int64{}
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			p := &resp.Topics[i].Partitions[j]
			if p.Partition == f.victim && f.mode == "ackLost" && f.victimFailed {
				p.ErrorCode = kerr.RequestTimedOut.Code
			}
			if p.ErrorCode == 0 {
				acked[p.Partition] = sent[p.Partition]
			}
		}
	}
	if off, ok := acked[f.victim]; ok {
		f.victimAcked = off
	}
	if f.victimFailed {
		delete(acked, f.victim)
		if len(acked) > 0 {
			f.partial = acked
		}
	}
	return resp, nil
}

// partialAt reports whether a commit acknowledged the other partitions at
// off (any offset if off is -1) while the victim's failed.
func (f *commitFaults) partialAt(off int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.partial) == 0 {
		return false
	}
	for _, o := range f.partial {
		if off >= 0 && o != off {
			return false
		}
	}
	return true
}

func (f *commitFaults) victimAckedAt(off int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.victimAcked == off
}

func (f *commitFaults) kill() {
	f.mu.Lock()
	f.killed = true
	f.mu.Unlock()
}

func (f *commitFaults) startReplay() {
	f.mu.Lock()
	f.replay = true
	f.mu.Unlock()
}

func (f *commitFaults) didReplay() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.replayed
}

// TestSinkPartialCommitFailure: a flush's commit succeeds for two
// partitions and fails for the third (rejected, acknowledgement lost, or
// overtaken by an older commit), records are written that are never
// committed, and the worker dies without a final commit. After a restart
// every record is in the sink file exactly once, in partition order.
func TestSinkPartialCommitFailure(t *testing.T) {
	for _, cluster := range clusters {
		for _, mode := range []string{"rejected", "ackLost", "reordered"} {
			t.Run(cluster.name+"/"+mode, func(t *testing.T) {
				addr := cluster.start(t)
				adm := adminClient(t, addr)
				const topic = "eo"
				createTopic(t, adm, topic, 3)
				prod := newPartitionProducer(t, addr, topic)
				prod.send(200, 0, 1, 2)

				faults := &commitFaults{mode: mode, victim: 1}
				connect.SetCommitFaults(t, faults.hooks())
				dir := t.TempDir()
				out := filepath.Join(dir, "out.txt")
				wp := workerProps(addr, dir, "offset.flush.interval.ms=50")
				w := startWorker(t, wp, sinkProps(dir, out, topic))
				waitLines(t, out, 600)
				at := int64(200)
				if mode == "reordered" {
					at = -1 // only the victim's first commit with records fails
				}
				waitFor(t, 30*time.Second, "a commit that fails for one partition only", func() bool { return faults.partialAt(at) })
				if mode == "reordered" {
					// The victim's next commit gets through; then the
					// held-back one lands after it.
					prod.send(10, 0, 1, 2)
					waitFor(t, 30*time.Second, "a commit of the victim at 210", func() bool { return faults.victimAckedAt(210) })
					faults.startReplay()
					prod.send(10, 0, 2)
					waitFor(t, 30*time.Second, "the held-back commit to be sent", faults.didReplay)
				}
				// Written, never committed; then a kill.
				faults.kill()
				prod.send(50, 0, 1, 2)
				waitLines(t, out, prod.total())
				if err := w.Close(context.Background()); err != nil {
					t.Fatal(err)
				}

				connect.SetCommitFaults(t, nil)
				prod.send(50, 0, 1, 2)
				startWorker(t, wp, sinkProps(dir, out, topic))
				waitCommitted(t, adm, "connect-sink", topic)
				prod.checkExactlyOnce(t, out)
			})
		}
	}
}

// TestSinkPartitionsAddedWhileHeld: partitions added to the topic are
// assigned while the others are held (no cut of the file then), while one
// partition's commits keep failing; after a kill-like stop and a restart
// every record is in the file once.
func TestSinkPartitionsAddedWhileHeld(t *testing.T) {
	for _, cluster := range clusters {
		t.Run(cluster.name, func(t *testing.T) {
			addr := cluster.start(t)
			adm := adminClient(t, addr)
			const topic = "grow"
			createTopic(t, adm, topic, 2)
			prod := newPartitionProducer(t, addr, topic)
			prod.send(100, 0, 1)

			faults := &commitFaults{mode: "rejected", victim: 1}
			connect.SetCommitFaults(t, faults.hooks())
			dir := t.TempDir()
			out := filepath.Join(dir, "out.txt")
			wp := workerProps(addr, dir, "offset.flush.interval.ms=50", "consumer.metadata.max.age.ms=5000")
			w := startWorker(t, wp, sinkProps(dir, out, topic))
			waitLines(t, out, 200)
			waitFor(t, 30*time.Second, "a commit that fails for one partition only", func() bool { return faults.partialAt(100) })

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := adm.CreatePartitions(ctx, 2, topic); err != nil {
				t.Fatal(err)
			}
			prod.reconnect()
			prod.send(100, 2, 3)
			prod.send(20, 0, 1)
			waitLines(t, out, prod.total())
			waitFor(t, 30*time.Second, "a commit of the new partitions", func() bool {
				return committedAt(adm, topic, 0) == 120 && committedAt(adm, topic, 2) == 100 && committedAt(adm, topic, 3) == 100
			})

			faults.kill()
			prod.send(30, 0, 1, 2, 3)
			waitLines(t, out, prod.total())
			if err := w.Close(context.Background()); err != nil {
				t.Fatal(err)
			}

			connect.SetCommitFaults(t, nil)
			prod.send(10, 0, 1, 2, 3)
			startWorker(t, wp, sinkProps(dir, out, topic))
			waitCommitted(t, adm, "connect-sink", topic)
			prod.checkExactlyOnce(t, out)
		})
	}
}

// committedAt returns the group's committed offset of one partition, or -1.
func committedAt(adm *kadm.Client, topic string, p int32) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	committed, err := adm.FetchOffsets(ctx, "connect-sink")
	if err != nil {
		return -1
	}
	o, ok := committed.Lookup(topic, p)
	if !ok {
		return -1
	}
	return o.At
}

// putWaitSink is a sink connector whose Put waits, as a full disk makes
// FileStreamSink wait, on a record "block", until its ctx ends.
type putWaitSink struct {
	cfg     *config.Values
	mu      sync.Mutex
	put     []string
	blocked chan struct{}
}

func (s *putWaitSink) Start(_ context.Context, cfg *config.Values) error { s.cfg = cfg; return nil }
func (s *putWaitSink) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{s.cfg.Originals()}, nil
}
func (s *putWaitSink) Stop() error               { return nil }
func (s *putWaitSink) NewTask() connect.SinkTask { return (*putWaitTask)(s) }

func (s *putWaitSink) written() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.put...)
}

type putWaitTask putWaitSink

func (t *putWaitTask) Start(context.Context, *connect.SinkTaskContext) error { return nil }
func (t *putWaitTask) Open(context.Context, []string) (string, error)        { return "", nil }
func (t *putWaitTask) Flush(context.Context) (string, error)                 { return "", nil }
func (t *putWaitTask) Stop() error                                           { return nil }
func (t *putWaitTask) Put(ctx context.Context, recs []connect.SinkRecord) error {
	for _, r := range recs {
		if string(r.Value) == "block" {
			close(t.blocked)
			<-ctx.Done()
			return ctx.Err()
		}
		t.mu.Lock()
		t.put = append(t.put, string(r.Value))
		t.mu.Unlock()
	}
	return nil
}

// TestSinkStopWhilePutWaits: stopping the worker while the sink task's Put
// waits (a full disk) ends the wait through the loop's ctx, returns well
// within the graceful shutdown timeout, and commits nothing past what was
// put before that batch: the interrupted batch is consumed again later.
func TestSinkStopWhilePutWaits(t *testing.T) {
	addr := startBundledBroker(t)
	adm := adminClient(t, addr)
	const topic = "blk"
	createTopic(t, adm, topic, 1)
	prod := newPartitionProducer(t, addr, topic)
	prod.send(2, 0)

	sink := &putWaitSink{blocked: make(chan struct{})}
	reg := registry(t)
	if err := reg.Register(connect.Plugin{
		Class: "test.BlockingSink", Type: connect.Sink, Version: "test",
		Def: connect.SinkDef("BlockingSink"),
		New: func() connect.Connector { return sink },
	}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	vals, err := connect.WorkerDef().Parse(workerProps(addr, dir, "offset.flush.interval.ms=50", "task.shutdown.graceful.timeout.ms=120000"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := connect.ParseWorkerConfig(vals)
	if err != nil {
		t.Fatal(err)
	}
	w, err := connect.NewWorker(cfg, reg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(context.Background()) })
	if err := w.StartConnector(ctx, config.FromMap(filepath.Join(dir, "sink.properties"), map[string]string{
		"name": "sink", "connector.class": "test.BlockingSink", "topics": topic,
	})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "two records put and committed", func() bool {
		return len(sink.written()) == 2 && committedAt(adm, topic, 0) == 2
	})
	if err := prod.cl.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: []byte("block")}, &kgo.Record{Partition: 0, Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sink.blocked:
	case <-time.After(30 * time.Second):
		t.Fatal("Put never got the record that blocks")
	}
	closed := make(chan error, 1)
	go func() { closed <- w.Close(context.Background()) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("the worker does not stop while Put waits")
	}
	if got := committedAt(adm, topic, 0); got != 2 {
		t.Fatalf("committed offset %d after an interrupted Put, want 2", got)
	}
}

package broker

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// produceTo writes n records to one partition and returns the new end
// offset.
func produceTo(t *testing.T, cl *kgo.Client, topic string, partition int32, n int) int64 {
	t.Helper()
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: partition, Value: []byte("v" + strconv.Itoa(i))})
	}
	res := cl.ProduceSync(testCtx(t, 30*time.Second), recs...)
	if err := res.FirstErr(); err != nil {
		t.Fatal(err)
	}
	return res[len(res)-1].Record.Offset + 1
}

func manualPartitionClient(t *testing.T, addr string) *kgo.Client {
	return newClient(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
}

// sessionFetch builds a fetch of topic's partitions at the given offsets
// (by name below v13, by id from v13).
type sessionFetch struct {
	version int16
	topic   string
	id      [16]byte
}

func (s sessionFetch) req(sessionID, epoch int32, wait time.Duration, offsets map[int32]int64, forget ...int32) *kmsg.FetchRequest {
	f := kmsg.NewPtrFetchRequest()
	f.Version, f.SessionID, f.SessionEpoch = s.version, sessionID, epoch
	f.MaxWaitMillis, f.MinBytes, f.MaxBytes = int32(wait/time.Millisecond), 1, 1<<20
	if len(offsets) > 0 {
		ft := kmsg.NewFetchRequestTopic()
		ft.Topic, ft.TopicID = s.topic, s.id
		for p := range int32(16) {
			if off, ok := offsets[p]; ok {
				fp := kmsg.NewFetchRequestTopicPartition()
				fp.Partition, fp.FetchOffset, fp.PartitionMaxBytes = p, off, 1<<20
				ft.Partitions = append(ft.Partitions, fp)
			}
		}
		f.Topics = append(f.Topics, ft)
	}
	if len(forget) > 0 {
		ff := kmsg.NewFetchRequestForgottenTopic()
		ff.Topic, ff.TopicID, ff.Partitions = s.topic, s.id, forget
		f.ForgottenTopics = append(f.ForgottenTopics, ff)
	}
	if s.version >= 13 {
		f.Topics = append([]kmsg.FetchRequestTopic(nil), f.Topics...)
		for i := range f.Topics {
			f.Topics[i].Topic = ""
		}
		for i := range f.ForgottenTopics {
			f.ForgottenTopics[i].Topic = ""
		}
	}
	return f
}

// fetched is a fetch response: partition -> (record bytes, high watermark).
func fetched(t *testing.T, resp *kmsg.FetchResponse) map[int32]kmsg.FetchResponseTopicPartition {
	t.Helper()
	out := map[int32]kmsg.FetchResponseTopicPartition{}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if _, dup := out[rp.Partition]; dup {
				t.Fatalf("partition %d twice in a response", rp.Partition)
			}
			out[rp.Partition] = rp
		}
	}
	return out
}

func partitionList(m map[int32]kmsg.FetchResponseTopicPartition) string {
	var s []string
	for p := range int32(16) {
		if rp, ok := m[p]; ok {
			s = append(s, fmt.Sprintf("%d(hw %d, %d bytes, %s)", p, rp.HighWatermark, len(rp.RecordBatches), errName(rp.ErrorCode)))
		}
	}
	return fmt.Sprint(s)
}

// The fetch segmentio/kafka-go's Client.Fetch sends: session id -1 and
// epoch -1, a sessionless full fetch for Kafka. It was refused with
// FETCH_SESSION_ID_NOT_FOUND.
func TestFetchSessionlessKafkaGoStyle(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "kgo-style", 1, nil)
	end := produceTo(t, manualPartitionClient(t, tb.addr), "kgo-style", 0, 3)
	c := dialRaw(t, tb.addr)
	for _, sess := range []struct{ id, epoch int32 }{{-1, -1}, {0, -1}, {12345, -1}} {
		f := kmsg.NewPtrFetchRequest()
		f.Version, f.ReplicaID, f.MaxWaitMillis, f.MinBytes, f.MaxBytes = 11, -1, 1000, 1, 1<<20
		f.SessionID, f.SessionEpoch = sess.id, sess.epoch
		ft := kmsg.NewFetchRequestTopic()
		ft.Topic = "kgo-style"
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.CurrentLeaderEpoch, fp.FetchOffset, fp.LogStartOffset, fp.PartitionMaxBytes = -1, 0, -1, 1<<20
		ft.Partitions = append(ft.Partitions, fp)
		f.Topics = append(f.Topics, ft)
		resp := c.roundTrip(f).(*kmsg.FetchResponse)
		if resp.ErrorCode != 0 || resp.SessionID != 0 {
			t.Fatalf("session %d epoch %d: %s, session %d", sess.id, sess.epoch, errName(resp.ErrorCode), resp.SessionID)
		}
		p := fetched(t, resp)[0]
		if p.ErrorCode != 0 || p.HighWatermark != end || len(p.RecordBatches) == 0 {
			t.Fatalf("session %d epoch %d: %s", sess.id, sess.epoch, partitionList(fetched(t, resp)))
		}
	}
	if st := tb.b.fetchSessions().Stats(); st.Created != 0 {
		t.Fatalf("epoch -1 created sessions: %+v", st)
	}
}

func TestFetchSessionTransitions(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "sess", 3, nil)
	prod := manualPartitionClient(t, tb.addr)
	ends := map[int32]int64{}
	for p := range int32(3) {
		ends[p] = produceTo(t, prod, "sess", p, 2)
	}
	details, err := newAdmin(t, tb.addr).ListTopics(testCtx(t, 30*time.Second), "sess")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []int16{7, 12, 13, 18} {
		t.Run("v"+strconv.Itoa(int(v)), func(t *testing.T) {
			s := sessionFetch{version: v, topic: "sess", id: details["sess"].ID}
			c := dialRaw(t, tb.addr)
			do := func(req *kmsg.FetchRequest) *kmsg.FetchResponse {
				t.Helper()
				return c.roundTrip(req).(*kmsg.FetchResponse)
			}
			expect := func(what string, resp *kmsg.FetchResponse, code int16, session int32, parts ...int32) map[int32]kmsg.FetchResponseTopicPartition {
				t.Helper()
				got := fetched(t, resp)
				if resp.ErrorCode != code || resp.SessionID != session || len(got) != len(parts) {
					t.Fatalf("%s: %s, session %d (want %s, %d), partitions %s, want %v", what, errName(resp.ErrorCode), resp.SessionID, errName(code), session, partitionList(got), parts)
				}
				for _, p := range parts {
					if _, ok := got[p]; !ok {
						t.Fatalf("%s: partitions %s, want %v", what, partitionList(got), parts)
					}
				}
				return got
			}
			caughtUp := func() map[int32]int64 { return map[int32]int64{0: ends[0], 1: ends[1], 2: ends[2]} }

			// Epoch 0 creates a session; the full response has everything.
			full := do(s.req(0, 0, 0, caughtUp()))
			id := full.SessionID
			if id == 0 {
				t.Fatal("no session created")
			}
			got := expect("create", full, 0, id, 0, 1, 2)
			if got[1].HighWatermark != ends[1] {
				t.Fatalf("high watermark %d, want %d", got[1].HighWatermark, ends[1])
			}

			// Nothing changed: an incremental response names no partition.
			expect("unchanged", do(s.req(id, 1, 0, nil)), 0, id)

			// New records in partition 1: only it comes back, and the long
			// poll over the session's partitions wakes for it.
			poll := s.req(id, 2, 20*time.Second, nil)
			corr := c.send(poll)
			ends[1] = produceTo(t, prod, "sess", 1, 1)
			got = expect("append", c.read(poll, corr).(*kmsg.FetchResponse), 0, id, 1)
			if len(got[1].RecordBatches) == 0 || got[1].HighWatermark != ends[1] {
				t.Fatalf("append: %s", partitionList(got))
			}

			// The client moves partition 1's offset on: nothing is new.
			expect("moved on", do(s.req(id, 3, 0, map[int32]int64{1: ends[1]})), 0, id)

			// Wrong epochs and unknown sessions; the session survives them.
			expect("old epoch", do(s.req(id, 3, 0, nil)), kerr.InvalidFetchSessionEpoch.Code, 0)
			expect("future epoch", do(s.req(id, 9, 0, nil)), kerr.InvalidFetchSessionEpoch.Code, 0)
			expect("unknown id", do(s.req(id+1, 4, 0, nil)), kerr.FetchSessionIDNotFound.Code, 0)
			expect("epoch without id", do(s.req(0, 4, 0, nil)), kerr.FetchSessionIDNotFound.Code, 0)
			expect("epoch -2", do(s.req(id, -2, 0, nil)), kerr.InvalidFetchSessionEpoch.Code, 0)
			other := sessionFetch{version: 12, topic: "sess"}
			if v >= 13 {
				expect("names on an id session", do(other.req(id, 4, 0, nil)), kerr.FetchSessionTopicIDError.Code, 0)
			} else {
				other = sessionFetch{version: 13, id: s.id}
				expect("ids on a name session", do(other.req(id, 4, 0, nil)), kerr.FetchSessionTopicIDError.Code, 0)
			}

			// Forgotten partitions are no longer read, nor waited on.
			expect("forget 0", do(s.req(id, 4, 0, nil, 0)), 0, id)
			ends[0] = produceTo(t, prod, "sess", 0, 1)
			expect("forgotten has data", do(s.req(id, 5, 0, nil)), 0, id)

			// A partition added back (at an older offset) is sent in full.
			got = expect("add 0", do(s.req(id, 6, 0, map[int32]int64{0: 0})), 0, id, 0)
			if len(got[0].RecordBatches) == 0 || got[0].HighWatermark != ends[0] {
				t.Fatalf("add 0: %s", partitionList(got))
			}

			// Epoch 0 naming the session closes it and creates another.
			full = do(s.req(id, 0, 0, caughtUp()))
			id2 := full.SessionID
			if id2 == 0 || id2 == id {
				t.Fatalf("new session %d after %d", id2, id)
			}
			expect("closed", do(s.req(id, 7, 0, nil)), kerr.FetchSessionIDNotFound.Code, 0)
			expect("new session", do(s.req(id2, 1, 0, nil)), 0, id2)

			// Epoch -1 naming the session closes it: a sessionless full fetch.
			expect("close", do(s.req(id2, -1, 0, map[int32]int64{2: ends[2]})), 0, 0, 2)
			expect("after close", do(s.req(id2, 2, 0, nil)), kerr.FetchSessionIDNotFound.Code, 0)

			// Forgetting every partition ends the session.
			id3 := do(s.req(0, 0, 0, map[int32]int64{2: ends[2]})).SessionID
			if id3 == 0 {
				t.Fatal("no session created")
			}
			expect("forget all", do(s.req(id3, 1, 0, nil, 2)), 0, 0)
			expect("after forget all", do(s.req(id3, 2, 0, nil)), kerr.FetchSessionIDNotFound.Code, 0)
		})
	}
	st := tb.b.fetchSessions().Stats()
	if st.Created != 4*3 || st.Closed != 4*3 || st.Incremental == 0 {
		t.Fatalf("stats %+v", st)
	}
}

// An error partition is in every incremental response; a partition that
// got records is read last next time.
func TestFetchSessionErrorsAndOrder(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "order", 3, nil)
	prod := manualPartitionClient(t, tb.addr)
	for p := range int32(3) {
		produceTo(t, prod, "order", p, 1)
	}
	c := dialRaw(t, tb.addr)
	s := sessionFetch{version: 12, topic: "order"}
	req := s.req(0, 0, 0, map[int32]int64{0: 0, 1: 0, 2: 0})
	req.Topics[0].Partitions = append(req.Topics[0].Partitions, kmsg.FetchRequestTopicPartition{Partition: 9, PartitionMaxBytes: 1 << 20, CurrentLeaderEpoch: -1, LastFetchedEpoch: -1})
	resp := c.roundTrip(req).(*kmsg.FetchResponse)
	id := resp.SessionID
	if id == 0 || resp.Topics[0].Partitions[3].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("session %d, %s", id, partitionList(fetched(t, resp)))
	}
	// Offsets moved on: only the error partition is left to tell.
	resp = c.roundTrip(s.req(id, 1, 0, map[int32]int64{0: 1, 1: 1, 2: 1})).(*kmsg.FetchResponse)
	if got := fetched(t, resp); len(got) != 1 || got[9].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("incremental: %s", partitionList(got))
	}
	// Back to offset 0: all four answer, in the session's order; 0-2 got
	// records, so they are moved behind 9 for the next fetch.
	resp = c.roundTrip(s.req(id, 2, 0, map[int32]int64{1: 0, 0: 0, 2: 0})).(*kmsg.FetchResponse)
	var order []int32
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			order = append(order, rp.Partition)
		}
	}
	if fmt.Sprint(order) != "[0 1 2 9]" {
		t.Fatalf("order %v", order)
	}
	resp = c.roundTrip(s.req(id, 3, 0, nil)).(*kmsg.FetchResponse)
	order = order[:0]
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			order = append(order, rp.Partition)
		}
	}
	if fmt.Sprint(order) != "[9 0 1 2]" {
		t.Fatalf("order after rotation %v", order)
	}
}

// With one slot, a second session is refused while the first is fresh,
// and takes its place once it has been idle for Kafka's eviction time;
// a larger session evicts an old enough smaller one even if recently used.
func TestFetchSessionEviction(t *testing.T) {
	tb := startBroker(t, "max.incremental.fetch.session.cache.slots=1")
	createTopic(t, tb.addr, "evict", 3, nil)
	cache := tb.b.fetchSessions()
	var mu sync.Mutex
	now := time.Now()
	cache.mu.Lock()
	cache.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	cache.mu.Unlock()
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	c := dialRaw(t, tb.addr)
	s := sessionFetch{version: 12, topic: "evict"}
	one := map[int32]int64{0: 0}
	create := func(offsets map[int32]int64) int32 {
		t.Helper()
		resp := c.roundTrip(s.req(0, 0, 0, offsets)).(*kmsg.FetchResponse)
		if resp.ErrorCode != 0 || len(fetched(t, resp)) != len(offsets) {
			t.Fatalf("full fetch: %s %s", errName(resp.ErrorCode), partitionList(fetched(t, resp)))
		}
		return resp.SessionID
	}
	incremental := func(id, epoch int32) int16 {
		t.Helper()
		return c.roundTrip(s.req(id, epoch, 0, nil)).(*kmsg.FetchResponse).ErrorCode
	}

	a := create(one)
	if a == 0 {
		t.Fatal("no session")
	}
	if b := create(one); b != 0 {
		t.Fatalf("session %d created with every slot taken by a fresh session", b)
	}
	advance(fetchSessionEvictionAfter - time.Second)
	if code := incremental(a, 1); code != 0 {
		t.Fatal(errName(code))
	}
	advance(fetchSessionEvictionAfter - time.Second) // a: used 119s ago, created 238s ago
	if b := create(one); b != 0 {
		t.Fatalf("session %d evicted an as large, recently used one", b)
	}
	b := create(map[int32]int64{0: 0, 1: 0})
	if b == 0 {
		t.Fatal("a larger session did not evict an old, smaller one")
	}
	if code := incremental(a, 2); code != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("evicted session: %s", errName(code))
	}
	advance(fetchSessionEvictionAfter + time.Second) // b idle too long
	d := create(one)
	if d == 0 {
		t.Fatal("an idle session was not evicted")
	}
	if code := incremental(b, 1); code != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("evicted session: %s", errName(code))
	}
	if code := incremental(d, 1); code != 0 {
		t.Fatal(errName(code))
	}
	if st := cache.Stats(); st.Created != 3 || st.Evicted != 2 || st.NotCreated != 2 {
		t.Fatalf("stats %+v", st)
	}

	// No slots: no sessions, full fetches still served.
	tb0 := startBroker(t, "max.incremental.fetch.session.cache.slots=0")
	createTopic(t, tb0.addr, "evict", 1, nil)
	c = dialRaw(t, tb0.addr)
	if id := create(one); id != 0 {
		t.Fatalf("session %d with no slots", id)
	}
}

// franz-go uses fetch sessions: a consumer of many partitions gets one,
// and is served incremental fetches, without losing or repeating a record.
func TestFetchSessionFranzGoConsumer(t *testing.T) {
	tb := startBroker(t)
	const parts, perPart = 12, 50
	createTopic(t, tb.addr, "many", parts, nil)
	prod := manualPartitionClient(t, tb.addr)
	// Round 0 fills every partition, later rounds a third of them.
	produceAll := func(round int) int {
		var recs []*kgo.Record
		for p := range int32(parts) {
			if round > 0 && int(p)%3 != round%3 {
				continue
			}
			for i := range perPart {
				recs = append(recs, &kgo.Record{Topic: "many", Partition: p, Value: fmt.Appendf(nil, "%d-%d-%d", round, p, i)})
			}
		}
		if err := prod.ProduceSync(testCtx(t, time.Minute), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		return len(recs)
	}
	cons := newClient(t, tb.addr, kgo.ConsumeTopics("many"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(time.Second), kgo.FetchMaxPartitionBytes(512))
	seen := map[string]bool{}
	consume := func(round, want int) {
		ctx := testCtx(t, time.Minute)
		for n := 0; n < want; {
			fs := cons.PollFetches(ctx)
			if err := ctx.Err(); err != nil {
				t.Fatalf("round %d: %d of %d records: %v", round, n, want, err)
			}
			fs.EachError(func(topic string, p int32, err error) { t.Fatalf("%s/%d: %v", topic, p, err) })
			fs.EachRecord(func(r *kgo.Record) {
				if seen[string(r.Value)] {
					t.Fatalf("record %s twice", r.Value)
				}
				seen[string(r.Value)] = true
				n++
			})
		}
	}
	consume(0, produceAll(0))
	// Caught up: the consumer's incremental fetches long-poll over the
	// session and wake for the new records.
	for round := 1; round <= 3; round++ {
		consume(round, produceAll(round))
	}
	if len(seen) != parts*perPart+3*parts/3*perPart {
		t.Fatalf("%d records", len(seen))
	}
	st := tb.b.fetchSessions().Stats()
	if st.Created != 1 || st.Incremental < 3 {
		t.Fatalf("franz-go was not served by a session: %+v", st)
	}
}

// sarama sends epoch -1: served without a session, as before.
func TestFetchSessionSaramaConsumer(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "sarama-sess", 2, nil)
	prod := manualPartitionClient(t, tb.addr)
	end := produceTo(t, prod, "sarama-sess", 1, 20)
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	consumer, err := sarama.NewConsumer([]string{tb.addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition("sarama-sess", 1, sarama.OffsetOldest)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for n := int64(0); n < end; n++ {
		select {
		case m := <-pc.Messages():
			if m.Offset != n {
				t.Fatalf("offset %d, want %d", m.Offset, n)
			}
		case err := <-pc.Errors():
			t.Fatal(err)
		case <-ctx.Done():
			t.Fatalf("%d of %d records", n, end)
		}
	}
	if st := tb.b.fetchSessions().Stats(); st.Created != 0 {
		t.Fatalf("sarama got a session: %+v", st)
	}
}

package broker

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The keyed suite: numRecords records over numKeys keys, the n-th record of
// a key has value "<key>:<n>:" padded to 100 bytes. Consumed back, every
// key's records must come in order, each exactly once, byte for byte.
const numKeys = 100

func keyedValue(key string, n int) []byte {
	v := []byte(key + ":" + strconv.Itoa(n) + ":")
	for len(v) < 100 {
		v = append(v, byte('a'+len(v)%26))
	}
	return v
}

func suiteRecords() int {
	if *long {
		return 1_000_000
	}
	return 100_000
}

type keyedChecker struct {
	t    testing.TB
	mu   sync.Mutex
	next map[string]int
	n    int
}

func newKeyedChecker(t testing.TB) *keyedChecker {
	return &keyedChecker{t: t, next: map[string]int{}}
}

// add checks one consumed record; partition order is per key, since a key
// always lands in the same partition.
func (c *keyedChecker) add(key, value []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := string(key)
	want := keyedValue(k, c.next[k])
	if string(value) != string(want) {
		c.t.Fatalf("key %s: record %d is %q, want %q", k, c.next[k], value, want)
	}
	c.next[k]++
	c.n++
}

func (c *keyedChecker) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func TestFranzGoKeyedRoundTrip(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "keyed", 3, nil)
	total := suiteRecords()
	produceFranz(t, tb.addr, "keyed", total)
	consumeFranz(t, tb.addr, "keyed", total)

	// ListOffsets: every partition starts at 0 and the ends add up.
	adm := newAdmin(t, tb.addr)
	ctx := testCtx(t, 30*time.Second)
	starts, err := adm.ListStartOffsets(ctx, "keyed")
	if err != nil || starts.Error() != nil {
		t.Fatal(err, starts.Error())
	}
	ends, err := adm.ListEndOffsets(ctx, "keyed")
	if err != nil || ends.Error() != nil {
		t.Fatal(err, ends.Error())
	}
	var sum int64
	ends.Each(func(o kadm.ListedOffset) {
		sum += o.Offset
		if s, _ := starts.Lookup("keyed", o.Partition); s.Offset != 0 {
			t.Errorf("partition %d starts at %d", o.Partition, s.Offset)
		}
	})
	if sum != int64(total) {
		t.Fatalf("end offsets add up to %d, want %d", sum, total)
	}
}

func produceFranz(t testing.TB, addr, topic string, total int) {
	t.Helper()
	cl := newClient(t, addr, kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()))
	ctx := testCtx(t, 5*time.Minute)
	var (
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	for i := range total {
		key := "key-" + strconv.Itoa(i%numKeys)
		wg.Add(1)
		cl.Produce(ctx, &kgo.Record{Key: []byte(key), Value: keyedValue(key, i/numKeys)}, func(_ *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				errOnce.Do(func() { firstErr = err })
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatalf("produce: %v", firstErr)
	}
}

func consumeFranz(t testing.TB, addr, topic string, total int) {
	t.Helper()
	cl := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	check := newKeyedChecker(t)
	ctx := testCtx(t, 5*time.Minute)
	for check.count() < total {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", check.count(), total, err)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		fs.EachRecord(func(r *kgo.Record) { check.add(r.Key, r.Value) })
	}
	if n := check.count(); n != total {
		t.Fatalf("consumed %d records, want %d", n, total)
	}
}

func TestSaramaKeyedRoundTrip(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "keyed", 3, nil)
	total := suiteRecords()

	cfg := sarama.NewConfig()
	cfg.Producer.Idempotent = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Retry.Max = 10
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Flush.Bytes = 256 << 10
	cfg.Producer.Flush.Frequency = 5 * time.Millisecond
	prod, err := sarama.NewAsyncProducer([]string{tb.addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var acked atomic.Int64
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range prod.Successes() {
			acked.Add(1)
		}
	}()
	var prodErr atomic.Value
	go func() {
		defer wg.Done()
		for e := range prod.Errors() {
			prodErr.Store(e.Err)
		}
	}()
	for i := range total {
		key := "key-" + strconv.Itoa(i%numKeys)
		prod.Input() <- &sarama.ProducerMessage{Topic: "keyed", Key: sarama.StringEncoder(key), Value: sarama.ByteEncoder(keyedValue(key, i/numKeys))}
	}
	prod.AsyncClose() // flushes; Successes and Errors close once all is answered
	wg.Wait()
	if err, _ := prodErr.Load().(error); err != nil {
		t.Fatalf("produce: %v", err)
	}
	if acked.Load() != int64(total) {
		t.Fatalf("%d of %d acknowledged", acked.Load(), total)
	}

	consumer, err := sarama.NewConsumer([]string{tb.addr}, sarama.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	check := newKeyedChecker(t)
	deadline := time.After(5 * time.Minute)
	var pcs []sarama.PartitionConsumer
	for p := range int32(3) {
		pc, err := consumer.ConsumePartition("keyed", p, sarama.OffsetOldest)
		if err != nil {
			t.Fatal(err)
		}
		pcs = append(pcs, pc)
	}
	msgs := make(chan *sarama.ConsumerMessage)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, pc := range pcs {
		go func() {
			for {
				select {
				case m := <-pc.Messages():
					select {
					case msgs <- m:
					case <-ctx.Done():
						return
					}
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	for check.count() < total {
		select {
		case m := <-msgs:
			check.add(m.Key, m.Value)
		case <-deadline:
			t.Fatalf("consumed %d of %d", check.count(), total)
		}
	}
	cancel()
	for _, pc := range pcs {
		pc.AsyncClose()
	}
}

// produceSync produces one record per value to topic and waits for them.
func produceSync(t testing.TB, cl *kgo.Client, topic string, values ...string) []*kgo.Record {
	t.Helper()
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, &kgo.Record{Topic: topic, Value: []byte(v)})
	}
	if err := cl.ProduceSync(testCtx(t, 30*time.Second), recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	return recs
}

func valuesOf(recs []*kgo.Record) string {
	var s []string
	for _, r := range recs {
		s = append(s, string(r.Value))
	}
	return strings.Join(s, ",")
}

// consumeN reads the partitions of topic from the start until n records.
func consumeN(t testing.TB, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx := testCtx(t, time.Minute)
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d: %v", len(out), n, ctx.Err())
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

// TestSaramaOlderProtocolVersions: older sarama sends the versions its
// configured Kafka version implies, without asking (or asking with an old
// ApiVersions). Each must produce and consume.
func TestSaramaOlderProtocolVersions(t *testing.T) {
	tb := startBroker(t)
	for _, v := range []sarama.KafkaVersion{sarama.V0_11_0_0, sarama.V1_0_0_0, sarama.V2_1_0_0, sarama.V2_8_0_0, sarama.V3_6_0_0} {
		t.Run(v.String(), func(t *testing.T) {
			topic := "sarama-" + strings.ReplaceAll(v.String(), ".", "-")
			createTopic(t, tb.addr, topic, 1, nil)
			cfg := sarama.NewConfig()
			cfg.Version = v
			cfg.ApiVersionsRequest = v.IsAtLeast(sarama.V2_4_0_0)
			cfg.Producer.Return.Successes = true
			cfg.Producer.RequiredAcks = sarama.WaitForAll
			prod, err := sarama.NewSyncProducer([]string{tb.addr}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer prod.Close()
			for i := range 5 {
				if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(strconv.Itoa(i))}); err != nil {
					t.Fatalf("send: %v", err)
				}
			}
			cons, err := sarama.NewConsumer([]string{tb.addr}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer cons.Close()
			pc, err := cons.ConsumePartition(topic, 0, sarama.OffsetOldest)
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close()
			for i := range 5 {
				select {
				case m := <-pc.Messages():
					if string(m.Value) != strconv.Itoa(i) || m.Offset != int64(i) {
						t.Fatalf("message %d: %q at %d", i, m.Value, m.Offset)
					}
				case err := <-pc.Errors():
					t.Fatal(err)
				case <-time.After(30 * time.Second):
					t.Fatalf("message %d not consumed", i)
				}
			}
			client, err := sarama.NewClient([]string{tb.addr}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			if off, err := client.GetOffset(topic, 0, sarama.OffsetNewest); err != nil || off != 5 {
				t.Fatalf("newest offset %d: %v", off, err)
			}
		})
	}
}

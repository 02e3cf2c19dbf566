package broker

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var benchRecords = flag.Int("bench-records", 1_000_000, "records produced and consumed by BenchmarkClientThroughput")

// BenchmarkClientThroughput produces -bench-records 200-byte records with
// franz-go (acks=all, idempotent, no compression) to a 3-partition topic,
// then consumes them all, against this broker, against kfake (in memory)
// and against kfake writing to disk with an fsync per batch, one after the
// other in the same run. It reports records per second for each phase:
//
//	go test ./broker -run '^$' -bench ClientThroughput -benchtime 1x
func BenchmarkClientThroughput(b *testing.B) {
	b.Run("broker=tributary", func(b *testing.B) {
		tb := startBroker(b, "num.partitions=3")
		benchThroughput(b, tb.addr)
	})
	b.Run("broker=kfake", func(b *testing.B) {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(3))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		benchThroughput(b, c.ListenAddrs()[0])
	})
	// kfake writing to disk with an fsync per batch: durability comparable
	// to this broker's acks=all.
	b.Run("broker=kfake-syncwrites", func(b *testing.B) {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(3),
			kfake.DataDir(b.TempDir()), kfake.SyncWrites())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		benchThroughput(b, c.ListenAddrs()[0])
	})
}

func benchThroughput(b *testing.B, addr string) {
	n := *benchRecords
	// Values and keys are made up front and the records share one
	// promise, so that the producing loop costs the client as little as
	// possible and the broker's share shows.
	values, keys := make([][]byte, 1024), make([][]byte, 4096)
	for i := range values {
		values[i] = make([]byte, 200)
		rand.Read(values[i])
	}
	for i := range keys {
		keys[i] = binary.BigEndian.AppendUint32(nil, uint32(i))
	}
	b.ReportAllocs()
	var produceDur, consumeDur time.Duration
	for i := range b.N {
		topic := fmt.Sprintf("bench-%d", i)
		ctx := context.Background()
		adm := newAdmin(b, addr)
		if _, err := adm.CreateTopic(ctx, 3, 1, nil, topic); err != nil {
			b.Fatal(err)
		}
		prod := newClient(b, addr, kgo.DefaultProduceTopic(topic), kgo.ProducerBatchCompression(kgo.NoCompression()))
		var errOnce sync.Once
		var perr error
		promise := func(_ *kgo.Record, err error) {
			if err != nil {
				errOnce.Do(func() { perr = err })
			}
		}
		recs := make([]kgo.Record, n)
		start := time.Now()
		for j := range recs {
			r := &recs[j]
			r.Key, r.Value = keys[j%len(keys)], values[j%len(values)]
			prod.Produce(ctx, r, promise)
		}
		if err := prod.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		produceDur += time.Since(start)
		if perr != nil {
			b.Fatal(perr)
		}
		prod.Close()

		cons := newClient(b, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		start = time.Now()
		got := 0
		for got < n {
			fs := cons.PollFetches(ctx)
			fs.EachError(func(t string, p int32, err error) { b.Fatalf("fetch %s/%d: %v", t, p, err) })
			got += fs.NumRecords()
		}
		consumeDur += time.Since(start)
		cons.Close()
	}
	total := float64(n * b.N)
	b.ReportMetric(total/produceDur.Seconds(), "produce-rec/s")
	b.ReportMetric(total/consumeDur.Seconds(), "fetch-rec/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkFetchPath measures the broker's fetch path alone: pre-encoded
// Fetch requests (1 MiB per partition) over one connection, reading the
// raw responses, from a topic of 128 MiB.
func BenchmarkFetchPath(b *testing.B) {
	tb := startBroker(b)
	createTopic(b, tb.addr, "fetch", 1, nil)
	c := dialRaw(b, tb.addr)
	batch := testBatch(80, -1, 0, 0, 200)
	var offsets []int64
	for range 128 << 20 / len(batch) {
		p := producePartition(b, c.roundTrip(produceRequest(9, 1, "fetch", 0, append([]byte(nil), batch...))))
		offsets = append(offsets, p.BaseOffset)
	}
	var reqs [][]byte
	for i := 0; i < len(offsets); i += (1 << 20) / len(batch) {
		f := kmsg.NewPtrFetchRequest()
		f.Version, f.MaxBytes = 12, 50<<20
		ft := kmsg.NewFetchRequestTopic()
		ft.Topic = "fetch"
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.FetchOffset, fp.PartitionMaxBytes = offsets[i], 1<<20
		ft.Partitions = append(ft.Partitions, fp)
		f.Topics = append(f.Topics, ft)
		reqs = append(reqs, formatter.AppendRequest(nil, f, 1))
	}
	buf := make([]byte, 2<<20)
	var total int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		c.sendRaw(reqs[i%len(reqs)])
		var size [4]byte
		if _, err := io.ReadFull(c.nc, size[:]); err != nil {
			b.Fatal(err)
		}
		n := int(binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(c.nc, buf[:n]); err != nil {
			b.Fatal(err)
		}
		total += int64(n)
	}
	b.SetBytes(total / int64(b.N))
}

// BenchmarkProducePath measures the produce path alone: pre-encoded
// Produce requests of one 16 KiB batch (80 records of 200 bytes), acks=1
// and acks=all, over one connection.
func BenchmarkProducePath(b *testing.B) {
	for _, acks := range []int16{1, -1} {
		b.Run(fmt.Sprintf("acks=%d", acks), func(b *testing.B) {
			tb := startBroker(b)
			createTopic(b, tb.addr, "produce", 1, nil)
			c := dialRaw(b, tb.addr)
			batch := testBatch(80, -1, 0, 0, 200)
			req := formatter.AppendRequest(nil, produceRequest(9, acks, "produce", 0, batch), 1)
			buf := make([]byte, 4096)
			b.SetBytes(int64(len(batch)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				c.sendRaw(req)
				var size [4]byte
				if _, err := io.ReadFull(c.nc, size[:]); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c.nc, buf[:binary.BigEndian.Uint32(size[:])]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkProducePipelined measures acks=all produce as a client with
// several requests in flight sees it: pre-encoded requests of one 200 KiB
// batch (1000 records of 200 bytes) for each of 3 partitions, 5 in flight
// on one connection, as franz-go's idempotent producer allows.
func BenchmarkProducePipelined(b *testing.B) {
	const inflight = 5
	tb := startBroker(b)
	createTopic(b, tb.addr, "pipelined", 3, nil)
	c := dialRaw(b, tb.addr)
	batch := testBatch(1000, -1, 0, 0, 200)
	req := produceRequest(9, -1, "pipelined", 0, batch)
	for p := int32(1); p < 3; p++ {
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition, rp.Records = p, batch
		req.Topics[0].Partitions = append(req.Topics[0].Partitions, rp)
	}
	raw := formatter.AppendRequest(nil, req, 1)
	sem := make(chan struct{}, inflight)
	done := make(chan error, 1)
	b.SetBytes(3 * int64(len(batch)))
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		buf := make([]byte, 4096)
		for range b.N {
			var size [4]byte
			if _, err := io.ReadFull(c.nc, size[:]); err != nil {
				done <- err
				return
			}
			n := binary.BigEndian.Uint32(size[:])
			if _, err := io.ReadFull(c.nc, buf[:n]); err != nil {
				done <- err
				return
			}
			<-sem
		}
		done <- nil
	}()
	for range b.N {
		sem <- struct{}{}
		c.sendRaw(raw)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	ends, err := newAdmin(b, tb.addr).ListEndOffsets(testCtx(b, 10*time.Second), "pipelined")
	if err != nil {
		b.Fatal(err)
	}
	if o, _ := ends.Lookup("pipelined", 2); o.Offset != int64(b.N)*1000 {
		b.Fatalf("partition 2 ends at %d after %d requests", o.Offset, b.N)
	}
}

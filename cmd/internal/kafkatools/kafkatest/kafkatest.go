// Package kafkatest starts Kafka brokers for the tests of the tools and
// of the tributary command, and gives those tests a client to check what
// a tool did.
//
// StartBroker runs the bundled broker in the test's process, through its
// public API only (broker.New), and the tools reach it over TCP as they
// would any cluster. StartKfake runs franz-go's kfake, an independent
// implementation of the protocol, so that a suite can show the tools work
// against a broker this project did not write. Both listen on a free port
// of 127.0.0.1 and stop when the test ends.
package kafkatest

import (
	"bytes"
	"context"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/broker/brokertest"
)

// StartBroker starts the bundled broker with its data in t.TempDir() and
// returns its address. props are "key=value" server.properties entries on
// top of those defaults (for example "num.partitions=3").
func StartBroker(t testing.TB, props ...string) string {
	t.Helper()
	return brokertest.Start(t, props...).Addr()
}

// StartKfake starts a one-broker kfake cluster that creates topics on
// first use, and returns its address.
func StartKfake(t testing.TB, opts ...kfake.Opt) string {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.AllowAutoTopicCreation()}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// Client returns a franz-go client of the broker at addr, closed when the
// test ends.
func Client(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// CreateTopic creates a topic of replication factor 1.
func CreateTopic(t testing.TB, addr, topic string, partitions int32) {
	t.Helper()
	adm := kadm.NewClient(Client(t, addr))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := adm.CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
}

// Produce writes the records (to the partition each names), waiting for
// their acknowledgements.
func Produce(t testing.TB, addr string, recs ...*kgo.Record) {
	t.Helper()
	cl := Client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// ReadTopic reads n records of a topic from the start, failing the test if
// they do not arrive within 15 seconds.
func ReadTopic(t testing.TB, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := Client(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("topic %s: %d of %d records within 15s", topic, len(recs), n)
		}
		recs = append(recs, fs.Records()...)
	}
	return recs
}

// Committed returns the group's committed offsets of the topic's
// partitions (-1 for none).
func Committed(t testing.TB, addr, group, topic string, partitions int32) []int64 {
	t.Helper()
	adm := kadm.NewClient(Client(t, addr))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offsets, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int64, partitions)
	for p := range partitions {
		out[p] = -1
		if o, ok := offsets.Lookup(topic, p); ok && o.Err == nil {
			out[p] = o.At
		}
	}
	return out
}

// ClosedAddr returns a loopback address on which nothing listens.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Changed returns a function for the Changed field of a tool's options: it
// reports the named flags (without dashes) as given on the command line.
func Changed(flags ...string) func(flag string) bool {
	return func(flag string) bool { return slices.Contains(flags, flag) }
}

// Buffer is a bytes.Buffer that a tool may write while the test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Eventually polls cond until it holds, failing the test if it does not
// within the given time.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

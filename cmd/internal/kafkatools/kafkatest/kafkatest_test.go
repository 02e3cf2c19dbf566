package kafkatest

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestBrokers: both brokers take a topic, keep records in order and a
// group's commit.
func TestBrokers(t *testing.T) {
	for name, start := range map[string]func(testing.TB) string{
		"bundled": func(t testing.TB) string { return StartBroker(t, "num.partitions=2") },
		"kfake":   func(t testing.TB) string { return StartKfake(t) },
	} {
		t.Run(name, func(t *testing.T) {
			addr := start(t)
			CreateTopic(t, addr, "kt", 2)
			Produce(t, addr, &kgo.Record{Topic: "kt", Partition: 1, Value: []byte("a")}, &kgo.Record{Topic: "kt", Partition: 1, Value: []byte("b")})
			recs := ReadTopic(t, addr, "kt", 2)
			if got := fmt.Sprintf("%d:%s %d:%s", recs[0].Partition, recs[0].Value, recs[1].Partition, recs[1].Value); got != "1:a 1:b" {
				t.Fatalf("read %s", got)
			}
			var offs kadm.Offsets
			offs.AddOffset("kt", 1, 2, -1)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := kadm.NewClient(Client(t, addr)).CommitAllOffsets(ctx, "kt-g", offs); err != nil {
				t.Fatal(err)
			}
			if got := Committed(t, addr, "kt-g", "kt", 2); got[0] != -1 || got[1] != 2 {
				t.Fatalf("committed %v", got)
			}
		})
	}
}

func TestClosedAddr(t *testing.T) {
	addr := ClosedAddr(t)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("something listens on %s", addr)
	}
}

func TestBufferAndEventually(t *testing.T) {
	var b Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 3 {
			b.Write([]byte("x"))
		}
	}()
	Eventually(t, 10*time.Second, "three writes", func() bool { return b.String() == "xxx" })
	<-done
}

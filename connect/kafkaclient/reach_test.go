package kafkaclient

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func newClient(t *testing.T, seed string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seed))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func TestReachable(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := Reachable(context.Background(), newClient(t, c.ListenAddrs()[0]), 5*time.Second); err != nil {
		t.Fatalf("kfake: %v", err)
	}
}

func TestReachableRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	start := time.Now()
	err = Reachable(context.Background(), newClient(t, addr), 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "cannot reach a broker at "+addr) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("took %v for a refused connection", d)
	}
}

// TestReachableSilent: a listener that accepts but never answers is
// reported once the deadline passes.
func TestReachableSilent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // ends when ln is closed
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	err = Reachable(context.Background(), newClient(t, ln.Addr().String()), 300*time.Millisecond)
	if err == nil || err.Error() != "no broker at "+ln.Addr().String()+" answered within 300ms" {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestReachableCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Reachable(ctx, newClient(t, "127.0.0.1:1"), time.Second); err != context.Canceled {
		t.Fatalf("err = %v", err)
	}
}

// TestProducerAutoCreatesTopics: as the Java producer, a producer asks the
// broker to create a topic it produces to, unless
// allow.auto.create.topics=false.
func TestProducerAutoCreatesTopics(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tt := range []struct {
		props map[string]string
		ok    bool
	}{
		{map[string]string{}, true},
		{map[string]string{"allow.auto.create.topics": "true"}, true},
		{map[string]string{"allow.auto.create.topics": "false", "delivery.timeout.ms": "1000"}, false},
	} {
		res, err := Options(tt.props, Producer)
		if err != nil {
			t.Fatal(err)
		}
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()[0])}, res.Opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		topic := fmt.Sprintf("auto-%v-%d", tt.ok, len(tt.props))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("v")}).FirstErr()
		cancel()
		cl.Close()
		if (err == nil) != tt.ok {
			t.Errorf("%v: produce to a new topic: %v", tt.props, err)
		}
	}
	if _, err := Options(map[string]string{"allow.auto.create.topics": "maybe"}, Producer); err == nil {
		t.Error("allow.auto.create.topics=maybe accepted")
	}
}

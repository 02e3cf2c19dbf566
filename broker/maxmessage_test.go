package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A topic created with max.message.bytes above the broker's default (as
// the file source does, so that 1 MiB lines plus headers fit) takes a
// batch that a default topic refuses, reports the setting, and gives the
// batch back to consumers whose fetch limits are smaller than it (KIP-74:
// the first batch is returned whole even when it is over the limits).
// socket.request.max.bytes, at its default, is not what limits it.
func TestTopicMaxMessageBytesAboveDefault(t *testing.T) {
	tb := startBroker(t)
	ctx := testCtx(t, time.Minute)
	adm := newAdmin(t, tb.addr)

	big := "2097152"
	resp, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"max.message.bytes": &big}, "wide")
	if err != nil || resp.Err != nil {
		t.Fatalf("create a topic with max.message.bytes=%s: %v %v", big, err, resp.Err)
	}
	createTopic(t, tb.addr, "narrow", 1, nil)

	rc, err := adm.DescribeTopicConfigs(ctx, "wide", "narrow")
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]string{"wide": big, "narrow": "1048588"} {
		c, err := rc.On(topic, nil)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, kv := range c.Configs {
			if kv.Key == "max.message.bytes" {
				found = true
				if kv.MaybeValue() != want {
					t.Errorf("%s: max.message.bytes is %q, want %s", topic, kv.MaybeValue(), want)
				}
				if topic == "wide" && kv.Source != kmsg.ConfigSourceDynamicTopicConfig {
					t.Errorf("%s: max.message.bytes source %v, want the topic's own", topic, kv.Source)
				}
			}
		}
		if !found {
			t.Errorf("%s: DescribeConfigs has no max.message.bytes", topic)
		}
	}

	value := make([]byte, 3<<19) // 1.5 MiB, incompressible
	for i := range value {
		value[i] = byte(rand.Uint32())
	}
	pcl := newClient(t, tb.addr,
		kgo.ProducerBatchMaxBytes(4<<20),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.RecordRetries(2),
	)
	r := &kgo.Record{Topic: "wide", Value: value}
	if err := pcl.ProduceSync(ctx, r).FirstErr(); err != nil {
		t.Fatalf("1.5 MiB record to a topic with max.message.bytes=%s: %v", big, err)
	}
	err = pcl.ProduceSync(ctx, &kgo.Record{Topic: "narrow", Value: value}).FirstErr()
	if !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("1.5 MiB record to a default topic: %v, want MESSAGE_TOO_LARGE", err)
	}
	over := make([]byte, 3<<20)
	err = pcl.ProduceSync(ctx, &kgo.Record{Topic: "wide", Value: over}).FirstErr()
	if !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("3 MiB record to a topic with max.message.bytes=%s: %v, want MESSAGE_TOO_LARGE", big, err)
	}

	for _, tc := range []struct {
		name string
		opts []kgo.Opt
	}{
		{"default fetch sizes", nil},
		{"fetch limits below the batch", []kgo.Opt{kgo.FetchMaxPartitionBytes(64 << 10), kgo.FetchMaxBytes(64 << 10)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]kgo.Opt{kgo.ConsumeTopics("wide"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, tc.opts...)
			ccl := newClient(t, tb.addr, opts...)
			fctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			for {
				fs := ccl.PollFetches(fctx)
				if err := fctx.Err(); err != nil {
					t.Fatalf("no record fetched: %v", err)
				}
				var ferr error
				fs.EachError(func(_ string, _ int32, err error) { ferr = err })
				if ferr != nil {
					t.Fatalf("fetch: %v", ferr)
				}
				recs := fs.Records()
				if len(recs) == 0 {
					continue
				}
				if len(recs) != 1 || recs[0].Offset != r.Offset || !bytes.Equal(recs[0].Value, value) {
					t.Fatalf("fetched %d records, the first at offset %d with %d bytes", len(recs), recs[0].Offset, len(recs[0].Value))
				}
				return
			}
		})
	}
	// librdkafka too, with fetch.message.max.bytes below the batch.
	t.Run("kcat", func(t *testing.T) {
		kcat, err := exec.LookPath("kcat")
		if err != nil {
			t.Skip("kcat is not installed")
		}
		kctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(kctx, kcat, "-C", "-b", tb.addr, "-t", "wide", "-o", "beginning", "-c", "1", "-e",
			"-X", "fetch.message.max.bytes=65536", "-f", "%o %S\\n").CombinedOutput()
		if err != nil {
			t.Fatalf("kcat: %v\n%s", err, out)
		}
		if want := fmt.Sprintf("%d %d\n", r.Offset, len(value)); !strings.HasSuffix(string(out), want) {
			t.Fatalf("kcat printed %q, want %q", out, want)
		}
	})
}

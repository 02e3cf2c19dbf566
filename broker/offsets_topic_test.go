package broker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestOffsetsTopicName: __consumer_offsets is the group coordinator's
// internal topic: creating it is refused as an existing topic, with
// Kafka's message, and asking Metadata for it with auto-creation allowed
// creates it as the internal topic (offsets.topic.num.partitions
// partitions), as Kafka does, never as an ordinary one-partition topic.
func TestOffsetsTopicName(t *testing.T) {
	tb := startBroker(t)
	adm := kadm.NewClient(newClient(t, tb.addr))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := adm.CreateTopic(ctx, 1, 1, nil, "__consumer_offsets")
	if !errors.Is(err, kerr.TopicAlreadyExists) && !errors.Is(res.Err, kerr.TopicAlreadyExists) {
		t.Fatalf("create __consumer_offsets: %v %v", err, res.Err)
	}
	if res.ErrMessage != "Topic '__consumer_offsets' already exists." {
		t.Errorf("message %q", res.ErrMessage)
	}
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr("__consumer_offsets")
	req.Topics, req.AllowAutoTopicCreation = append(req.Topics, rt), true
	resp, err := req.RequestWith(ctx, newClient(t, tb.addr))
	if err != nil {
		t.Fatal(err)
	}
	if mt := resp.Topics[0]; mt.ErrorCode != 0 || !mt.IsInternal || len(mt.Partitions) != 50 {
		t.Errorf("metadata of __consumer_offsets, creation allowed: %v internal=%v partitions=%d", kerr.ErrorForCode(mt.ErrorCode), mt.IsInternal, len(mt.Partitions))
	}
	if _, err := os.Stat(filepath.Join(tb.dir, "__consumer_offsets-49")); err != nil {
		t.Fatalf("partition folder __consumer_offsets-49: %v", err)
	}
}

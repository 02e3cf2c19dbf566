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

// TestOffsetsTopicName: __consumer_offsets exists as far as clients are
// concerned (the group coordinator's state): creating it is refused as an
// existing topic, with Kafka's message, and asking Metadata for it does not
// create a topic of that name.
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
	if code := resp.Topics[0].ErrorCode; code != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("metadata of __consumer_offsets, creation allowed: %v", kerr.ErrorForCode(code))
	}
	if _, err := os.Stat(filepath.Join(tb.dir, "__consumer_offsets-0")); err == nil {
		t.Fatal("a partition folder __consumer_offsets-0 was created")
	}
}

package broker

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteTopics: v0-6
//
// Behavior:
// * Deletes topics by name, or by TopicID (v6+). The topic disappears from
//   topics.json first; its partition folders are then renamed away and
//   removed in the background. Fetches waiting on its partitions are
//   woken; the group coordinator forgets its committed offsets.
// * __consumer_offsets is INVALID_TOPIC_EXCEPTION ("Cannot delete internal
//   topic"): it is the group coordinator's view (offsetstopic.go). Kafka
//   4's controller does not refuse it; here deleting it would only lose
//   the view until the next start.
// * TOPIC_DELETION_DISABLED when delete.topic.enable is false.
// * TimeoutMillis is ignored: deletion completes before the response.
//
// Version notes:
// * v1: ThrottleMillis
// * v4: flexible versions
// * v5: ErrorMessage
// * v6: topics by name or TopicID

func handleDeleteTopics(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	type target struct {
		name *string
		id   [16]byte
	}
	var targets []target
	if req.Version < 6 {
		for _, n := range req.TopicNames {
			targets = append(targets, target{name: &n})
		}
	} else {
		for _, t := range req.Topics {
			targets = append(targets, target{t.Topic, t.TopicID})
		}
	}
	for _, tg := range targets {
		st := kmsg.NewDeleteTopicsResponseTopic()
		st.Topic, st.TopicID = tg.name, tg.id
		code, msg := b.deleteTopic(c, tg.name, tg.id)
		st.ErrorCode = code
		if code != 0 && req.Version >= 5 {
			st.ErrorMessage = &msg
		}
		resp.Topics = append(resp.Topics, st)
	}
	return reply{resp: resp}
}

func (b *Broker) deleteTopic(c *conn, name *string, id [16]byte) (int16, string) {
	if !b.cfg.DeleteTopicEnable {
		return kerr.TopicDeletionDisabled.Code, "delete.topic.enable is false"
	}
	b.metaMu.Lock()
	topics := b.topics()
	var t *topic
	if name != nil {
		t = topics.byName[*name]
		if t == nil {
			b.metaMu.Unlock()
			return kerr.UnknownTopicOrPartition.Code, fmt.Sprintf("topic %s does not exist", *name)
		}
	} else {
		t = topics.byID[id]
		if t == nil {
			b.metaMu.Unlock()
			return kerr.UnknownTopicID.Code, "no topic has this id"
		}
	}
	if isInternalTopic(t.name) {
		b.metaMu.Unlock()
		return kerr.InvalidTopicException.Code, "Cannot delete internal topic " + t.name
	}
	next := topics.without(t.name)
	if err := b.persistTopics(next); err != nil {
		b.metaMu.Unlock()
		c.log.Error("cannot delete topic", "topic", t.name, "err", err)
		return kerr.KafkaStorageError.Code, err.Error()
	}
	b.topicSnap.Store(next)
	b.dropPartitions(t.parts)
	b.metaMu.Unlock()
	for _, p := range t.parts {
		p.notify()
	}
	b.coord.TopicDeleted(t.name)
	b.log.Info("deleted topic", "topic", t.name)
	return 0, ""
}

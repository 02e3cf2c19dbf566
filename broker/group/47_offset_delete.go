package group

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetDelete: v0
//
// Deletes committed offsets of a group (KIP-496). An Empty group may lose
// any of its offsets; a group with members only if it is a "consumer"
// group and no member subscribes to the topic (else
// GROUP_SUBSCRIBED_TO_TOPIC for those partitions); any other group is
// NON_EMPTY_GROUP. An unknown group is GROUP_ID_NOT_FOUND, a partition that
// does not exist UNKNOWN_TOPIC_OR_PARTITION. The response is sent once the
// deletion is fsynced.

func (c *Coordinator) offsetDelete(ctx context.Context, req *kmsg.OffsetDeleteRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp
	}
	type slot struct{ t, p int }
	var eligible []slot
	for i, t := range req.Topics {
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		for j, p := range t.Partitions {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition = p.Partition
			if !c.partitionExists(t.Topic, p.Partition) {
				rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			} else {
				eligible = append(eligible, slot{i, j})
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	groupError := func(code int16) kmsg.Response {
		resp.ErrorCode = code
		resp.Topics = nil
		return resp
	}

	if code := c.lockOpen(); code != 0 {
		return groupError(code)
	}
	g := c.groups[req.Group]
	if g == nil {
		c.mu.Unlock()
		return groupError(kerr.GroupIDNotFound.Code)
	}
	needed, known := g.neededTopics()
	if !known {
		c.mu.Unlock()
		return groupError(kerr.NonEmptyGroup.Code)
	}
	var recs []record
	for _, s := range eligible {
		topic := req.Topics[s.t].Topic
		partition := req.Topics[s.t].Partitions[s.p].Partition
		if needed(topic) {
			resp.Topics[s.t].Partitions[s.p].ErrorCode = kerr.GroupSubscribedToTopic.Code
			continue
		}
		tp := topicPartition{topic, partition}
		if g.offsets[tp] != nil || g.pendingCommits[tp] > 0 {
			recs = append(recs, record{kind: kindDeleteOffset, group: g.name, topic: topic, partition: partition})
		}
	}
	var b *batch
	if len(recs) > 0 {
		b = c.olog.append(recs...)
	}
	c.mu.Unlock()
	if b == nil {
		return resp
	}
	select {
	case <-b.done:
		if b.err != nil {
			return groupError(kerr.NotCoordinator.Code)
		}
	case <-ctx.Done():
		return groupError(kerr.NotCoordinator.Code)
	}
	return resp
}

// neededTopics says which topics' committed offsets the group's members
// may still read from. An Empty group has no members; a "consumer" group
// needs the topics its members subscribe to (every topic, if one of their
// subscriptions cannot be read). For a group of another protocol type with
// members the metadata does not say: known is false.
func (g *group) neededTopics() (needed func(topic string) bool, known bool) {
	switch {
	case g.state == stateEmpty:
		return func(string) bool { return false }, true
	case g.protocolType != "consumer":
		return nil, false
	case g.subscribed == nil:
		return func(string) bool { return true }, true
	}
	return func(topic string) bool { return g.subscribed[topic] }, true
}

package broker

import (
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CreatePartitions: v0-3
//
// Behavior:
// * Raises a topic's partition count; the new partitions start empty.
//   Fewer or equal partitions than now is INVALID_PARTITIONS.
// * An Assignment, if given, must list one replica set per new partition,
//   each being this broker alone (else INVALID_REPLICA_ASSIGNMENT).
// * A topic listed twice is INVALID_REQUEST.
// * __consumer_offsets is INVALID_TOPIC_EXCEPTION: a group's partition
//   depends on the count (offsets.topic.num.partitions sets it).
// * ValidateOnly runs every check and changes nothing.
// * TimeoutMillis is ignored.
//
// Version notes:
// * v1: ThrottleMillis
// * v2: flexible versions
// * v3: no change

func handleCreatePartitions(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	count := map[string]int{}
	for _, rt := range req.Topics {
		count[rt.Topic]++
	}
	for _, rt := range req.Topics {
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = rt.Topic
		code, msg := b.createPartitions(c, rt, count[rt.Topic] > 1, req.ValidateOnly)
		if code != 0 {
			st.ErrorCode, st.ErrorMessage = code, &msg
		}
		resp.Topics = append(resp.Topics, st)
	}
	return reply{resp: resp}
}

func (b *Broker) createPartitions(c *conn, rt kmsg.CreatePartitionsRequestTopic, dup, validateOnly bool) (int16, string) {
	if dup {
		return kerr.InvalidRequest.Code, fmt.Sprintf("topic %s is listed more than once", rt.Topic)
	}
	b.metaMu.Lock()
	defer b.metaMu.Unlock()
	t := b.topics().byName[rt.Topic]
	if t == nil {
		return kerr.UnknownTopicOrPartition.Code, fmt.Sprintf("topic %s does not exist", rt.Topic)
	}
	if isInternalTopic(t.name) {
		return kerr.InvalidTopicException.Code, "Cannot add partitions to internal topic " + t.name + ": each group's partition depends on the count"
	}
	have := int32(len(t.parts))
	switch {
	case rt.Count == have:
		return kerr.InvalidPartitions.Code, fmt.Sprintf("Topic already has %d partitions.", have)
	case rt.Count < have:
		return kerr.InvalidPartitions.Code, fmt.Sprintf("Topic currently has %d partitions, which is higher than the requested %d.", have, rt.Count)
	case rt.Count > maxPartitions:
		return kerr.InvalidPartitions.Code, fmt.Sprintf("%d partitions is more than this broker allows (%d)", rt.Count, maxPartitions)
	}
	if rt.Assignment != nil {
		if int32(len(rt.Assignment)) != rt.Count-have {
			return kerr.InvalidReplicaAssignment.Code, fmt.Sprintf("%d replica assignments for %d new partitions", len(rt.Assignment), rt.Count-have)
		}
		for _, a := range rt.Assignment {
			if len(a.Replicas) != 1 || a.Replicas[0] != b.cfg.NodeID {
				return kerr.InvalidReplicaAssignment.Code, fmt.Sprintf("replicas %v: this cluster has one broker, %d", a.Replicas, b.cfg.NodeID)
			}
		}
	}
	if validateOnly {
		return 0, ""
	}
	nt := &topic{name: t.name, id: t.id, configs: t.configs, parts: slices.Clone(t.parts)}
	extra := map[string]int{}
	for i := have; i < rt.Count; i++ {
		p, err := b.openPartition(nt, i, b.pickLogDir(extra), true, false, 0)
		if err != nil {
			b.dropPartitions(nt.parts[have:])
			c.log.Error("cannot create partition", "topic", t.name, "partition", i, "err", err)
			return kerr.KafkaStorageError.Code, err.Error()
		}
		nt.parts = append(nt.parts, p)
	}
	next := b.topics().with(nt)
	if err := b.persistTopics(next); err != nil {
		b.dropPartitions(nt.parts[have:])
		return kerr.KafkaStorageError.Code, err.Error()
	}
	b.topicSnap.Store(next)
	b.log.Info("added partitions", "topic", t.name, "partitions", rt.Count)
	return 0, ""
}

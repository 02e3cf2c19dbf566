package broker

import (
	"errors"
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Metadata: v0-13
//
// Behavior:
// * One broker, this one, at the advertised address of the listener the
//   client connected to; it is the controller and leads every partition
//   with leader epoch 0, as the only replica and ISR member.
// * All topics for null topics (v1+) or an empty list (v0); none for an
//   empty list (v1+). Topics may be asked for by TopicID (v10+), an
//   unknown id being UNKNOWN_TOPIC_ID.
// * A missing topic is created (num.partitions partitions, default
//   configs) when auto.create.topics.enable is true and the request allows
//   it (always before v4, AllowAutoTopicCreation from v4); otherwise it is
//   UNKNOWN_TOPIC_OR_PARTITION. An illegal name is INVALID_TOPIC_EXCEPTION.
//   A topic deleted less than 5 seconds ago is not auto-created again
//   (UNKNOWN_TOPIC_OR_PARTITION, retried by clients): see
//   deletedTopicNoAutoCreate.
// * __consumer_offsets is IsInternal (v1+): the group coordinator's
//   read-only topic (offsetstopic.go); auto-creation creates it as that
//   internal topic (offsets.topic.num.partitions), as Kafka does.
// * Authorized operations, when asked for, are everything: there are no
//   ACLs.
// * A partition whose log dir is offline is KAFKA_STORAGE_ERROR, with this
//   broker in OfflineReplicas (v5+); it stays leader and ISR, so produce
//   and fetch reach it and get the cause.
//
// Version notes:
// * v1: ControllerID, IsInternal, Rack; null topics for all
// * v2: ClusterID
// * v4: AllowAutoTopicCreation
// * v5: OfflineReplicas
// * v7: LeaderEpoch
// * v8: authorized operations (the cluster's until v10)
// * v9: flexible versions
// * v10: TopicID; v12: topics asked for by id
// * v13: top-level ErrorCode (KIP-1102), always 0

// allOperations is the authorized-operations bit set granting every topic
// or cluster operation (READ 3 through DESCRIBE_CONFIGS 10, ALTER_CONFIGS
// 11, IDEMPOTENT_WRITE 12).
const allOperations = int32(1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<9 | 1<<10 | 1<<11 | 1<<12)

func handleMetadata(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	br := kmsg.NewMetadataResponseBroker()
	br.NodeID, br.Host, br.Port = b.cfg.NodeID, c.lis.advHost, int32(c.lis.advPort)
	resp.Brokers = []kmsg.MetadataResponseBroker{br}
	resp.ClusterID = &b.clusterID
	resp.ControllerID = b.cfg.NodeID
	if req.IncludeClusterAuthorizedOperations {
		resp.AuthorizedOperations = allOperations
	}
	topicOps := int32(math.MinInt32)
	if req.IncludeTopicAuthorizedOperations {
		topicOps = allOperations
	}

	topics := b.topics()
	all := req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0)
	if all {
		for _, name := range topics.sortedNames() {
			resp.Topics = append(resp.Topics, b.describeTopic(topics.byName[name], topicOps))
		}
		return reply{resp: resp}
	}
	allowCreate := b.cfg.AutoCreateTopics && (req.Version < 4 || req.AllowAutoTopicCreation)
	seenName := map[string]bool{}
	seenID := map[[16]byte]bool{}
	for _, rt := range req.Topics {
		if rt.Topic == nil {
			if seenID[rt.TopicID] {
				continue
			}
			seenID[rt.TopicID] = true
			t := topics.byID[rt.TopicID]
			if t == nil {
				st := kmsg.NewMetadataResponseTopic()
				st.ErrorCode, st.TopicID = kerr.UnknownTopicID.Code, rt.TopicID
				resp.Topics = append(resp.Topics, st)
				continue
			}
			resp.Topics = append(resp.Topics, b.describeTopic(t, topicOps))
			continue
		}
		name := *rt.Topic
		if seenName[name] {
			continue
		}
		seenName[name] = true
		st := kmsg.NewMetadataResponseTopic()
		st.Topic = rt.Topic
		if validateTopicName(name) != nil {
			st.ErrorCode = kerr.InvalidTopicException.Code
			resp.Topics = append(resp.Topics, st)
			continue
		}
		t := topics.byName[name]
		if t == nil && allowCreate {
			var err error
			t, err = b.autoCreate(name)
			if err != nil {
				c.log.Warn("cannot create topic", "topic", name, "err", err)
				st.ErrorCode = kerr.KafkaStorageError.Code
				var ce collisionError
				if errors.As(err, &ce) {
					st.ErrorCode = kerr.InvalidTopicException.Code
				}
				resp.Topics = append(resp.Topics, st)
				continue
			}
		}
		if t == nil {
			st.ErrorCode = kerr.UnknownTopicOrPartition.Code
			resp.Topics = append(resp.Topics, st)
			continue
		}
		resp.Topics = append(resp.Topics, b.describeTopic(t, topicOps))
	}
	return reply{resp: resp}
}

func (b *Broker) describeTopic(t *topic, ops int32) kmsg.MetadataResponseTopic {
	st := kmsg.NewMetadataResponseTopic()
	name := t.name
	st.Topic, st.TopicID, st.AuthorizedOperations = &name, t.id, ops
	st.IsInternal = isInternalTopic(name)
	st.Partitions = make([]kmsg.MetadataResponseTopicPartition, len(t.parts))
	for i := range t.parts {
		sp := &st.Partitions[i]
		sp.Default()
		sp.Partition, sp.Leader, sp.LeaderEpoch = int32(i), b.cfg.NodeID, 0
		sp.Replicas = []int32{b.cfg.NodeID}
		sp.ISR = []int32{b.cfg.NodeID}
		sp.OfflineReplicas = []int32{}
		if t.parts[i].offline != nil {
			// Its log dir is offline: the one replica is too. It stays
			// the leader (and the last ISR member, as in Kafka) so that
			// produce and fetch reach it and get the cause.
			sp.ErrorCode = kerr.KafkaStorageError.Code
			sp.OfflineReplicas = []int32{b.cfg.NodeID}
		}
	}
	return st
}

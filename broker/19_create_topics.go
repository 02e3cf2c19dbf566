package broker

import (
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CreateTopics: v0-7
//
// Behavior:
// * NumPartitions and ReplicationFactor of -1 use num.partitions and the
//   default replication factor (v4+). A replication factor other than 1
//   is INVALID_REPLICATION_FACTOR: this broker is one node.
// * A ReplicaAssignment gives the partition count; each partition must be
//   assigned to this broker alone (else INVALID_REPLICA_ASSIGNMENT), and
//   NumPartitions and ReplicationFactor must then be -1 (INVALID_REQUEST).
// * Topic names follow Kafka's rules (INVALID_TOPIC_EXCEPTION); a name
//   differing from an existing topic's only by '.' versus '_' is refused
//   too. A topic listed twice is INVALID_REQUEST.
// * Configs are Kafka's topic configs, validated (INVALID_CONFIG for an
//   unknown name or a bad value); see topicconfig.go for those that change
//   behaviour and those only stored.
// * ValidateOnly (v1+) runs every check and creates nothing.
// * v5+ responses carry the partition count, replication factor and
//   every effective config; v7+ the new topic id.
// * TimeoutMillis is ignored: creation completes before the response.
//
// Version notes:
// * v1: ValidateOnly, ErrorMessage
// * v2: ThrottleMillis
// * v4: -1 for broker defaults (KIP-464)
// * v5: flexible versions; configs, partitions and replication factor in
//   the response (KIP-525)
// * v7: TopicID in the response

// maxPartitions bounds the partitions of one topic (each is a folder and
// an open file).
const maxPartitions = 100000

func handleCreateTopics(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	count := map[string]int{}
	for _, rt := range req.Topics {
		count[rt.Topic]++
	}
	for _, rt := range req.Topics {
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic = rt.Topic
		fail := func(code int16, format string, args ...any) {
			st.ErrorCode = code
			if req.Version >= 1 {
				msg := fmt.Sprintf(format, args...)
				st.ErrorMessage = &msg
			}
		}
		if count[rt.Topic] > 1 {
			fail(kerr.InvalidRequest.Code, "topic %s is listed more than once", rt.Topic)
			resp.Topics = append(resp.Topics, st)
			continue
		}
		n, configs, code, msg := b.checkNewTopic(rt)
		if code != 0 {
			fail(code, "%s", msg)
			resp.Topics = append(resp.Topics, st)
			continue
		}
		if req.ValidateOnly {
			b.fillCreated(&st, req.Version, n, configs)
			resp.Topics = append(resp.Topics, st)
			continue
		}
		b.metaMu.Lock()
		var t *topic
		var err error
		switch {
		case b.topics().byName[rt.Topic] != nil:
			code, msg = kerr.TopicAlreadyExists.Code, fmt.Sprintf("Topic '%s' already exists.", rt.Topic)
		case b.topics().collides(rt.Topic) != "":
			code, msg = kerr.InvalidTopicException.Code, collisionError{rt.Topic, b.topics().collides(rt.Topic)}.Error()
		default:
			t, err = b.createTopic(rt.Topic, n, configs)
			if err != nil {
				c.log.Error("cannot create topic", "topic", rt.Topic, "err", err)
				code, msg = kerr.KafkaStorageError.Code, err.Error()
			}
		}
		b.metaMu.Unlock()
		if code != 0 {
			fail(code, "%s", msg)
		} else {
			st.TopicID = t.id
			b.fillCreated(&st, req.Version, n, configs)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return reply{resp: resp}
}

// checkNewTopic validates a topic to create and returns its partition
// count and config overrides, or an error code and message.
func (b *Broker) checkNewTopic(rt kmsg.CreateTopicsRequestTopic) (int32, map[string]string, int16, string) {
	if err := validateTopicName(rt.Topic); err != nil {
		return 0, nil, kerr.InvalidTopicException.Code, err.Error()
	}
	topics := b.topics()
	if topics.byName[rt.Topic] != nil || rt.Topic == offsetsTopic {
		return 0, nil, kerr.TopicAlreadyExists.Code, fmt.Sprintf("Topic '%s' already exists.", rt.Topic)
	}
	if other := topics.collides(rt.Topic); other != "" {
		return 0, nil, kerr.InvalidTopicException.Code, collisionError{rt.Topic, other}.Error()
	}
	n := rt.NumPartitions
	if len(rt.ReplicaAssignment) > 0 {
		if rt.NumPartitions != -1 || rt.ReplicationFactor != -1 {
			return 0, nil, kerr.InvalidRequest.Code, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time."
		}
		seen := map[int32]bool{}
		for _, a := range rt.ReplicaAssignment {
			if len(a.Replicas) != 1 || a.Replicas[0] != b.cfg.NodeID {
				return 0, nil, kerr.InvalidReplicaAssignment.Code, fmt.Sprintf("partition %d is assigned to brokers %v; this cluster has one broker, %d", a.Partition, a.Replicas, b.cfg.NodeID)
			}
			seen[a.Partition] = true
		}
		n = int32(len(rt.ReplicaAssignment))
		for i := range n {
			if !seen[i] {
				return 0, nil, kerr.InvalidReplicaAssignment.Code, fmt.Sprintf("partitions must be numbered 0 to %d; %d is missing", n-1, i)
			}
		}
	} else {
		if n == -1 {
			n = b.cfg.NumPartitions
		}
		if n <= 0 {
			return 0, nil, kerr.InvalidPartitions.Code, "Number of partitions was set to an invalid non-positive value."
		}
		switch rf := rt.ReplicationFactor; {
		case rf == -1 || rf == 1:
		case rf <= 0:
			return 0, nil, kerr.InvalidReplicationFactor.Code, "Replication factor must be larger than 0, or -1 to use the default value."
		default:
			return 0, nil, kerr.InvalidReplicationFactor.Code, fmt.Sprintf("Unable to replicate the partition %d time(s): The target replication factor of %d cannot be reached because only 1 broker(s) are registered.", rf, rf)
		}
	}
	if n > maxPartitions {
		return 0, nil, kerr.InvalidPartitions.Code, fmt.Sprintf("%d partitions is more than this broker allows (%d)", n, maxPartitions)
	}
	configs := map[string]string{}
	for _, kv := range rt.Configs {
		if kv.Value == nil {
			return 0, nil, kerr.InvalidRequest.Code, fmt.Sprintf("Null value not supported for topic configs: %s", kv.Name)
		}
		if _, dup := configs[kv.Name]; dup {
			return 0, nil, kerr.InvalidRequest.Code, fmt.Sprintf("config %s is set twice", kv.Name)
		}
		if err := validateTopicConfig(kv.Name, *kv.Value); err != nil {
			return 0, nil, kerr.InvalidConfig.Code, err.Error()
		}
		configs[kv.Name] = normalizeTopicConfig(kv.Name, *kv.Value)
	}
	return n, configs, 0, ""
}

// fillCreated completes a successful response topic (v5+).
func (b *Broker) fillCreated(st *kmsg.CreateTopicsResponseTopic, version int16, n int32, configs map[string]string) {
	if version < 5 {
		return
	}
	st.NumPartitions, st.ReplicationFactor = n, 1
	names := make([]string, 0, len(topicConfigs))
	for _, tc := range topicConfigs {
		names = append(names, tc.name)
	}
	sort.Strings(names)
	for _, name := range names {
		v, src := b.topicValue(configs, name)
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		c.Name, c.Value, c.Source = name, &v, int8(src)
		st.Configs = append(st.Configs, c)
	}
}

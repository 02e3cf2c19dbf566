package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetForLeaderEpoch: v0-4
//
// Behavior:
// * Every partition has had one leader epoch, 0, since its creation: the
//   end offset of epoch 0 is the log end offset. An epoch above 0 (or
//   below) has no end offset: -1 with epoch -1, as Kafka answers for
//   unknown epochs.
// * v2+: a CurrentLeaderEpoch above 0 is UNKNOWN_LEADER_EPOCH.
// * ReplicaID (v3+) is not checked: consumers and tools use -1 or -2.
//
// Version notes:
// * v1: LeaderEpoch in the response
// * v2: CurrentLeaderEpoch
// * v3: ReplicaID
// * v4: flexible versions

func handleOffsetForLeaderEpoch(b *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.OffsetForLeaderEpochRequest)
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	topics := b.topics()
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetForLeaderEpochResponseTopic()
		st.Topic = rt.Topic
		t := topics.byName[rt.Topic]
		for _, in := range rt.Partitions {
			sp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			sp.Partition, sp.LeaderEpoch, sp.EndOffset = in.Partition, -1, -1
			switch {
			case t == nil || in.Partition < 0 || int(in.Partition) >= len(t.parts):
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case req.Version >= 2 && in.CurrentLeaderEpoch > 0:
				sp.ErrorCode = kerr.UnknownLeaderEpoch.Code
			case t.parts[in.Partition].offline != nil:
				sp.ErrorCode = kerr.KafkaStorageError.Code
			case in.LeaderEpoch == 0:
				sp.LeaderEpoch, sp.EndOffset = 0, t.parts[in.Partition].log.EndOffset()
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return reply{resp: resp}
}

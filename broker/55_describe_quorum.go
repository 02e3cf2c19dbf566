package broker

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeQuorum: v0-2
//
// Kafka brokers answer DescribeQuorum (they forward it to the KRaft
// controller quorum; kafka-metadata-quorum.sh --bootstrap-server asks a
// broker), so this broker answers it too, as the quorum it would be: a
// single voter, itself, leading the metadata partition.
//
// Behavior:
// * __cluster_metadata partition 0: leader this node, leader epoch 0,
//   high watermark 0 (there is no metadata log), one voter (this node,
//   log end offset 0, last fetch and caught-up times now) and no
//   observers.
// * Any other topic or partition is UNKNOWN_TOPIC_OR_PARTITION, as a
//   KRaft controller answers.
//
// Not done:
// * A metadata log: topics.json holds the metadata, so offsets are 0.
//
// Version notes:
// * v1: LastFetchTimestamp and LastCaughtUpTimestamp of each replica
// * v2: ErrorMessage, ReplicaDirectoryID (zero), and Nodes: this node
//   with the listener the request came in on

const metadataTopic = "__cluster_metadata"

func handleDescribeQuorum(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.DescribeQuorumRequest)
	resp := req.ResponseKind().(*kmsg.DescribeQuorumResponse)
	now := time.Now().UnixMilli()
	for _, rt := range req.Topics {
		st := kmsg.NewDescribeQuorumResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewDescribeQuorumResponseTopicPartition()
			sp.Partition = rp.Partition
			if rt.Topic != metadataTopic || rp.Partition != 0 {
				msg := "This server does not host this topic-partition."
				sp.ErrorCode, sp.ErrorMessage = kerr.UnknownTopicOrPartition.Code, &msg
				sp.LeaderID, sp.LeaderEpoch, sp.HighWatermark = -1, -1, -1
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			sp.LeaderID, sp.LeaderEpoch, sp.HighWatermark = b.cfg.NodeID, 0, 0
			voter := kmsg.NewDescribeQuorumResponseTopicPartitionReplicaState()
			voter.ReplicaID, voter.LogEndOffset = b.cfg.NodeID, 0
			voter.LastFetchTimestamp, voter.LastCaughtUpTimestamp = now, now
			sp.CurrentVoters = []kmsg.DescribeQuorumResponseTopicPartitionReplicaState{voter}
			sp.Observers = []kmsg.DescribeQuorumResponseTopicPartitionReplicaState{}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if req.Version >= 2 {
		n := kmsg.NewDescribeQuorumResponseNode()
		n.NodeID = b.cfg.NodeID
		l := kmsg.NewDescribeQuorumResponseNodeListener()
		l.Name, l.Host, l.Port = c.lis.name, c.lis.advHost, uint16(c.lis.advPort)
		n.Listeners = []kmsg.DescribeQuorumResponseNodeListener{l}
		resp.Nodes = []kmsg.DescribeQuorumResponseNode{n}
	}
	return reply{resp: resp}
}

package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ElectLeaders: v0-2
//
// Behavior:
// * This broker is the only replica and leads every partition, so no
//   election is ever needed: each listed partition that exists is
//   ELECTION_NOT_NEEDED (preferred and unclean elections alike), each
//   unknown topic or partition UNKNOWN_TOPIC_OR_PARTITION.
// * Null topics ask for every partition; as Kafka's controller does, the
//   answer lists every topic and leaves out the partitions whose election
//   was not needed, so here each topic has an empty partition list.
// * An election type other than 0 (preferred) or 1 (unclean) is
//   INVALID_REQUEST for every listed partition.
// * TimeoutMillis is ignored.
//
// Not done:
// * Nothing: there is never another replica to elect.
//
// Version notes:
// * v1: ElectionType, top-level ErrorCode (always 0)
// * v2: flexible versions

func handleElectLeaders(b *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.ElectLeadersRequest)
	resp := req.ResponseKind().(*kmsg.ElectLeadersResponse)
	topics := b.topics()
	if req.Topics == nil {
		for _, name := range topics.sortedNames() {
			st := kmsg.NewElectLeadersResponseTopic()
			st.Topic = name
			st.Partitions = []kmsg.ElectLeadersResponseTopicPartition{}
			resp.Topics = append(resp.Topics, st)
		}
		return reply{resp: resp}
	}
	for _, rt := range req.Topics {
		st := kmsg.NewElectLeadersResponseTopic()
		st.Topic = rt.Topic
		t := topics.byName[rt.Topic]
		for _, p := range rt.Partitions {
			sp := kmsg.NewElectLeadersResponseTopicPartition()
			sp.Partition = p
			var msg string
			switch {
			case req.ElectionType != 0 && req.ElectionType != 1:
				sp.ErrorCode, msg = kerr.InvalidRequest.Code, "unknown election type"
			case t == nil || p < 0 || int(p) >= len(t.parts):
				sp.ErrorCode, msg = kerr.UnknownTopicOrPartition.Code, "No such topic or partition"
			default:
				sp.ErrorCode, msg = kerr.ElectionNotNeeded.Code, "Leader election not needed for topic partition"
			}
			sp.ErrorMessage = &msg
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return reply{resp: resp}
}

package broker

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AlterPartitionReassignments: v0-1
//
// Behavior:
// * A partition has one replica, this broker, and no reassignment is ever
//   in progress. Reassigning a partition to its current replica set (this
//   broker alone) succeeds and changes nothing.
// * Any other replica set is INVALID_REPLICA_ASSIGNMENT, with Kafka's
//   controller's messages: an empty list, a broker listed twice, or a
//   broker id that is not this one (no broker with that id is
//   registered).
// * Cancelling (null replicas) is NO_REASSIGNMENT_IN_PROGRESS.
// * An unknown topic or partition is UNKNOWN_TOPIC_OR_PARTITION.
// * TimeoutMillis is ignored.
//
// Not done:
// * Moving partitions: there is no other broker to move them to.
//
// Version notes:
// * v1: AllowReplicationFactorChange, echoed in the response (the only
//   valid replica set keeps the replication factor at 1)

func handleAlterPartitionAssignments(b *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.AlterPartitionAssignmentsRequest)
	resp := req.ResponseKind().(*kmsg.AlterPartitionAssignmentsResponse)
	resp.AllowReplicationFactorChange = req.AllowReplicationFactorChange
	topics := b.topics()
	for _, rt := range req.Topics {
		st := kmsg.NewAlterPartitionAssignmentsResponseTopic()
		st.Topic = rt.Topic
		t := topics.byName[rt.Topic]
		for _, rp := range rt.Partitions {
			sp := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
			sp.Partition = rp.Partition
			if code, msg := b.reassign(t, rp); code != 0 {
				sp.ErrorCode, sp.ErrorMessage = code, &msg
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return reply{resp: resp}
}

func (b *Broker) reassign(t *topic, rp kmsg.AlterPartitionAssignmentsRequestTopicPartition) (int16, string) {
	if t == nil || rp.Partition < 0 || int(rp.Partition) >= len(t.parts) {
		return kerr.UnknownTopicOrPartition.Code, "No such topic or partition"
	}
	if rp.Replicas == nil {
		return kerr.NoReassignmentInProgress.Code, fmt.Sprintf("Unable to cancel reassignment for %s-%d because no reassignment is in progress.", t.name, rp.Partition)
	}
	if len(rp.Replicas) == 0 {
		return kerr.InvalidReplicaAssignment.Code, "The manual partition assignment includes an empty replica list."
	}
	seen := map[int32]bool{}
	for _, id := range rp.Replicas {
		if seen[id] {
			return kerr.InvalidReplicaAssignment.Code, fmt.Sprintf("The manual partition assignment includes the broker %d more than once.", id)
		}
		seen[id] = true
		if id != b.cfg.NodeID {
			return kerr.InvalidReplicaAssignment.Code, fmt.Sprintf("The manual partition assignment includes broker %d, but no broker with that id is registered.", id)
		}
	}
	return 0, ""
}

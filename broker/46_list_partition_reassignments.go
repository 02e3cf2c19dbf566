package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListPartitionReassignments: v0-0
//
// Behavior:
// * No reassignment is ever in progress on one broker: the answer lists
//   none, for null topics (all) and for listed topics alike (Kafka leaves
//   out listed partitions without a reassignment, and unknown ones).
// * TimeoutMillis is ignored.
//
// Not done:
// * Nothing: reassignments cannot start (AlterPartitionReassignments only
//   accepts the current replica set).
//
// Version notes:
// * v0: flexible versions

func handleListPartitionReassignments(_ *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.ListPartitionReassignmentsRequest)
	resp := req.ResponseKind().(*kmsg.ListPartitionReassignmentsResponse)
	resp.Topics = []kmsg.ListPartitionReassignmentsResponseTopic{}
	return reply{resp: resp}
}

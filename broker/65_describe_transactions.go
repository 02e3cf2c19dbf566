package broker

import (
	"cmp"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/broker/group"
	"github.com/tributary-io/tributary/broker/txn"
)

// DescribeTransactions: v0-0
//
// Behavior:
// * For each transactional id, what the transaction coordinator holds
//   (package txn): state (Kafka's names: Empty, Ongoing, PrepareCommit,
//   PrepareAbort, CompleteCommit, CompleteAbort), producer id and epoch,
//   timeout, the start of the open transaction (-1 when none) and its
//   partitions. An unknown id is TRANSACTIONAL_ID_NOT_FOUND.
// * A consumer group of the transaction (AddOffsetsToTxn) is listed as
//   Kafka lists it: its partition of __consumer_offsets.
// * ACLs: DESCRIBE on each transactional id.
//
// Version notes:
// * v0: flexible versions

func handleDescribeTransactions(b *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.DescribeTransactionsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	for _, id := range req.TransactionalIDs {
		st := kmsg.NewDescribeTransactionsResponseTransactionState()
		st.TransactionalID = id
		d, ok := b.txns.Describe(id)
		if !ok {
			st.ErrorCode, st.ProducerID, st.ProducerEpoch, st.StartTimestamp = kerr.TransactionalIDNotFound.Code, -1, -1, -1
			resp.TransactionStates = append(resp.TransactionStates, st)
			continue
		}
		st.State = d.State.String()
		st.TimeoutMillis = int32(d.Timeout.Milliseconds())
		st.StartTimestamp = -1
		if !d.Start.IsZero() {
			st.StartTimestamp = d.Start.UnixMilli()
		}
		st.ProducerID, st.ProducerEpoch = d.ProducerID, d.ProducerEpoch
		parts := d.Partitions
		if len(d.Groups) > 0 {
			n := offsetsTopicView{b}.Partitions()
			parts = slices.Clone(parts)
			for _, g := range d.Groups {
				parts = append(parts, txn.TopicPartition{Topic: offsetsTopic, Partition: group.OffsetsTopicPartition(g, n)})
			}
			slices.SortFunc(parts, func(a, b txn.TopicPartition) int {
				return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
			})
		}
		st.Topics = describeTxnTopics(parts)
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return reply{resp: resp}
}

// describeTxnTopics groups sorted partitions by topic.
func describeTxnTopics(parts []txn.TopicPartition) []kmsg.DescribeTransactionsResponseTransactionStateTopic {
	var out []kmsg.DescribeTransactionsResponseTransactionStateTopic
	for _, tp := range parts {
		if n := len(out); n == 0 || out[n-1].Topic != tp.Topic {
			t := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
			t.Topic = tp.Topic
			out = append(out, t)
		}
		last := &out[len(out)-1]
		if !slices.Contains(last.Partitions, tp.Partition) {
			last.Partitions = append(last.Partitions, tp.Partition)
		}
	}
	return out
}

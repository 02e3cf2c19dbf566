package broker

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/broker/txn"
)

// AddPartitionsToTxn: v0-4
//
// Behavior:
// * The partitions join the open transaction of the transactional id
//   (package txn), which begins if none is open: from then on the
//   producer's transactional batches to them are accepted, and EndTxn
//   writes a marker to each.
// * A partition that does not exist is UNKNOWN_TOPIC_OR_PARTITION and the
//   others of the request OPERATION_NOT_ATTEMPTED: nothing is added, as in
//   Kafka.
// * Every partition shares the coordinator's answer:
//   INVALID_PRODUCER_ID_MAPPING for an unknown id or another producer id,
//   PRODUCER_FENCED (v2+; INVALID_PRODUCER_EPOCH before) for another
//   epoch, CONCURRENT_TRANSACTIONS while the last transaction's markers
//   are being written.
// * ACLs: WRITE on the transactional id and on each topic
//   (authorize.go).
// * v4, the batched form Kafka's brokers send the transaction coordinator
//   (KIP-890 part 1; clients keep to v3), needs CLUSTER_ACTION on the
//   cluster (else a top-level CLUSTER_AUTHORIZATION_FAILED). Each
//   transaction is answered on its own: one with VerifyOnly false is
//   added as above; one with VerifyOnly true changes nothing and answers,
//   as Kafka 3.6 and 3.7's coordinator does, INVALID_REQUEST for an empty id,
//   INVALID_PRODUCER_ID_MAPPING for an unknown id or another producer id,
//   PRODUCER_FENCED for another epoch, CONCURRENT_TRANSACTIONS while its
//   transaction is being committed or aborted, else for each partition
//   NONE if it is in the open transaction and INVALID_TXN_STATE if not.
//   Unknown partitions are answered as in v3, per transaction.
//
// Not done: v5 (TRANSACTION_ABORTABLE instead of INVALID_TXN_STATE for a
// verified partition not in the transaction), since this broker verifies
// transactional produces itself and sends no v4+ request.
//
// Version notes:
// * v2: PRODUCER_FENCED (KIP-588)
// * v3: flexible versions
// * v4: Transactions (batched, VerifyOnly) and a top-level ErrorCode
//   replace TransactionalID, ProducerID, ProducerEpoch and Topics

func handleAddPartitionsToTxn(b *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.AddPartitionsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	topics := b.topics()
	if req.Version < 4 {
		var parts []txn.TopicPartition
		for _, rt := range req.Topics {
			for _, p := range rt.Partitions {
				parts = append(parts, txn.TopicPartition{Topic: rt.Topic, Partition: p})
			}
		}
		codes := addToTxn(b, topics, req.TransactionalID, req.ProducerID, req.ProducerEpoch, false, parts, req.Version)
		for _, rt := range req.Topics {
			st := kmsg.NewAddPartitionsToTxnResponseTopic()
			st.Topic = rt.Topic
			for _, p := range rt.Partitions {
				sp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
				sp.Partition, sp.ErrorCode = p, codes[txn.TopicPartition{Topic: rt.Topic, Partition: p}]
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return reply{resp: resp}
	}
	for _, tr := range req.Transactions {
		var parts []txn.TopicPartition
		for _, rt := range tr.Topics {
			for _, p := range rt.Partitions {
				parts = append(parts, txn.TopicPartition{Topic: rt.Topic, Partition: p})
			}
		}
		codes := addToTxn(b, topics, tr.TransactionalID, tr.ProducerID, tr.ProducerEpoch, tr.VerifyOnly, parts, req.Version)
		rtx := kmsg.NewAddPartitionsToTxnResponseTransaction()
		rtx.TransactionalID = tr.TransactionalID
		for _, rt := range tr.Topics {
			st := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
			st.Topic = rt.Topic
			for _, p := range rt.Partitions {
				sp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
				sp.Partition, sp.ErrorCode = p, codes[txn.TopicPartition{Topic: rt.Topic, Partition: p}]
				st.Partitions = append(st.Partitions, sp)
			}
			rtx.Topics = append(rtx.Topics, st)
		}
		resp.Transactions = append(resp.Transactions, rtx)
	}
	return reply{resp: resp}
}

// addToTxn adds parts to (or, verifyOnly, checks them against) the
// transaction of id, and returns each partition's error code.
func addToTxn(b *Broker, topics *topicMap, id string, pid int64, epoch int16, verifyOnly bool, parts []txn.TopicPartition, version int16) map[txn.TopicPartition]int16 {
	codes := make(map[txn.TopicPartition]int16, len(parts))
	unknown := false
	for _, tp := range parts {
		if t := topics.byName[tp.Topic]; t == nil || tp.Partition < 0 || int(tp.Partition) >= len(t.parts) {
			codes[tp] = kerr.UnknownTopicOrPartition.Code
			unknown = true
		}
	}
	if unknown {
		// Nothing is added: the known partitions were not attempted.
		for _, tp := range parts {
			if _, bad := codes[tp]; !bad {
				codes[tp] = kerr.OperationNotAttempted.Code
			}
		}
		return codes
	}
	all := func(code int16) map[txn.TopicPartition]int16 {
		for _, tp := range parts {
			codes[tp] = code
		}
		return codes
	}
	if !verifyOnly {
		var code int16
		if err := b.txns.AddPartitions(id, pid, epoch, parts); err != nil {
			code = fencedCode(txnErrorCode(err), version >= 2)
		}
		return all(code)
	}
	if id == "" {
		return all(kerr.InvalidRequest.Code)
	}
	d, ok := b.txns.Describe(id)
	switch {
	case !ok || d.ProducerID != pid:
		return all(kerr.InvalidProducerIDMapping.Code)
	case d.ProducerEpoch != epoch:
		return all(kerr.ProducerFenced.Code)
	case d.State == txn.StatePrepareCommit || d.State == txn.StatePrepareAbort:
		return all(kerr.ConcurrentTransactions.Code)
	}
	for _, tp := range parts {
		codes[tp] = kerr.InvalidTxnState.Code
		if d.State == txn.StateOngoing && slices.Contains(d.Partitions, tp) {
			codes[tp] = 0
		}
	}
	return codes
}

package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/broker/txn"
)

// AddPartitionsToTxn: v0-3
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
//
// Not done: v4-5, the batched broker-to-broker form that verifies
// partitions for KIP-890 (this broker checks produces itself).
//
// Version notes:
// * v2: PRODUCER_FENCED (KIP-588)
// * v3: flexible versions

func handleAddPartitionsToTxn(b *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.AddPartitionsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	topics := b.topics()
	var parts []txn.TopicPartition
	unknown := map[txn.TopicPartition]bool{}
	for _, rt := range req.Topics {
		t := topics.byName[rt.Topic]
		for _, p := range rt.Partitions {
			tp := txn.TopicPartition{Topic: rt.Topic, Partition: p}
			if t == nil || p < 0 || int(p) >= len(t.parts) {
				unknown[tp] = true
			}
			parts = append(parts, tp)
		}
	}
	var code int16
	if len(unknown) == 0 {
		if err := b.txns.AddPartitions(req.TransactionalID, req.ProducerID, req.ProducerEpoch, parts); err != nil {
			code = fencedCode(txnErrorCode(err), req.Version >= 2)
		}
	}
	for _, rt := range req.Topics {
		st := kmsg.NewAddPartitionsToTxnResponseTopic()
		st.Topic = rt.Topic
		for _, p := range rt.Partitions {
			sp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
			sp.Partition, sp.ErrorCode = p, code
			switch {
			case unknown[txn.TopicPartition{Topic: rt.Topic, Partition: p}]:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case len(unknown) > 0:
				sp.ErrorCode = kerr.OperationNotAttempted.Code
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return reply{resp: resp}
}

package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AddOffsetsToTxn: v0-4
//
// Behavior:
// * The consumer group joins the open transaction of the transactional id
//   (package txn), which begins if none is open: the producer may then
//   send TxnOffsetCommit for the group, and EndTxn commits or drops those
//   offsets with the transaction. (Kafka adds the group's
//   __consumer_offsets partition; here the group itself is recorded.)
// * Errors as AddPartitionsToTxn: INVALID_PRODUCER_ID_MAPPING,
//   PRODUCER_FENCED (v2+; INVALID_PRODUCER_EPOCH before),
//   CONCURRENT_TRANSACTIONS.
// * ACLs: WRITE on the transactional id, READ on the group.
//
// Version notes:
// * v2: PRODUCER_FENCED (KIP-588)
// * v3: flexible versions
// * v4: TRANSACTION_ABORTABLE may be returned (KIP-890): never here

func handleAddOffsetsToTxn(b *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.AddOffsetsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	if err := b.txns.AddGroup(req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group); err != nil {
		resp.ErrorCode = fencedCode(txnErrorCode(err), req.Version >= 2)
	}
	return reply{resp: resp}
}

package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// EndTxn: v0-4
//
// Behavior:
// * Commits (Commit true) or aborts the open transaction of the
//   transactional id (package txn): the decision is made durable, then a
//   COMMIT or ABORT marker is appended to every partition of the
//   transaction (read_committed consumers then read its batches, or skip
//   them) and the offsets committed with TxnOffsetCommit become the
//   groups' committed offsets or are dropped; the answer comes once all of
//   that is written. Should a marker not be written, the transaction stays
//   decided and the coordinator writes it later (CONCURRENT_TRANSACTIONS
//   until then), as Kafka's does.
// * A retry of a completed end gets success; an end of the other kind, or
//   of no transaction, INVALID_TXN_STATE; INVALID_PRODUCER_ID_MAPPING,
//   PRODUCER_FENCED (v2+; INVALID_PRODUCER_EPOCH before) as
//   AddPartitionsToTxn. A transaction aborted by its timeout has bumped
//   the epoch: its producer is fenced.
// * ACLs: WRITE on the transactional id.
//
// Not done: v5 (KIP-890 part 2, an epoch bump at every end).
//
// Version notes:
// * v2: PRODUCER_FENCED (KIP-588)
// * v3: flexible versions
// * v4: TRANSACTION_ABORTABLE may be returned (KIP-890): never here

func handleEndTxn(b *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.EndTxnRequest)
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	if err := b.txns.End(req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit); err != nil {
		resp.ErrorCode = fencedCode(txnErrorCode(err), req.Version >= 2)
	}
	return reply{resp: resp}
}

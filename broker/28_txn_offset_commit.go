package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TxnOffsetCommit: v0-4
//
// Behavior:
// * The transaction coordinator checks the producer first: its
//   transaction must be open and hold the group (AddOffsetsToTxn), else
//   INVALID_TXN_STATE; INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED (v3+;
//   INVALID_PRODUCER_EPOCH before) as AddPartitionsToTxn. Every partition
//   gets that error.
// * Then the group coordinator stores the offsets as pending
//   (group/28_txn_offset_commit.go: KIP-447 member and generation checks,
//   UNSTABLE_OFFSET_COMMIT for OffsetFetch with RequireStable until the
//   transaction ends). The transaction cannot end while the offsets are
//   being written.
// * ACLs: WRITE on the transactional id, READ on the group and on each
//   topic.
//
// Not done: v5 (KIP-890 part 2).
//
// Version notes:
// * v2: LeaderEpoch per partition
// * v3: flexible versions; Generation, MemberID, InstanceID (KIP-447);
//   PRODUCER_FENCED
// * v4: TRANSACTION_ABORTABLE may be returned (KIP-890): never here

func handleTxnOffsetCommit(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.TxnOffsetCommitRequest)
	release, err := b.txns.BeginOffsetCommit(req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group)
	if err != nil {
		resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
		code := fencedCode(txnErrorCode(err), req.Version >= 3)
		for _, rt := range req.Topics {
			st := kmsg.NewTxnOffsetCommitResponseTopic()
			st.Topic = rt.Topic
			for _, p := range rt.Partitions {
				sp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
				sp.Partition, sp.ErrorCode = p.Partition, code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return reply{resp: resp}
	}
	defer release()
	return reply{resp: b.coord.TxnOffsetCommit(c.ctx, req)}
}

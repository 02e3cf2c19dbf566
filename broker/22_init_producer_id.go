package broker

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// InitProducerID: v0-5
//
// Behavior:
// * An idempotent producer (null TransactionalID) gets a new producer id
//   with epoch 0, as Kafka gives it, also when it sends its current id
//   and epoch (v3+) after a sequence error. Ids are unique across
//   restarts: blocks of them are reserved on disk (producer-id-block)
//   before use, and start above every id a partition remembers.
// * A transactional producer is served by the transaction coordinator
//   (package txn): a new transactional id gets a new producer id with
//   epoch 0, a known one its epoch bumped, which fences the older
//   producers; an open transaction of the id is aborted first (its markers
//   written with a bumped epoch). TransactionTimeoutMillis above
//   transaction.max.timeout.ms (or not positive) is
//   INVALID_TRANSACTION_TIMEOUT. An epoch that cannot grow any more gets a
//   new producer id.
// * v3+: ProducerID and ProducerEpoch must be both -1 or both set, else
//   INVALID_REQUEST. With a transactional id, they are the producer's
//   current ones (KIP-360): it keeps its id with a bumped epoch, a retry of
//   that init gets the same answer, and anyone else is fenced.
// * A fenced producer gets PRODUCER_FENCED (v4+) or INVALID_PRODUCER_EPOCH.
//
// Version notes:
// * v1: ThrottleMillis semantics
// * v2: flexible versions
// * v3: ProducerID and ProducerEpoch in the request (KIP-360)
// * v4: PRODUCER_FENCED (KIP-588)
// * v5: epoch bumps on every transaction (KIP-890 part 2): not advertised
//   by EndTxn (v4 at most), so clients do not use them; served as v4

func handleInitProducerID(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.Version >= 3 && (req.ProducerID == -1) != (req.ProducerEpoch == -1) {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return reply{resp: resp}
	}
	if req.TransactionalID != nil {
		expPID, expEpoch := int64(-1), int16(-1)
		if req.Version >= 3 {
			expPID, expEpoch = req.ProducerID, req.ProducerEpoch
		}
		timeout := time.Duration(req.TransactionTimeoutMillis) * time.Millisecond
		pid, epoch, err := b.txns.InitProducerID(*req.TransactionalID, timeout, expPID, expEpoch)
		if err != nil {
			resp.ErrorCode = fencedCode(txnErrorCode(err), req.Version >= 4)
			return reply{resp: resp}
		}
		resp.ProducerID, resp.ProducerEpoch = pid, epoch
		return reply{resp: resp}
	}
	id, err := b.pids.allocate()
	if err != nil {
		c.log.Error("cannot reserve producer ids", "err", err)
		resp.ErrorCode = kerr.UnknownServerError.Code
		return reply{resp: resp}
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return reply{resp: resp}
}

// txnErrorCode is the Kafka code of an error of the transaction
// coordinator.
func txnErrorCode(err error) int16 {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.UnknownServerError.Code
}

// fencedCode turns PRODUCER_FENCED into INVALID_PRODUCER_EPOCH for the
// request versions before KIP-588 introduced it (fenced false).
func fencedCode(code int16, fenced bool) int16 {
	if code == kerr.ProducerFenced.Code && !fenced {
		return kerr.InvalidProducerEpoch.Code
	}
	return code
}

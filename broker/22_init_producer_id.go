package broker

import (
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
// * v3+: ProducerID and ProducerEpoch must be both -1 or both set, else
//   INVALID_REQUEST.
//
// Not done: transactions. A TransactionalID is INVALID_REQUEST.
//
// Version notes:
// * v1: ThrottleMillis semantics
// * v2: flexible versions
// * v3: ProducerID and ProducerEpoch in the request (KIP-360)
// * v4: PRODUCER_FENCED for transactional producers: not applicable
// * v5: epoch bumps of transactions (KIP-890): not applicable

func handleInitProducerID(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	switch {
	case req.TransactionalID != nil:
		resp.ErrorCode = kerr.InvalidRequest.Code
		return reply{resp: resp}
	case req.Version >= 3 && (req.ProducerID == -1) != (req.ProducerEpoch == -1):
		resp.ErrorCode = kerr.InvalidRequest.Code
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

package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// FindCoordinator: v0-5
//
// Behavior:
// * This broker coordinates every consumer group (CoordinatorType 0) and
//   every transactional id (type 1, package txn): the answer is always its
//   node id and the advertised address of the listener the client
//   connected to.
// * Any other type is INVALID_REQUEST.
// * v4+: every key of CoordinatorKeys gets its own answer (KIP-699).
//
// Not done: share group coordinators (type 2, v6).
//
// Version notes:
// * v1: CoordinatorType, ErrorMessage, ThrottleMillis
// * v3: flexible versions
// * v4: batched CoordinatorKeys (KIP-699)
// * v5: TRANSACTION_ABORTABLE may be returned (KIP-890): never here

func handleFindCoordinator(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	var code int16
	var msg string
	if req.CoordinatorType != 0 && req.CoordinatorType != 1 {
		code, msg = kerr.InvalidRequest.Code, "this broker coordinates consumer groups and transactions only (coordinator types 0 and 1)"
	}
	if req.Version < 4 {
		resp.ErrorCode = code
		if code != 0 {
			resp.NodeID, resp.Port = -1, -1
			if req.Version >= 1 {
				resp.ErrorMessage = &msg
			}
		} else {
			resp.NodeID, resp.Host, resp.Port = b.cfg.NodeID, c.lis.advHost, int32(c.lis.advPort)
		}
		return reply{resp: resp}
	}
	for _, key := range req.CoordinatorKeys {
		sc := kmsg.NewFindCoordinatorResponseCoordinator()
		sc.Key = key
		if code != 0 {
			sc.ErrorCode, sc.ErrorMessage, sc.NodeID, sc.Port = code, &msg, -1, -1
		} else {
			sc.NodeID, sc.Host, sc.Port = b.cfg.NodeID, c.lis.advHost, int32(c.lis.advPort)
		}
		resp.Coordinators = append(resp.Coordinators, sc)
	}
	return reply{resp: resp}
}

package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Heartbeat: v0-4
//
// Version notes:
//   - v3: InstanceID (KIP-345): a static member must hold its instance id,
//     else FENCED_INSTANCE_ID.
//
// A heartbeat restarts the member's session timer. During a rebalance it
// is answered REBALANCE_IN_PROGRESS (the member should rejoin); an unknown
// group or member gets UNKNOWN_MEMBER_ID, a stale generation
// ILLEGAL_GENERATION.

func (c *Coordinator) heartbeat(req *kmsg.HeartbeatRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	g := c.groups[req.Group]
	if g == nil {
		resp.ErrorCode = kerr.UnknownMemberID.Code
		return resp
	}
	if code := g.validateMember(req.MemberID, req.InstanceID); code != 0 {
		resp.ErrorCode = code
		return resp
	}
	if req.Generation != g.generation {
		resp.ErrorCode = kerr.IllegalGeneration.Code
		return resp
	}
	m := g.byID[req.MemberID]
	switch g.state {
	case stateEmpty:
		resp.ErrorCode = kerr.UnknownMemberID.Code
	case statePreparingRebalance:
		c.scheduleSession(g, m, m.session)
		resp.ErrorCode = kerr.RebalanceInProgress.Code
	default:
		c.scheduleSession(g, m, m.session)
	}
	return resp
}

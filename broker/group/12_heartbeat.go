package group

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Heartbeat: v0-4
//
// Version notes:
//   - v3: InstanceID (KIP-345): a static member must hold its instance id,
//     else FENCED_INSTANCE_ID.
//
// A heartbeat keeps its member's session alive. Like SyncGroup it is sent
// within a generation (group.standing: UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID,
// ILLEGAL_GENERATION); past those checks the answer is the heartbeat
// column of the state table (state.go): REBALANCE_IN_PROGRESS during a
// join phase, which tells the member to rejoin, and none otherwise. The
// session restarts in every state that has members.

func (c *Coordinator) heartbeat(req *kmsg.HeartbeatRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	resp.ErrorCode = c.beat(req)
	return resp
}

func (c *Coordinator) beat(req *kmsg.HeartbeatRequest) int16 {
	if code := c.admit(req.Group); code != 0 {
		return code
	}
	defer c.mu.Unlock()
	g, m, code := c.memberOf(req.Group, req.MemberID, req.InstanceID, req.Generation)
	if code != 0 {
		return code
	}
	row := states[g.state]
	if row.members {
		c.scheduleSession(g, m, m.session)
	}
	return row.heartbeat
}

package group

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// LeaveGroup: v0-5
//
// Version notes:
//   - v3: a batch of members, each by member id or by instance id (an
//     empty member id with an instance id removes that static member, as
//     an admin does), with an error per member (KIP-345).
//   - v5: Reason per member (logged).
//
// For v0-v2 the single member's error is the top-level error. An unknown
// group answers UNKNOWN_MEMBER_ID for each member, as Kafka does.

func (c *Coordinator) leaveGroup(req *kmsg.LeaveGroupRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	if resp.ErrorCode = c.admit(req.Group); resp.ErrorCode != 0 {
		return resp
	}
	defer c.mu.Unlock()
	g := c.groups[req.Group]
	if req.Version < 3 {
		resp.ErrorCode = c.leave(g, kmsg.LeaveGroupRequestMember{MemberID: req.MemberID})
		return resp
	}
	resp.Members = make([]kmsg.LeaveGroupResponseMember, len(req.Members))
	for i, lm := range req.Members {
		out := &resp.Members[i]
		out.Default()
		out.MemberID, out.InstanceID, out.ErrorCode = lm.MemberID, lm.InstanceID, c.leave(g, lm)
	}
	return resp
}

// leave removes the member that one entry of a LeaveGroup names, and
// returns the entry's error code. An entry with an instance id and no
// member id removes whoever holds that instance id, as an admin tool does;
// a member id held since MEMBER_ID_REQUIRED is released; any other entry
// must name a member in the group (group.identify).
func (c *Coordinator) leave(g *group, lm kmsg.LeaveGroupRequestMember) int16 {
	if g == nil {
		return codeNoMember
	}
	var m *member
	switch _, pending := g.pending[lm.MemberID]; {
	case lm.MemberID == "" && lm.InstanceID != nil:
		holder, held := g.static[*lm.InstanceID]
		if !held {
			return codeNoMember
		}
		m = g.byID[holder]
	case pending:
		c.releaseMemberID(g, lm.MemberID)
		return 0
	default:
		var code int16
		if m, code = g.identify(lm.MemberID, lm.InstanceID); code != 0 {
			return code
		}
	}
	reason := "left the group"
	if lm.Reason != nil {
		reason += ": " + *lm.Reason
	}
	c.log.Info("member left", "group", g.name, "member", m.id, "reason", reason)
	c.removeMember(g, m, reason)
	return 0
}

package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
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
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp
	}
	members := req.Members
	if req.Version < 3 {
		members = []kmsg.LeaveGroupRequestMember{{MemberID: req.MemberID}}
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	g := c.groups[req.Group]
	for _, lm := range members {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID = lm.MemberID
		rm.InstanceID = lm.InstanceID
		rm.ErrorCode = c.leave(g, lm)
		resp.Members = append(resp.Members, rm)
	}
	c.mu.Unlock()
	if req.Version < 3 {
		resp.ErrorCode = resp.Members[0].ErrorCode
		resp.Members = nil
	}
	return resp
}

// leave removes one member and returns its error code.
func (c *Coordinator) leave(g *group, lm kmsg.LeaveGroupRequestMember) int16 {
	if g == nil {
		return kerr.UnknownMemberID.Code
	}
	reason := "left the group"
	if lm.Reason != nil {
		reason = "left the group: " + *lm.Reason
	}
	if lm.MemberID == "" {
		if lm.InstanceID == nil {
			return kerr.UnknownMemberID.Code
		}
		id, ok := g.static[*lm.InstanceID]
		if !ok {
			return kerr.UnknownMemberID.Code
		}
		c.log.Info("static member removed", "group", g.name, "instance", *lm.InstanceID, "member", id)
		c.removeMember(g, g.byID[id], reason)
		return 0
	}
	if _, ok := g.pending[lm.MemberID]; ok {
		c.removePending(g, lm.MemberID)
		return 0
	}
	if code := g.validateMember(lm.MemberID, lm.InstanceID); code != 0 {
		return code
	}
	c.log.Info("member left", "group", g.name, "member", lm.MemberID, "reason", reason)
	c.removeMember(g, g.byID[lm.MemberID], reason)
	return 0
}

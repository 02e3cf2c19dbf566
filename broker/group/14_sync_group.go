package group

import (
	"bytes"
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SyncGroup: v0-5
//
// Version notes:
//   - v3: InstanceID (KIP-345): a static member must hold its instance id,
//     else FENCED_INSTANCE_ID.
//   - v5: ProtocolType and Protocol in the request (checked against the
//     group's, else INCONSISTENT_GROUP_PROTOCOL) and in the response.
//
// Followers park until the leader's SyncGroup brings the assignment; a
// member the leader left out gets an empty assignment, as in Kafka.

func (c *Coordinator) syncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	g := c.groups[req.Group]
	code := kerr.UnknownMemberID.Code
	if g != nil {
		code = g.validateMember(req.MemberID, req.InstanceID)
	}
	switch {
	case code != 0:
	case req.Generation != g.generation:
		code = kerr.IllegalGeneration.Code
	case req.ProtocolType != nil && *req.ProtocolType != g.protocolType,
		req.Protocol != nil && *req.Protocol != g.protocol:
		code = kerr.InconsistentGroupProtocol.Code
	}
	if code != 0 {
		c.mu.Unlock()
		resp.ErrorCode = code
		return resp
	}
	m := g.byID[req.MemberID]
	switch g.state {
	case stateEmpty:
		resp.ErrorCode = kerr.UnknownMemberID.Code
	case statePreparingRebalance:
		resp.ErrorCode = kerr.RebalanceInProgress.Code
	case stateCompletingRebalance:
		delete(g.pendingSync, m.id)
		c.replySyncError(m.syncWait, kerr.RebalanceInProgress.Code)
		w := c.newWaiter(ctx, g, m, req, true)
		m.syncWait = w
		if m.id == g.leader {
			c.completeSync(g, req.GroupAssignment)
		}
		c.mu.Unlock()
		return c.wait(ctx, w)
	case stateStable:
		delete(g.pendingSync, m.id)
		resp.ProtocolType = kmsg.StringPtr(g.protocolType)
		resp.Protocol = kmsg.StringPtr(g.protocol)
		resp.MemberAssignment = m.assignment
		c.scheduleSession(g, m, m.session)
	}
	c.mu.Unlock()
	return resp
}

// completeSync stores the leader's assignment, answers every parked
// SyncGroup and makes the group stable.
func (c *Coordinator) completeSync(g *group, assignments []kmsg.SyncGroupRequestGroupAssignment) {
	byMember := make(map[string][]byte, len(assignments))
	for _, a := range assignments {
		byMember[a.MemberID] = a.MemberAssignment
	}
	for _, m := range g.members {
		m.assignment = bytes.Clone(byMember[m.id])
		if m.assignment == nil {
			m.assignment = []byte{}
		}
	}
	g.state = stateStable
	c.log.Info("rebalance: group stable", "group", g.name, "generation", g.generation, "members", len(g.members))
	for _, m := range g.members {
		if w := m.syncWait; w != nil {
			resp := w.req.ResponseKind().(*kmsg.SyncGroupResponse)
			resp.ProtocolType = kmsg.StringPtr(g.protocolType)
			resp.Protocol = kmsg.StringPtr(g.protocol)
			resp.MemberAssignment = m.assignment
			c.reply(w, resp)
			c.scheduleSession(g, m, m.session)
		}
	}
}

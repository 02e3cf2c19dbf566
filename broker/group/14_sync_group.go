package group

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SyncGroup: v0-5
//
// Version notes:
//   - v3: InstanceID (KIP-345): a static member must hold its instance id,
//     else FENCED_INSTANCE_ID.
//   - v5: ProtocolType and Protocol in the request, checked against the
//     group's (INCONSISTENT_GROUP_PROTOCOL), and in the response (KIP-559).
//
// A SyncGroup is sent within a generation: its member must be in the group
// at the group's generation (group.standing). What it gets then depends on
// the group's state (the table in state.go): while the group waits for the
// leader's assignment every member's SyncGroup parks, and the leader's
// brings the assignment to all of them; once the group is Stable a member
// gets its part at once; during a join phase it is told to rejoin. A
// member the leader left out gets an empty assignment, as in Kafka.

func (c *Coordinator) syncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	if resp.ErrorCode = c.admit(req.Group); resp.ErrorCode != 0 {
		return resp
	}
	g, m, code := c.memberOf(req.Group, req.MemberID, req.InstanceID, req.Generation)
	switch {
	case code != 0:
	case !g.speaks(req.ProtocolType, req.Protocol):
		code = kerr.InconsistentGroupProtocol.Code
	case states[g.state].sync == syncRefused:
		code = states[g.state].syncErr
	}
	if code != 0 {
		c.mu.Unlock()
		resp.ErrorCode = code
		return resp
	}
	m.syncedGen = g.generation
	if states[g.state].sync == syncServed {
		g.syncAnswer(resp, m)
		c.scheduleSession(g, m, m.session)
		c.mu.Unlock()
		return resp
	}
	// syncWaits. A SyncGroup the member still has parked is replaced.
	c.replySyncError(m.syncWait, codeRebalancing)
	w := c.newWaiter(ctx, g, m, req, true)
	m.syncWait = w
	if m.id == g.leader {
		c.adoptAssignment(g, req.GroupAssignment)
	}
	c.mu.Unlock()
	return c.wait(ctx, w)
}

// speaks reports whether the protocol type and protocol name that a
// SyncGroup v5 may name are the group's; one not named is not checked.
func (g *group) speaks(protocolType, protocol *string) bool {
	is := func(named *string, want string) bool { return named == nil || *named == want }
	return is(protocolType, g.protocolType) && is(protocol, g.protocol)
}

// adoptAssignment ends a generation's wait for its assignment: each member
// keeps what the leader's SyncGroup gives it (ids the leader names that
// are not members are ignored), the group is Stable, and every SyncGroup
// parked meanwhile gets its member's part.
func (c *Coordinator) adoptAssignment(g *group, plan []kmsg.SyncGroupRequestGroupAssignment) {
	given := make(map[string][]byte, len(plan))
	for _, a := range plan {
		given[a.MemberID] = a.MemberAssignment
	}
	c.enter(g, stateStable)
	c.log.Info("rebalance: group stable", "group", g.name, "generation", g.generation, "members", len(g.members))
	for _, m := range g.members {
		m.assignment = append([]byte{}, given[m.id]...)
		if w := m.syncWait; w != nil {
			resp := w.req.ResponseKind().(*kmsg.SyncGroupResponse)
			g.syncAnswer(resp, m)
			c.reply(w, resp)
			c.scheduleSession(g, m, m.session)
		}
	}
	if c.cfg.OffsetsTopic != nil {
		// The generation's assignment, for the offsets topic's group
		// metadata (Kafka stores the group at this point too).
		c.olog.append(g.metaRecord(c.clk.Now()))
	}
}

// syncAnswer writes into resp what a SyncGroup tells m once the leader has
// assigned: its part, and (v5) the generation's protocol type and name.
func (g *group) syncAnswer(resp *kmsg.SyncGroupResponse, m *member) {
	protocolType, protocol := g.protocolType, g.protocol
	resp.ProtocolType, resp.Protocol, resp.MemberAssignment = &protocolType, &protocol, m.assignment
}

package group

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// JoinGroup: v0-9
//
// Version notes:
//   - v0: no RebalanceTimeoutMillis; the session timeout serves as both.
//   - v4: a dynamic member's first join gets MEMBER_ID_REQUIRED and its
//     member id (KIP-394); the member id stays pending until it rejoins
//     with it or its session timeout passes.
//   - v5: InstanceID, static membership (KIP-345).
//   - v7: ProtocolType in the response; Protocol nullable.
//   - v8: Reason (logged).
//   - v9: SkipAssignment, for a static leader that rejoins a stable group
//     (KIP-814).
//
// A member already in the group that joins again takes part in the open
// join phase; outside one it starts a rebalance if its offer changed (or,
// in a Stable group, if it is the leader), and is otherwise told the
// current generation again: the rejoin column of the table in state.go.
//
// A static member that rejoins a stable group with a new member id takes
// over its old member (the old one is fenced) without a rebalance when the
// selected protocol stays the same, as in Kafka; unlike Kafka it also
// rebalances when the member's subscription (the topics of its consumer
// protocol metadata, or the raw metadata of another protocol type) changed.
//
// Not done: group.max.size (groups have no size limit).

func ms(v int32) time.Duration { return time.Duration(v) * time.Millisecond }

// joinParams are the parts of a JoinGroup kept on the member.
type joinParams struct {
	req       *kmsg.JoinGroupRequest
	client    clientInfo
	session   time.Duration
	rebalance time.Duration
}

func (c *Coordinator) joinGroup(ctx context.Context, req *kmsg.JoinGroupRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.MemberID = req.MemberID
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp
	}
	p := joinParams{req: req, client: clientOf(ctx), session: ms(req.SessionTimeoutMillis), rebalance: ms(req.RebalanceTimeoutMillis)}
	if p.session < c.cfg.MinSessionTimeout || p.session > c.cfg.MaxSessionTimeout {
		resp.ErrorCode = kerr.InvalidSessionTimeout.Code
		return resp
	}
	if req.Version == 0 || p.rebalance <= 0 {
		p.rebalance = p.session
	}
	if req.Reason != nil {
		c.log.Debug("join group", "group", req.Group, "member", req.MemberID, "reason", *req.Reason)
	}

	if resp.ErrorCode = c.lockOpen(); resp.ErrorCode != 0 {
		return resp
	}
	g := c.groups[req.Group]
	created := false
	if g == nil {
		if req.MemberID != "" {
			c.mu.Unlock()
			resp.ErrorCode = codeNoMember
			return resp
		}
		g = newGroup(strings.Clone(req.Group))
		c.groups[g.name] = g
		created = true
	}
	var w *waiter
	switch {
	case !g.acceptsJoin(req.ProtocolType, req.Protocols):
		resp.ErrorCode = kerr.InconsistentGroupProtocol.Code
	case req.MemberID == "":
		w = c.joinNew(ctx, g, p, resp)
	default:
		w = c.joinKnown(ctx, g, p, resp)
	}
	if created && g.idle() {
		delete(c.groups, g.name)
	}
	c.mu.Unlock()
	if w == nil {
		return resp
	}
	return c.wait(ctx, w)
}

func cloneProtocols(ps []kmsg.JoinGroupRequestProtocol) []kmsg.JoinGroupRequestProtocol {
	out := make([]kmsg.JoinGroupRequestProtocol, len(ps))
	for i, p := range ps {
		out[i] = kmsg.JoinGroupRequestProtocol{Name: strings.Clone(p.Name), Metadata: bytes.Clone(p.Metadata)}
	}
	return out
}

func cloneStringPtr(s *string) *string {
	if s == nil {
		return nil
	}
	v := strings.Clone(*s)
	return &v
}

// joinNew serves a JoinGroup without a member id: the coordinator names
// the member, after its instance id if it is static, else after its client
// id. A dynamic member of JoinGroup v4+ is only told its id
// (MEMBER_ID_REQUIRED, KIP-394) and joins when it comes back with it;
// other members join at once, a static one in place of the member that
// holds its instance id, if any.
func (c *Coordinator) joinNew(ctx context.Context, g *group, p joinParams, resp *kmsg.JoinGroupResponse) *waiter {
	req := p.req
	if req.InstanceID == nil {
		id := c.newID(p.client.id)
		if req.Version < 4 {
			return c.addMember(ctx, g, id, p)
		}
		c.holdMemberID(g, id, p.session)
		resp.MemberID, resp.ErrorCode = id, kerr.MemberIDRequired.Code
		return nil
	}
	id := c.newID(*req.InstanceID)
	if holder, held := g.static[*req.InstanceID]; held {
		return c.replaceStatic(ctx, g, holder, id, p)
	}
	return c.addMember(ctx, g, id, p)
}

// joinKnown serves a JoinGroup with a member id: a member id held since
// MEMBER_ID_REQUIRED joins now; a member's rejoin does what the state's
// rejoin rule says (state.go).
func (c *Coordinator) joinKnown(ctx context.Context, g *group, p joinParams, resp *kmsg.JoinGroupResponse) *waiter {
	req := p.req
	if t, held := g.pending[req.MemberID]; held {
		c.sched.stop(t)
		delete(g.pending, req.MemberID)
		return c.addMember(ctx, g, strings.Clone(req.MemberID), p)
	}
	m, code := g.identify(req.MemberID, req.InstanceID)
	if code != 0 {
		resp.ErrorCode = code
		return nil
	}
	changed := !m.offersSame(req.Protocols)
	switch rule := states[g.state].rejoin; {
	case rule == rejoinRefused:
		resp.ErrorCode = codeNoMember
		return nil
	case rule == rejoinTakesPart:
		return c.updateMember(ctx, g, m, p, "member rejoined during a rebalance")
	case changed:
		return c.updateMember(ctx, g, m, p, "member rejoined with new metadata")
	case rule == rejoinLeaderAlways && m.id == g.leader:
		return c.updateMember(ctx, g, m, p, "leader rejoined")
	}
	g.joinAnswer(resp, m.id, m.id == g.leader)
	return nil
}

// addMember adds a new member, parked in JoinGroup, and rebalances.
func (c *Coordinator) addMember(ctx context.Context, g *group, id string, p joinParams) *waiter {
	req := p.req
	m := &member{
		id:           id,
		instanceID:   cloneStringPtr(req.InstanceID),
		clientID:     p.client.id,
		clientHost:   p.client.host,
		protocolType: strings.Clone(req.ProtocolType),
		protocols:    cloneProtocols(req.Protocols),
		session:      p.session,
		rebalance:    p.rebalance,
		isNew:        true,
	}
	if g.state == statePreparingRebalance && g.generation == 0 {
		g.newMemberAdded = true
	}
	g.add(m)
	w := c.newWaiter(ctx, g, m, req, false)
	m.joinWait = w
	c.scheduleSession(g, m, newMemberJoinTimeout)
	c.rebalance(g, "member "+id+" joined")
	return w
}

// updateMember parks a known member in JoinGroup with its new offer and
// rebalances. A JoinGroup the member still has parked is answered with
// REBALANCE_IN_PROGRESS: the new one replaces it.
func (c *Coordinator) updateMember(ctx context.Context, g *group, m *member, p joinParams, reason string) *waiter {
	m.protocols = cloneProtocols(p.req.Protocols)
	m.session, m.rebalance = p.session, p.rebalance
	c.replyJoinError(m.joinWait, codeRebalancing, m.id)
	w := c.newWaiter(ctx, g, m, p.req, false)
	m.joinWait = w
	c.rebalance(g, reason)
	return w
}

// replaceStatic gives the member of a static instance id a new member id:
// the old one is fenced (FENCED_INSTANCE_ID to anything it has parked),
// and the group rebalances unless it is stable and nothing that matters to
// the assignment changed.
func (c *Coordinator) replaceStatic(ctx context.Context, g *group, oldID, newID string, p joinParams) *waiter {
	req := p.req
	currentLeader := g.leader
	m := g.byID[oldID]
	c.replyJoinError(m.joinWait, kerr.FencedInstanceID.Code, oldID)
	c.replySyncError(m.syncWait, kerr.FencedInstanceID.Code)

	delete(g.byID, oldID)
	m.id = newID
	g.byID[newID] = m
	g.static[*m.instanceID] = newID
	if g.leader == oldID {
		g.leader = newID
	}
	m.clientID, m.clientHost = p.client.id, p.client.host
	m.session, m.rebalance = p.session, p.rebalance
	c.scheduleSession(g, m, m.session)
	oldProtocols := m.protocols
	m.protocols = cloneProtocols(req.Protocols)
	w := c.newWaiter(ctx, g, m, req, false)
	m.joinWait = w
	c.log.Info("static member rejoined", "group", g.name, "instance", *m.instanceID, "old", oldID, "member", newID)

	if g.state != stateStable {
		// The leader may be assigning to the old member id.
		c.rebalance(g, "static member rejoined during a rebalance")
		return w
	}
	if g.selectProtocol() != g.protocol || !sameSubscription(g.protocolType, oldProtocols, m.protocols, g.protocol) {
		c.rebalance(g, "static member rejoined with a new subscription")
		return w
	}
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	isLeader := g.leader == newID
	skip := isLeader && req.Version >= 9
	g.joinAnswer(resp, newID, skip)
	resp.SkipAssignment = skip
	if !skip {
		// The old leader id: a leader that cannot skip the assignment
		// must not think it leads, as a stable group ignores a new
		// assignment.
		resp.LeaderID = currentLeader
	}
	c.reply(w, resp)
	return w
}

// sameSubscription reports whether a static member's metadata for the
// selected protocol asks for the same thing as before.
func sameSubscription(protocolType string, old, cur []kmsg.JoinGroupRequestProtocol, protocol string) bool {
	a, b := protocolMetadata(old, protocol), protocolMetadata(cur, protocol)
	if protocolType == "consumer" {
		ta, oka := subscriptionOf(a)
		tb, okb := subscriptionOf(b)
		if oka && okb {
			return slices.Equal(ta, tb)
		}
	}
	return bytes.Equal(a, b)
}

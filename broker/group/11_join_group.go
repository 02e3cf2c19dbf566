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

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	g := c.groups[req.Group]
	created := false
	if g == nil {
		if req.MemberID != "" {
			c.mu.Unlock()
			resp.ErrorCode = kerr.UnknownMemberID.Code
			return resp
		}
		g = newGroup(strings.Clone(req.Group))
		c.groups[g.name] = g
		created = true
	}
	var w *waiter
	if req.MemberID == "" {
		w = c.joinNew(ctx, g, p, resp)
	} else {
		w = c.joinKnown(ctx, g, p, resp)
	}
	if created && g.idle() {
		delete(c.groups, g.name)
	}
	if g.state == statePreparingRebalance {
		c.checkJoin(g)
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

// joinNew serves a join without a member id.
func (c *Coordinator) joinNew(ctx context.Context, g *group, p joinParams, resp *kmsg.JoinGroupResponse) *waiter {
	req := p.req
	if !g.acceptsJoin(req.ProtocolType, req.Protocols) {
		resp.ErrorCode = kerr.InconsistentGroupProtocol.Code
		return nil
	}
	prefix := p.client.id
	if req.InstanceID != nil {
		prefix = *req.InstanceID
	}
	id := c.newID(prefix)
	if req.InstanceID != nil {
		if old, ok := g.static[*req.InstanceID]; ok {
			return c.replaceStatic(ctx, g, old, id, p)
		}
		return c.addMember(ctx, g, id, p)
	}
	if req.Version >= 4 {
		g.pending[id] = c.sched.after(c.clk.Now(), p.session, func() {
			if c.live(g) && g.pending[id] != nil {
				c.log.Info("pending member expired", "group", g.name, "member", id)
				delete(g.pending, id)
				c.checkJoin(g)
			}
		})
		resp.MemberID = id
		resp.ErrorCode = kerr.MemberIDRequired.Code
		return nil
	}
	return c.addMember(ctx, g, id, p)
}

// joinKnown serves a join with a member id.
func (c *Coordinator) joinKnown(ctx context.Context, g *group, p joinParams, resp *kmsg.JoinGroupResponse) *waiter {
	req := p.req
	if !g.acceptsJoin(req.ProtocolType, req.Protocols) {
		resp.ErrorCode = kerr.InconsistentGroupProtocol.Code
		return nil
	}
	if t, ok := g.pending[req.MemberID]; ok {
		c.sched.stop(t)
		delete(g.pending, req.MemberID)
		return c.addMember(ctx, g, strings.Clone(req.MemberID), p)
	}
	if code := g.validateMember(req.MemberID, req.InstanceID); code != 0 {
		resp.ErrorCode = code
		return nil
	}
	m := g.byID[req.MemberID]
	switch g.state {
	case statePreparingRebalance:
		return c.updateMember(ctx, g, m, p, "member rejoined during a rebalance")
	case stateCompletingRebalance:
		if m.matches(req.Protocols) {
			// The member probably missed its JoinGroup response:
			// answer again for the current generation.
			g.joinAnswer(resp, m.id, m.id == g.leader)
			return nil
		}
		return c.updateMember(ctx, g, m, p, "member rejoined with new metadata")
	case stateStable:
		if m.id == g.leader {
			// The leader rejoins to rebalance for changes that do
			// not show in its metadata (new partitions, say).
			return c.updateMember(ctx, g, m, p, "leader rejoined")
		}
		if !m.matches(req.Protocols) {
			return c.updateMember(ctx, g, m, p, "member rejoined with new metadata")
		}
		g.joinAnswer(resp, m.id, false)
		return nil
	}
	resp.ErrorCode = kerr.UnknownMemberID.Code
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
	w := c.newWaiter(ctx, g, m, req, false)
	g.add(m, w)
	c.scheduleSession(g, m, newMemberJoinTimeout)
	c.maybePrepareRebalance(g, "member "+id+" joined")
	return w
}

// updateMember parks a known member in JoinGroup with its new protocols
// and rebalances. A JoinGroup of the member still parked is answered with
// REBALANCE_IN_PROGRESS: the new one replaces it.
func (c *Coordinator) updateMember(ctx context.Context, g *group, m *member, p joinParams, reason string) *waiter {
	g.setProtocols(m, cloneProtocols(p.req.Protocols))
	m.session, m.rebalance = p.session, p.rebalance
	c.replyJoinError(m.joinWait, kerr.RebalanceInProgress.Code, m.id)
	w := c.newWaiter(ctx, g, m, p.req, false)
	m.joinWait = w
	c.maybePrepareRebalance(g, reason)
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
	if g.pendingSync[oldID] {
		delete(g.pendingSync, oldID)
		g.pendingSync[newID] = true
	}
	m.clientID, m.clientHost = p.client.id, p.client.host
	m.session, m.rebalance = p.session, p.rebalance
	c.scheduleSession(g, m, m.session)
	oldProtocols := m.protocols
	g.setProtocols(m, cloneProtocols(req.Protocols))
	w := c.newWaiter(ctx, g, m, req, false)
	m.joinWait = w
	c.log.Info("static member rejoined", "group", g.name, "instance", *m.instanceID, "old", oldID, "member", newID)

	switch g.state {
	case stateStable:
		if g.selectProtocol() == g.protocol && sameSubscription(g.protocolType, oldProtocols, m.protocols, g.protocol) {
			resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
			isLeader := g.leader == newID
			skip := isLeader && req.Version >= 9
			g.joinAnswer(resp, newID, skip)
			resp.SkipAssignment = skip
			if !skip {
				// The old leader id: a leader that cannot skip
				// the assignment must not think it leads, as a
				// stable group ignores a new assignment.
				resp.LeaderID = currentLeader
			}
			c.reply(w, resp)
			return w
		}
		c.prepareRebalance(g, "static member rejoined with a new subscription")
	case stateCompletingRebalance:
		// The leader may be assigning to the old member id.
		c.prepareRebalance(g, "static member rejoined during a rebalance")
	}
	return w
}

// sameSubscription reports whether a static member's metadata for the
// selected protocol asks for the same thing as before.
func sameSubscription(protocolType string, old, cur []kmsg.JoinGroupRequestProtocol, protocol string) bool {
	meta := func(ps []kmsg.JoinGroupRequestProtocol) []byte {
		for _, p := range ps {
			if p.Name == protocol {
				return p.Metadata
			}
		}
		return nil
	}
	a, b := meta(old), meta(cur)
	if protocolType == "consumer" {
		ta, oka := subscriptionOf(a)
		tb, okb := subscriptionOf(b)
		if oka && okb {
			return slices.Equal(ta, tb)
		}
	}
	return bytes.Equal(a, b)
}

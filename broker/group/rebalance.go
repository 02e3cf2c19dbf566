package group

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The life of a generation: members park in JoinGroup while the join
// phase is open (openJoin); the phase ends when all are in or at its
// deadline (completeJoin), and the next generation is announced to them
// (announce); each member then owes a SyncGroup, which parks until the
// leader's brings the assignment (adoptAssignment, in 14_sync_group.go),
// by the sync deadline (syncExpired). Session timers run throughout. All
// of it runs with Coordinator.mu held, from request handlers and from the
// scheduler's tasks.

// waiter is a parked JoinGroup or SyncGroup.
type waiter struct {
	sync bool
	g    *group
	m    *member
	req  kmsg.Request
	ch   chan kmsg.Response
	done bool
	tag  any
}

func (c *Coordinator) newWaiter(ctx context.Context, g *group, m *member, req kmsg.Request, sync bool) *waiter {
	w := &waiter{sync: sync, g: g, m: m, req: req, ch: make(chan kmsg.Response, 1)}
	if c.hooks != nil {
		w.tag = c.hooks.tag(ctx)
	}
	return w
}

// detach marks w answered and unhooks it from its member.
func (w *waiter) detach() {
	w.done = true
	slot := &w.m.joinWait
	if w.sync {
		slot = &w.m.syncWait
	}
	if *slot == w {
		*slot = nil
	}
}

// reply answers w (once) and detaches it from its member.
func (c *Coordinator) reply(w *waiter, resp kmsg.Response) {
	if w == nil || w.done {
		return
	}
	w.detach()
	w.ch <- resp
	if c.hooks != nil {
		c.hooks.replied(w.tag)
	}
}

func (c *Coordinator) replyJoinError(w *waiter, code int16, memberID string) {
	if w == nil {
		return
	}
	resp := w.req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.ErrorCode = code
	resp.MemberID = memberID
	c.reply(w, resp)
}

func (c *Coordinator) replySyncError(w *waiter, code int16) {
	if w == nil {
		return
	}
	resp := w.req.ResponseKind().(*kmsg.SyncGroupResponse)
	resp.ErrorCode = code
	c.reply(w, resp)
}

// wait blocks until w is answered or ctx is done. On ctx done the member
// stops waiting: a member no longer in JoinGroup does not count as joined,
// and its session timer runs again.
func (c *Coordinator) wait(ctx context.Context, w *waiter) kmsg.Response {
	select {
	case resp := <-w.ch:
		return resp
	default:
	}
	if c.hooks != nil {
		c.hooks.parked(w.tag)
	}
	select {
	case resp := <-w.ch:
		return resp
	case <-ctx.Done():
	}
	c.mu.Lock()
	if !w.done {
		w.detach()
		if c.live(w.g) && w.g.byID[w.m.id] == w.m && !w.m.isNew {
			c.scheduleSession(w.g, w.m, w.m.session)
		}
		c.mu.Unlock()
		return errorResponse(w.req, codeRebalancing)
	}
	c.mu.Unlock()
	return <-w.ch
}

// live reports whether g is still the group of its name (timers of a
// deleted group do nothing).
func (c *Coordinator) live(g *group) bool { return c.groups[g.name] == g }

// scheduleSession (re)starts m's session timer.
func (c *Coordinator) scheduleSession(g *group, m *member, d time.Duration) {
	c.sched.stop(m.sessionTask)
	m.sessionTask = c.sched.after(c.clk.Now(), d, func() { c.sessionExpired(g, m) })
}

// sessionExpired removes a member whose session timed out. A member parked
// in JoinGroup or SyncGroup is alive (unless it is new and never completed
// a join: the new member timeout); its timer starts over.
func (c *Coordinator) sessionExpired(g *group, m *member) {
	if !c.live(g) || g.byID[m.id] != m {
		return
	}
	if !m.isNew && (m.joinWait != nil || m.syncWait != nil) {
		c.scheduleSession(g, m, m.session)
		return
	}
	c.log.Info("member session expired", "group", g.name, "member", m.id)
	c.removeMember(g, m, "session timeout")
}

// drop takes m out of g: a JoinGroup or SyncGroup it has parked is
// answered UNKNOWN_MEMBER_ID and its session timer stops. What the group
// does next is the caller's business.
func (c *Coordinator) drop(g *group, m *member) {
	c.replyJoinError(m.joinWait, codeNoMember, "")
	c.replySyncError(m.syncWait, codeNoMember)
	c.sched.stop(m.sessionTask)
	g.remove(m)
}

// removeMember drops m (it left, or its session ended) and rebalances.
func (c *Coordinator) removeMember(g *group, m *member, reason string) {
	c.drop(g, m)
	c.rebalance(g, reason)
}

// holdMemberID reserves a member id handed out with MEMBER_ID_REQUIRED
// (KIP-394) until the member joins with it, leaves, or its session timeout
// passes. While held, it keeps a join phase open.
func (c *Coordinator) holdMemberID(g *group, id string, session time.Duration) {
	g.pending[id] = c.sched.after(c.clk.Now(), session, func() {
		if c.live(g) && g.pending[id] != nil {
			c.log.Info("pending member expired", "group", g.name, "member", id)
			c.releaseMemberID(g, id)
		}
	})
}

// releaseMemberID forgets a member id held by holdMemberID.
func (c *Coordinator) releaseMemberID(g *group, id string) {
	c.sched.stop(g.pending[id])
	delete(g.pending, id)
	c.checkJoin(g)
}

// rebalance asks for a new generation: it opens a join phase, or, if one
// is open, ends it now if everyone is in.
func (c *Coordinator) rebalance(g *group, reason string) {
	switch g.state {
	case statePreparingRebalance:
		c.checkJoin(g)
	case stateEmpty, stateCompletingRebalance, stateStable:
		c.openJoin(g, reason)
	}
}

// openJoin starts a join phase (PreparingRebalance). Members waiting in
// SyncGroup are told REBALANCE_IN_PROGRESS, so that they rejoin. The phase
// ends once every member has rejoined, or at its deadline: the longest
// rebalance timeout of the members, or, for a group that was Empty,
// group.initial.rebalance.delay.ms, which gives the first members of a
// group the time to arrive together (see initialJoinExpired).
func (c *Coordinator) openJoin(g *group, reason string) {
	for _, m := range g.members {
		if m.syncWait != nil {
			// Its session timer starts over from this answer, as
			// after any answer to a parked request.
			c.replySyncError(m.syncWait, codeRebalancing)
			c.scheduleSession(g, m, m.session)
		}
	}
	fromEmpty := g.state == stateEmpty
	c.enter(g, statePreparingRebalance)
	c.log.Debug("preparing rebalance", "group", g.name, "generation", g.generation, "reason", reason)
	if fromEmpty {
		delay := c.cfg.InitialRebalanceDelay
		g.initialJoin = true
		g.initialRemaining = max(g.rebalanceTimeout()-delay, 0)
		c.setJoinDeadline(g, delay, c.initialJoinExpired)
		return
	}
	g.initialJoin = false
	c.setJoinDeadline(g, g.rebalanceTimeout(), c.completeJoin)
	c.checkJoin(g)
}

// setJoinDeadline (re)arms the deadline of the open join phase: end runs
// after d, unless the phase ends first (enter stops it).
func (c *Coordinator) setJoinDeadline(g *group, d time.Duration, end func(*group)) {
	c.sched.stop(g.joinTask)
	g.joinTask = c.sched.after(c.clk.Now(), d, func() { end(g) })
}

// initialJoinExpired extends the initial delay while new members keep
// arriving, up to the rebalance timeout, then completes the join.
func (c *Coordinator) initialJoinExpired(g *group) {
	if g.newMemberAdded && g.initialRemaining > 0 {
		g.newMemberAdded = false
		delay := min(c.cfg.InitialRebalanceDelay, g.initialRemaining)
		g.initialRemaining = max(g.initialRemaining-c.cfg.InitialRebalanceDelay, 0)
		c.setJoinDeadline(g, delay, c.initialJoinExpired)
		return
	}
	c.completeJoin(g)
}

// checkJoin completes the join phase early once every member has joined
// (the initial delay always runs to its end).
func (c *Coordinator) checkJoin(g *group) {
	if g.state == statePreparingRebalance && !g.initialJoin && g.allJoined() {
		c.completeJoin(g)
	}
}

// completeJoin ends the join phase. Dynamic members that did not rejoin
// are dropped; static ones stay until their session ends (their process
// may be restarting). If members are left but none of them rejoined, the
// phase waits once more. Otherwise the next generation starts: Empty if
// nobody is left, else CompletingRebalance, announced to the members.
func (c *Coordinator) completeJoin(g *group) {
	g.initialJoin = false
	for _, m := range slices.Clone(g.members) {
		if m.joinWait == nil && m.instanceID == nil {
			c.log.Info("member did not rejoin in time", "group", g.name, "member", m.id)
			c.drop(g, m)
		}
	}
	if len(g.members) > 0 && !g.electJoinedLeader() {
		c.setJoinDeadline(g, g.rebalanceTimeout(), c.completeJoin)
		return
	}
	g.generation++
	if len(g.members) == 0 {
		c.enter(g, stateEmpty)
		c.log.Info("group is empty", "group", g.name, "generation", g.generation)
		c.olog.append(g.metaRecord(c.clk.Now()))
		return
	}
	g.protocol = g.selectProtocol()
	c.enter(g, stateCompletingRebalance)
	g.subscribed = g.subscribedTopics()
	c.olog.append(g.metaRecord(c.clk.Now()))
	c.log.Info("rebalance: join complete", "group", g.name, "generation", g.generation,
		"members", len(g.members), "protocol", g.protocol, "leader", g.leader)
	c.announce(g)
}

// electJoinedLeader keeps the leader if it rejoined, else makes the first
// member that rejoined the leader; false if no member rejoined.
func (g *group) electJoinedLeader() bool {
	if m := g.byID[g.leader]; m != nil && m.joinWait != nil {
		return true
	}
	for _, m := range g.members {
		if m.joinWait != nil {
			g.leader = m.id
			return true
		}
	}
	return false
}

// announce starts the group's new generation: each member that rejoined
// gets its JoinGroup answer (the leader with everyone's metadata), every
// member's session timer starts over, and each member owes a SyncGroup
// within the rebalance timeout (syncExpired).
func (c *Coordinator) announce(g *group) {
	for _, m := range g.members {
		if w := m.joinWait; w != nil {
			resp := w.req.ResponseKind().(*kmsg.JoinGroupResponse)
			g.joinAnswer(resp, m.id, m.id == g.leader)
			c.reply(w, resp)
		}
		m.isNew = false
		c.scheduleSession(g, m, m.session)
	}
	g.syncTask = c.sched.after(c.clk.Now(), g.rebalanceTimeout(), func() { c.syncExpired(g) })
}

// joinAnswer writes into resp what the end of a join phase tells one
// member, after the JoinGroup response schema: the generation, the protocol
// type and the chosen protocol, the leader, the member's own id and, in the
// leader's view only, every member with its metadata for the chosen
// protocol (from which the leader computes the assignment it sends with
// SyncGroup).
func (g *group) joinAnswer(resp *kmsg.JoinGroupResponse, to string, leaderView bool) {
	protocolType, protocol := g.protocolType, g.protocol
	resp.MemberID, resp.LeaderID, resp.Generation = to, g.leader, g.generation
	resp.ProtocolType, resp.Protocol = &protocolType, &protocol
	if !leaderView {
		return
	}
	resp.Members = make([]kmsg.JoinGroupResponseMember, len(g.members))
	for i, m := range g.members {
		resp.Members[i] = kmsg.NewJoinGroupResponseMember()
		entry := &resp.Members[i]
		entry.MemberID, entry.InstanceID, entry.ProtocolMetadata = m.id, m.instanceID, m.metadata(protocol)
	}
}

// syncExpired runs at the sync deadline of a generation (it is stopped
// when the group leaves the generation): the members that have not sent
// SyncGroup in it are dropped, and the group rebalances.
func (c *Coordinator) syncExpired(g *group) {
	g.syncTask = nil
	late := slices.DeleteFunc(slices.Clone(g.members), func(m *member) bool { return m.syncedGen == g.generation })
	if len(late) == 0 {
		return
	}
	for _, m := range late {
		c.log.Info("member did not sync in time", "group", g.name, "member", m.id)
		c.drop(g, m)
	}
	c.rebalance(g, "members did not sync in time")
}

package group

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupState is a classic group's state, named as Kafka names it.
type groupState int8

const (
	stateEmpty groupState = iota
	statePreparingRebalance
	stateCompletingRebalance
	stateStable
	stateDead
)

func (s groupState) String() string {
	switch s {
	case stateEmpty:
		return "Empty"
	case statePreparingRebalance:
		return "PreparingRebalance"
	case stateCompletingRebalance:
		return "CompletingRebalance"
	case stateStable:
		return "Stable"
	}
	return "Dead"
}

// newMemberJoinTimeout is how long a new member may wait in its first
// JoinGroup before it is dropped (Kafka's NewMemberJoinTimeoutMs): its
// session timer cannot run before it knows its member id.
const newMemberJoinTimeout = 5 * time.Minute

type topicPartition struct {
	topic     string
	partition int32
}

// offset is a committed offset.
type offset struct {
	offset      int64
	leaderEpoch int32
	metadata    string
	commitTime  int64 // Unix ms
	expireTime  int64 // Unix ms; -1: none (OffsetCommit v2-v4 set it)
}

type member struct {
	id           string
	instanceID   *string
	clientID     string
	clientHost   string
	protocolType string
	protocols    []kmsg.JoinGroupRequestProtocol
	session      time.Duration
	rebalance    time.Duration
	assignment   []byte
	// isNew is true from the member's first JoinGroup until that join
	// completes.
	isNew bool

	joinWait    *waiter // parked JoinGroup
	syncWait    *waiter // parked SyncGroup
	sessionTask *task
}

func (m *member) matches(protocols []kmsg.JoinGroupRequestProtocol) bool {
	return slices.EqualFunc(m.protocols, protocols, func(a, b kmsg.JoinGroupRequestProtocol) bool {
		return a.Name == b.Name && bytes.Equal(a.Metadata, b.Metadata)
	})
}

func (m *member) metadata(protocol string) []byte {
	for _, p := range m.protocols {
		if p.Name == protocol {
			return p.Metadata
		}
	}
	return nil
}

// group is one group: its membership state machine and its committed
// offsets. Every field is guarded by Coordinator.mu.
type group struct {
	name  string
	state groupState
	// emptySince is when the group last became Empty (offsets retention
	// counts from it).
	emptySince   time.Time
	protocolType string
	protocol     string
	generation   int32
	leader       string

	members   []*member // in join order
	byID      map[string]*member
	static    map[string]string // instance id -> member id
	pending   map[string]*task  // member ids handed out with MEMBER_ID_REQUIRED
	protocols map[string]int    // how many members support each protocol

	pendingSync map[string]bool // members yet to SyncGroup this generation
	syncTask    *task

	joinTask *task
	// initialJoin is true while joinTask is group.initial.rebalance.delay.ms.
	initialJoin      bool
	initialRemaining time.Duration
	newMemberAdded   bool

	// subscribed is the union of the members' subscribed topics for a
	// "consumer" group, nil when unknown.
	subscribed map[string]bool

	offsets map[topicPartition]*offset
	// pendingCommits counts commits written but not yet applied, per
	// partition; retention leaves those partitions alone.
	pendingCommits map[topicPartition]int
}

func newGroup(name string) *group {
	return &group{
		name:           name,
		byID:           make(map[string]*member),
		static:         make(map[string]string),
		pending:        make(map[string]*task),
		protocols:      make(map[string]int),
		pendingSync:    make(map[string]bool),
		offsets:        make(map[topicPartition]*offset),
		pendingCommits: make(map[topicPartition]int),
	}
}

// idle reports whether nothing but its name would be lost by dropping g.
func (g *group) idle() bool {
	return g.state == stateEmpty && len(g.members) == 0 && len(g.pending) == 0 &&
		len(g.offsets) == 0 && len(g.pendingCommits) == 0
}

func (g *group) sortedOffsets() []topicPartition {
	tps := make([]topicPartition, 0, len(g.offsets))
	for tp := range g.offsets {
		tps = append(tps, tp)
	}
	slices.SortFunc(tps, func(a, b topicPartition) int {
		return cmp.Or(cmp.Compare(a.topic, b.topic), cmp.Compare(a.partition, b.partition))
	})
	return tps
}

func (g *group) metaRecord(now time.Time) record {
	r := record{
		kind: kindGroupMeta, group: g.name, protocolType: g.protocolType,
		protocol: g.protocol, generation: g.generation,
		empty: g.state == stateEmpty, time: now.UnixMilli(),
	}
	if r.empty && !g.emptySince.IsZero() {
		r.time = g.emptySince.UnixMilli()
	}
	return r
}

// rebalanceTimeout is the longest rebalance timeout of the members.
func (g *group) rebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalance)
	}
	return d
}

// allJoined reports whether every member waits in JoinGroup and no member
// id handed out with MEMBER_ID_REQUIRED is outstanding.
func (g *group) allJoined() bool {
	for _, m := range g.members {
		if m.joinWait == nil {
			return false
		}
	}
	return len(g.pending) == 0
}

// acceptsJoin reports whether a member offering protocols of protocolType
// may be in the group, or gets INCONSISTENT_GROUP_PROTOCOL. The JoinGroup
// schema's rule: the first member must name a protocol type and offer at
// least one protocol; after it, the type must be the group's and at least
// one offered protocol must be one that every member offers.
func (g *group) acceptsJoin(protocolType string, offered []kmsg.JoinGroupRequestProtocol) bool {
	if len(g.members) == 0 {
		return protocolType != "" && len(offered) > 0
	}
	everyone := func(p kmsg.JoinGroupRequestProtocol) bool { return g.protocols[p.Name] == len(g.members) }
	return protocolType == g.protocolType && slices.ContainsFunc(offered, everyone)
}

// selectProtocol picks, among the protocols every member supports, the one
// most members list first (ties go to the one voted for first, in join
// order).
func (g *group) selectProtocol() string {
	votes := make(map[string]int)
	var order []string
	for _, m := range g.members {
		for _, p := range m.protocols {
			if g.protocols[p.Name] == len(g.members) {
				if votes[p.Name] == 0 {
					order = append(order, p.Name)
				}
				votes[p.Name]++
				break
			}
		}
	}
	best := ""
	for _, name := range order {
		if best == "" || votes[name] > votes[best] {
			best = name
		}
	}
	return best
}

// subscribedTopics decodes the consumer protocol metadata of every member
// for the selected protocol; nil if the group is not a "consumer" group or
// some metadata does not decode.
func (g *group) subscribedTopics() map[string]bool {
	if g.protocolType != "consumer" || len(g.members) == 0 {
		if len(g.members) == 0 {
			return map[string]bool{}
		}
		return nil
	}
	topics := make(map[string]bool)
	for _, m := range g.members {
		var md kmsg.ConsumerMemberMetadata
		if err := md.ReadFrom(m.metadata(g.protocol)); err != nil {
			return nil
		}
		for _, t := range md.Topics {
			topics[t] = true
		}
	}
	return topics
}

// subscriptionOf decodes consumer protocol metadata to its sorted topic
// list; ok is false if it does not decode.
func subscriptionOf(meta []byte) (topics []string, ok bool) {
	var md kmsg.ConsumerMemberMetadata
	if err := md.ReadFrom(meta); err != nil {
		return nil, false
	}
	topics = slices.Clone(md.Topics)
	slices.Sort(topics)
	return topics, true
}

// add makes m a member, waiting in join on w (may be nil).
func (g *group) add(m *member, w *waiter) {
	if len(g.members) == 0 {
		g.protocolType = m.protocolType
	}
	if g.leader == "" {
		g.leader = m.id
	}
	g.members = append(g.members, m)
	g.byID[m.id] = m
	for _, p := range m.protocols {
		g.protocols[p.Name]++
	}
	if m.instanceID != nil {
		g.static[*m.instanceID] = m.id
	}
	m.joinWait = w
}

// remove drops member id from the group's books (not its timers or
// waiters; see Coordinator.removeMember).
func (g *group) remove(id string) {
	m := g.byID[id]
	if m == nil {
		return
	}
	for _, p := range m.protocols {
		g.protocols[p.Name]--
		if g.protocols[p.Name] == 0 {
			delete(g.protocols, p.Name)
		}
	}
	delete(g.byID, id)
	g.members = slices.DeleteFunc(g.members, func(x *member) bool { return x == m })
	if m.instanceID != nil && g.static[*m.instanceID] == id {
		delete(g.static, *m.instanceID)
	}
	if g.leader == id {
		g.leader = ""
		if len(g.members) > 0 {
			g.leader = g.members[0].id
		}
	}
	delete(g.pendingSync, id)
}

// setProtocols replaces m's protocols, keeping the group's counts right.
func (g *group) setProtocols(m *member, protocols []kmsg.JoinGroupRequestProtocol) {
	for _, p := range m.protocols {
		g.protocols[p.Name]--
		if g.protocols[p.Name] == 0 {
			delete(g.protocols, p.Name)
		}
	}
	m.protocols = protocols
	for _, p := range m.protocols {
		g.protocols[p.Name]++
	}
}

// validateMember is Kafka's member check for heartbeat, sync, leave and
// commit: a static member must be the current holder of its instance id,
// and the member must exist.
func (g *group) validateMember(memberID string, instanceID *string) int16 {
	if instanceID != nil {
		known, ok := g.static[*instanceID]
		if !ok {
			return kerr.UnknownMemberID.Code
		}
		if known != memberID {
			return kerr.FencedInstanceID.Code
		}
	}
	if g.byID[memberID] == nil {
		return kerr.UnknownMemberID.Code
	}
	return 0
}

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

// reply answers w (once) and detaches it from its member.
func (c *Coordinator) reply(w *waiter, resp kmsg.Response) {
	if w == nil || w.done {
		return
	}
	w.done = true
	if w.sync {
		if w.m.syncWait == w {
			w.m.syncWait = nil
		}
	} else if w.m.joinWait == w {
		w.m.joinWait = nil
	}
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
		w.done = true
		if w.sync {
			if w.m.syncWait == w {
				w.m.syncWait = nil
			}
		} else if w.m.joinWait == w {
			w.m.joinWait = nil
		}
		if cur := c.groups[w.g.name]; cur == w.g && w.g.byID[w.m.id] == w.m && !w.m.isNew {
			c.scheduleSession(w.g, w.m, w.m.session)
		}
		c.mu.Unlock()
		return errorResponse(w.req, kerr.RebalanceInProgress.Code)
	}
	c.mu.Unlock()
	return <-w.ch
}

// live reports whether g is still the group of its name (timers of a
// deleted group do nothing).
func (c *Coordinator) live(g *group) bool { return c.groups[g.name] == g }

// scheduleSession (re)starts m's session timer: Kafka's
// completeAndScheduleNextHeartbeatExpiration.
func (c *Coordinator) scheduleSession(g *group, m *member, d time.Duration) {
	c.sched.stop(m.sessionTask)
	m.sessionTask = c.sched.after(c.clk.Now(), d, func() { c.sessionExpired(g, m) })
}

// sessionExpired removes a member whose session timed out. A member parked
// in JoinGroup or SyncGroup is alive (unless it is new and never completed
// a join, Kafka's new member timeout); its timer starts over.
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

// removeMember drops m and moves the group on: Kafka's
// removeMemberAndUpdateGroup. A parked JoinGroup or SyncGroup of m is
// answered with UNKNOWN_MEMBER_ID.
func (c *Coordinator) removeMember(g *group, m *member, reason string) {
	c.replyJoinError(m.joinWait, kerr.UnknownMemberID.Code, "")
	c.replySyncError(m.syncWait, kerr.UnknownMemberID.Code)
	c.sched.stop(m.sessionTask)
	g.remove(m.id)
	switch g.state {
	case stateStable, stateCompletingRebalance:
		c.prepareRebalance(g, reason)
	case statePreparingRebalance:
		c.checkJoin(g)
	}
}

// removePending forgets a member id handed out with MEMBER_ID_REQUIRED.
func (c *Coordinator) removePending(g *group, id string) {
	c.sched.stop(g.pending[id])
	delete(g.pending, id)
	c.checkJoin(g)
}

// maybePrepareRebalance starts a rebalance unless one is under way.
func (c *Coordinator) maybePrepareRebalance(g *group, reason string) {
	switch g.state {
	case stateStable, stateCompletingRebalance, stateEmpty:
		c.prepareRebalance(g, reason)
	}
}

// prepareRebalance moves g to PreparingRebalance: members parked in
// SyncGroup are told REBALANCE_IN_PROGRESS, and the join deadline starts,
// group.initial.rebalance.delay.ms for an empty group, else the longest
// rebalance timeout.
func (c *Coordinator) prepareRebalance(g *group, reason string) {
	if g.state == stateCompletingRebalance {
		for _, m := range g.members {
			m.assignment = nil
			if m.syncWait != nil {
				// Its session timer starts over from this answer,
				// as after any answer to a parked request.
				c.replySyncError(m.syncWait, kerr.RebalanceInProgress.Code)
				c.scheduleSession(g, m, m.session)
			}
		}
	}
	c.sched.stop(g.syncTask)
	g.syncTask = nil
	clear(g.pendingSync)
	c.sched.stop(g.joinTask)
	wasEmpty := g.state == stateEmpty
	g.state = statePreparingRebalance
	c.log.Debug("preparing rebalance", "group", g.name, "generation", g.generation, "reason", reason)
	if wasEmpty {
		delay := c.cfg.InitialRebalanceDelay
		g.initialJoin = true
		g.initialRemaining = max(g.rebalanceTimeout()-delay, 0)
		g.joinTask = c.sched.after(c.clk.Now(), delay, func() { c.initialJoinExpired(g) })
		return
	}
	g.initialJoin = false
	gen := g.generation
	g.joinTask = c.sched.after(c.clk.Now(), g.rebalanceTimeout(), func() {
		if c.live(g) && g.generation == gen && g.state == statePreparingRebalance {
			c.completeJoin(g)
		}
	})
	c.checkJoin(g)
}

// initialJoinExpired extends the initial delay while new members keep
// arriving, up to the rebalance timeout, then completes the join.
func (c *Coordinator) initialJoinExpired(g *group) {
	if !c.live(g) || g.state != statePreparingRebalance || !g.initialJoin {
		return
	}
	if g.newMemberAdded && g.initialRemaining > 0 {
		g.newMemberAdded = false
		delay := min(c.cfg.InitialRebalanceDelay, g.initialRemaining)
		g.initialRemaining = max(g.initialRemaining-c.cfg.InitialRebalanceDelay, 0)
		g.joinTask = c.sched.after(c.clk.Now(), delay, func() { c.initialJoinExpired(g) })
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

// completeJoin ends the join phase: dynamic members that did not rejoin
// are removed, the next generation starts and every parked JoinGroup is
// answered (the leader with the members' metadata).
func (c *Coordinator) completeJoin(g *group) {
	c.sched.stop(g.joinTask)
	g.joinTask = nil
	g.initialJoin = false
	for _, m := range slices.Clone(g.members) {
		if m.joinWait == nil && m.instanceID == nil {
			c.log.Info("member did not rejoin in time", "group", g.name, "member", m.id)
			c.sched.stop(m.sessionTask)
			g.remove(m.id)
		}
	}
	if len(g.members) > 0 && !c.electJoinedLeader(g) {
		// Only static members that have not rejoined are left: wait
		// for them (or for their sessions to end) once more.
		gen := g.generation
		g.joinTask = c.sched.after(c.clk.Now(), g.rebalanceTimeout(), func() {
			if c.live(g) && g.generation == gen && g.state == statePreparingRebalance {
				c.completeJoin(g)
			}
		})
		return
	}
	g.generation++
	clear(g.pendingSync)
	if len(g.members) == 0 {
		g.protocol = ""
		g.state = stateEmpty
		g.emptySince = c.clk.Now()
		g.subscribed = map[string]bool{}
		c.log.Info("group is empty", "group", g.name, "generation", g.generation)
		c.olog.append(g.metaRecord(c.clk.Now()))
		return
	}
	g.protocol = g.selectProtocol()
	g.state = stateCompletingRebalance
	g.subscribed = g.subscribedTopics()
	c.olog.append(g.metaRecord(c.clk.Now()))
	c.log.Info("rebalance: join complete", "group", g.name, "generation", g.generation,
		"members", len(g.members), "protocol", g.protocol, "leader", g.leader)
	for _, m := range g.members {
		if w := m.joinWait; w != nil {
			resp := w.req.ResponseKind().(*kmsg.JoinGroupResponse)
			g.joinAnswer(resp, m.id, m.id == g.leader)
			c.reply(w, resp)
		}
		c.scheduleSession(g, m, m.session)
		m.isNew = false
		g.pendingSync[m.id] = true
	}
	gen := g.generation
	g.syncTask = c.sched.after(c.clk.Now(), g.rebalanceTimeout(), func() { c.syncExpired(g, gen) })
}

// electJoinedLeader keeps the leader if it rejoined, else makes any
// rejoined member the leader; false if no member rejoined.
func (c *Coordinator) electJoinedLeader(g *group) bool {
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

// syncExpired removes the members that did not send SyncGroup within the
// rebalance timeout after the join, and rebalances.
func (c *Coordinator) syncExpired(g *group, gen int32) {
	if !c.live(g) || g.generation != gen || len(g.pendingSync) == 0 {
		return
	}
	if g.state != stateCompletingRebalance && g.state != stateStable {
		return
	}
	for _, m := range slices.Clone(g.members) {
		if g.pendingSync[m.id] {
			c.log.Info("member did not sync in time", "group", g.name, "member", m.id)
			c.replyJoinError(m.joinWait, kerr.UnknownMemberID.Code, "")
			c.sched.stop(m.sessionTask)
			g.remove(m.id)
		}
	}
	c.prepareRebalance(g, "members did not sync in time")
}

// apply applies one record of the offsets log to the in-memory state: on
// load (replaying the file) and after the writer has made it durable.
// Called with mu held (or before the coordinator is shared).
func (c *Coordinator) apply(r *record, loading bool) {
	switch r.kind {
	case kindCommit:
		g := c.groups[r.group]
		if g == nil {
			g = newGroup(r.group)
			c.groups[r.group] = g
		}
		tp := topicPartition{r.topic, r.partition}
		g.offsets[tp] = &offset{
			offset: r.offset, leaderEpoch: r.leaderEpoch, metadata: r.metadata,
			commitTime: r.commitTime, expireTime: r.expireTime,
		}
		if !loading {
			c.unpend(r)
		}
	case kindDeleteOffset:
		if g := c.groups[r.group]; g != nil {
			delete(g.offsets, topicPartition{r.topic, r.partition})
			c.dropIfIdle(g, loading)
		}
	case kindDeleteGroup:
		if g := c.groups[r.group]; g != nil {
			clear(g.offsets)
			if loading {
				delete(c.groups, r.group)
			} else {
				c.dropIfIdle(g, loading)
			}
		}
	case kindDeleteTopic:
		for _, g := range c.groups {
			for tp := range g.offsets {
				if tp.topic == r.topic {
					delete(g.offsets, tp)
				}
			}
			c.dropIfIdle(g, loading)
		}
	case kindGroupMeta:
		if !loading {
			return
		}
		g := c.groups[r.group]
		if g == nil {
			g = newGroup(r.group)
			c.groups[r.group] = g
		}
		g.protocolType = r.protocolType
		g.generation = r.generation
		g.subscribed = map[string]bool{}
		g.emptySince = time.Time{}
		if r.empty {
			g.emptySince = time.UnixMilli(r.time)
		}
	}
}

// dropIfIdle forgets a group that is empty and has no offsets left, as
// Kafka does after deleting offsets.
func (c *Coordinator) dropIfIdle(g *group, loading bool) {
	if loading || !g.idle() || c.groups[g.name] != g {
		return
	}
	g.state = stateDead
	delete(c.groups, g.name)
}

// unpend undoes the pending count of a commit record once it is applied
// (or failed to be written).
func (c *Coordinator) unpend(r *record) {
	if r.kind != kindCommit {
		return
	}
	g := c.groups[r.group]
	if g == nil {
		return
	}
	tp := topicPartition{r.topic, r.partition}
	if n := g.pendingCommits[tp]; n > 1 {
		g.pendingCommits[tp] = n - 1
	} else {
		delete(g.pendingCommits, tp)
	}
}

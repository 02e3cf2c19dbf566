package group

import (
	"bytes"
	"cmp"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupState is where a classic group stands in its cycle of generations.
// What each state means is one row of the table states, below.
type groupState int8

const (
	stateEmpty groupState = iota
	statePreparingRebalance
	stateCompletingRebalance
	stateStable
	stateDead
)

// syncRule is what a SyncGroup gets in a state.
type syncRule int8

const (
	// syncRefused: the row's syncErr, at once.
	syncRefused syncRule = iota
	// syncWaits: it parks until the leader's SyncGroup brings the
	// generation's assignment (the leader's own included).
	syncWaits
	// syncServed: the member's assignment of this generation, at once.
	syncServed
)

// rejoinRule is what a JoinGroup of a member already in the group does.
type rejoinRule int8

const (
	// rejoinRefused: there are no members, so no such member.
	rejoinRefused rejoinRule = iota
	// rejoinTakesPart: the join phase is open; the member parks in it.
	rejoinTakesPart
	// rejoinIfChanged: a member offering other protocols or metadata
	// than it did starts a rebalance; one offering the same gets its
	// answer for the current generation again (it probably lost it).
	rejoinIfChanged
	// rejoinLeaderAlways: as rejoinIfChanged, except that the leader's
	// JoinGroup always starts a rebalance. A client asks for a new
	// assignment that way when something no member's metadata shows has
	// changed (partitions added to a subscribed topic, say).
	rejoinLeaderAlways
)

// stateRow is one state of the classic group protocol: its name on the
// wire, the states it may be entered from, and how it answers a member in
// good standing, one whose member id, instance id and generation are all
// current (see group.standing for the errors of the others).
type stateRow struct {
	name string
	from []groupState
	// members: the state has members; a heartbeat, a SyncGroup or an
	// accepted commit restarts the member's session timer.
	members   bool
	heartbeat int16 // the Heartbeat's error code
	sync      syncRule
	syncErr   int16 // the SyncGroup's error code under syncRefused
	commit    int16 // the OffsetCommit's error code
	rejoin    rejoinRule
}

var (
	codeNoMember    = kerr.UnknownMemberID.Code
	codeRebalancing = kerr.RebalanceInProgress.Code
)

// states is the classic group state machine, from the JoinGroup, SyncGroup,
// Heartbeat and OffsetCommit schemas and the error codes they document.
// Empty and Dead have no members, so a member request never reaches their
// answers (the member is unknown first); they are listed for completeness.
var states = [...]stateRow{
	stateEmpty: {
		name: "Empty", from: []groupState{statePreparingRebalance},
		heartbeat: codeNoMember, sync: syncRefused, syncErr: codeNoMember, rejoin: rejoinRefused,
	},
	statePreparingRebalance: {
		name: "PreparingRebalance", from: []groupState{stateEmpty, stateCompletingRebalance, stateStable},
		members: true, heartbeat: codeRebalancing, sync: syncRefused, syncErr: codeRebalancing, rejoin: rejoinTakesPart,
	},
	stateCompletingRebalance: {
		name: "CompletingRebalance", from: []groupState{statePreparingRebalance},
		members: true, sync: syncWaits, commit: codeRebalancing, rejoin: rejoinIfChanged,
	},
	stateStable: {
		name: "Stable", from: []groupState{stateCompletingRebalance},
		members: true, sync: syncServed, rejoin: rejoinLeaderAlways,
	},
	stateDead: {
		name: "Dead", from: []groupState{stateEmpty},
		heartbeat: codeNoMember, sync: syncRefused, syncErr: codeNoMember, rejoin: rejoinRefused,
	},
}

func (s groupState) String() string { return states[s].name }

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

// member is one member of a group, from its JoinGroup until it leaves,
// is fenced, or its session or a deadline ends.
type member struct {
	id           string
	instanceID   *string
	clientID     string
	clientHost   string
	protocolType string
	// protocols is the member's offer, in its order of preference.
	protocols []kmsg.JoinGroupRequestProtocol
	session   time.Duration
	rebalance time.Duration
	// assignment is what the leader gave the member for the generation
	// the group is Stable in; empty, not nil, if the leader left it out.
	assignment []byte
	// syncedGen is the last generation in which the member sent
	// SyncGroup: one behind the group's still owes it.
	syncedGen int32
	// isNew is true from the member's first JoinGroup until a join
	// phase completes with it.
	isNew bool

	joinWait    *waiter // parked JoinGroup
	syncWait    *waiter // parked SyncGroup
	sessionTask *task
}

// offers reports whether m lists the protocol called name.
func (m *member) offers(name string) bool {
	return slices.ContainsFunc(m.protocols, func(p kmsg.JoinGroupRequestProtocol) bool { return p.Name == name })
}

// offersSame reports whether protocols is m's offer unchanged: the same
// names with the same metadata, in the same order.
func (m *member) offersSame(protocols []kmsg.JoinGroupRequestProtocol) bool {
	return slices.EqualFunc(m.protocols, protocols, func(a, b kmsg.JoinGroupRequestProtocol) bool {
		return a.Name == b.Name && bytes.Equal(a.Metadata, b.Metadata)
	})
}

func (m *member) metadata(protocol string) []byte { return protocolMetadata(m.protocols, protocol) }

// protocolMetadata is the metadata an offer gives for one protocol.
func protocolMetadata(offer []kmsg.JoinGroupRequestProtocol, protocol string) []byte {
	if i := slices.IndexFunc(offer, func(p kmsg.JoinGroupRequestProtocol) bool { return p.Name == protocol }); i >= 0 {
		return offer[i].Metadata
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

	members []*member // in join order
	byID    map[string]*member
	static  map[string]string // instance id -> member id
	pending map[string]*task  // member ids handed out with MEMBER_ID_REQUIRED

	// joinTask is the deadline of the join phase: it exists only while
	// the group is PreparingRebalance. syncTask is the deadline for the
	// members' SyncGroups: it exists from the start of a generation until
	// the group leaves it (CompletingRebalance and the Stable after).
	joinTask *task
	syncTask *task
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
	// txnOffsets are the offsets committed in open transactions, by
	// producer id (TxnOffsetCommit): invisible until the producer's
	// transaction commits, dropped if it aborts.
	txnOffsets map[int64]map[topicPartition]*offset
}

func newGroup(name string) *group {
	return &group{
		name:           name,
		byID:           make(map[string]*member),
		static:         make(map[string]string),
		pending:        make(map[string]*task),
		offsets:        make(map[topicPartition]*offset),
		pendingCommits: make(map[topicPartition]int),
		txnOffsets:     make(map[int64]map[topicPartition]*offset),
	}
}

// idle reports whether nothing but its name would be lost by dropping g.
func (g *group) idle() bool {
	return g.state == stateEmpty && len(g.members) == 0 && len(g.pending) == 0 &&
		len(g.offsets) == 0 && len(g.pendingCommits) == 0 && len(g.txnOffsets) == 0
}

// unstable reports whether an open transaction has committed an offset
// of tp (OffsetFetch's RequireStable).
func (g *group) unstable(tp topicPartition) bool {
	for _, offs := range g.txnOffsets {
		if _, ok := offs[tp]; ok {
			return true
		}
	}
	return false
}

func compareTopicPartition(a, b topicPartition) int {
	return cmp.Or(cmp.Compare(a.topic, b.topic), cmp.Compare(a.partition, b.partition))
}

func (g *group) sortedOffsets() []topicPartition {
	tps := make([]topicPartition, 0, len(g.offsets))
	for tp := range g.offsets {
		tps = append(tps, tp)
	}
	slices.SortFunc(tps, compareTopicPartition)
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

// sharedProtocols returns the names of the protocols that every member
// offers. Every join is checked against it (acceptsJoin), so it is never
// empty while the group has members.
func (g *group) sharedProtocols() map[string]bool {
	shared := make(map[string]bool)
	if len(g.members) == 0 {
		return shared
	}
	for _, p := range g.members[0].protocols {
		shared[p.Name] = true
	}
	for _, m := range g.members[1:] {
		for name := range shared {
			if !m.offers(name) {
				delete(shared, name)
			}
		}
	}
	return shared
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
	shared := g.sharedProtocols()
	return protocolType == g.protocolType &&
		slices.ContainsFunc(offered, func(p kmsg.JoinGroupRequestProtocol) bool { return shared[p.Name] })
}

// selectProtocol chooses the protocol of the next generation by a vote:
// each member votes for the first protocol of its own offer that every
// member offers, and the one with the most votes wins; of protocols with
// as many votes, the one whose first vote came earliest in join order.
func (g *group) selectProtocol() string {
	shared := g.sharedProtocols()
	type ballot struct {
		protocol string
		votes    int
	}
	var ballots []ballot // in order of first vote
	for _, m := range g.members {
		i := slices.IndexFunc(m.protocols, func(p kmsg.JoinGroupRequestProtocol) bool { return shared[p.Name] })
		if i < 0 {
			continue
		}
		choice := m.protocols[i].Name
		j := slices.IndexFunc(ballots, func(b ballot) bool { return b.protocol == choice })
		if j < 0 {
			j = len(ballots)
			ballots = append(ballots, ballot{protocol: choice})
		}
		ballots[j].votes++
	}
	if len(ballots) == 0 {
		return ""
	}
	// MaxFunc returns the first of equal maxima: the earliest first vote.
	return slices.MaxFunc(ballots, func(a, b ballot) int { return cmp.Compare(a.votes, b.votes) }).protocol
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

// add makes m a member, last in join order. The first member sets the
// group's protocol type, and a group without a leader gets m as leader
// until a join phase elects one.
func (g *group) add(m *member) {
	if len(g.members) == 0 {
		g.protocolType = m.protocolType
	}
	if g.leader == "" {
		g.leader = m.id
	}
	g.members = append(g.members, m)
	g.byID[m.id] = m
	if m.instanceID != nil {
		g.static[*m.instanceID] = m.id
	}
}

// remove takes m off the group's books (not its timers or waiters; see
// Coordinator.drop). A leader that leaves hands over to the first member.
func (g *group) remove(m *member) {
	delete(g.byID, m.id)
	g.members = slices.DeleteFunc(g.members, func(x *member) bool { return x == m })
	if m.instanceID != nil && g.static[*m.instanceID] == m.id {
		delete(g.static, *m.instanceID)
	}
	if g.leader == m.id {
		g.leader = ""
		if len(g.members) > 0 {
			g.leader = g.members[0].id
		}
	}
}

// identify finds the member a request speaks for. A request that names an
// instance id (a static member, KIP-345) must come from the member id
// holding it now: an instance id nobody holds is UNKNOWN_MEMBER_ID, one
// held by another member id is FENCED_INSTANCE_ID (a newer process of that
// instance took its place). Then the member id must be in the group.
func (g *group) identify(memberID string, instanceID *string) (*member, int16) {
	if instanceID != nil {
		switch holder, held := g.static[*instanceID]; {
		case !held:
			return nil, codeNoMember
		case holder != memberID:
			return nil, kerr.FencedInstanceID.Code
		}
	}
	if m := g.byID[memberID]; m != nil {
		return m, 0
	}
	return nil, codeNoMember
}

// standing is identify for a request sent within a generation (Heartbeat,
// SyncGroup, a member's OffsetCommit): the member must also be at the
// group's generation, else ILLEGAL_GENERATION.
func (g *group) standing(memberID string, instanceID *string, generation int32) (*member, int16) {
	m, code := g.identify(memberID, instanceID)
	if code == 0 && generation != g.generation {
		return nil, kerr.IllegalGeneration.Code
	}
	return m, code
}

// memberOf finds the group and member of a request sent within a
// generation; a group this coordinator does not hold has no such member.
// Called with mu held.
func (c *Coordinator) memberOf(name, memberID string, instanceID *string, generation int32) (*group, *member, int16) {
	g := c.groups[name]
	if g == nil {
		return nil, nil, codeNoMember
	}
	m, code := g.standing(memberID, instanceID, generation)
	return g, m, code
}

// groupNames returns the names of the groups, sorted. Called with mu held.
func (c *Coordinator) groupNames() []string {
	names := make([]string, 0, len(c.groups))
	for name := range c.groups {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// lockOpen takes mu, unless the coordinator is closed: then it answers
// COORDINATOR_NOT_AVAILABLE and mu is not held.
func (c *Coordinator) lockOpen() int16 {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return kerr.CoordinatorNotAvailable.Code
	}
	return 0
}

// admit is lockOpen for a request that names its group, which must not be
// empty (INVALID_GROUP_ID).
func (c *Coordinator) admit(group string) int16 {
	if group == "" {
		return kerr.InvalidGroupID.Code
	}
	return c.lockOpen()
}

// enter moves g to state next. The table says from which states each
// state is entered; a move it does not list is a bug, logged at ERROR (and
// made anyway). The deadlines belong to stretches of states: the join
// deadline to PreparingRebalance, the sync deadline to one generation; a
// move out of its stretch stops it. Entering Empty forgets the protocol
// and starts the offsets retention clock.
func (c *Coordinator) enter(g *group, next groupState) {
	if !slices.Contains(states[next].from, g.state) {
		c.log.Error("group state machine: a move the table does not allow", "group", g.name, "from", g.state, "to", next)
	}
	if next != statePreparingRebalance {
		c.sched.stop(g.joinTask)
		g.joinTask = nil
	}
	if next != stateStable {
		c.sched.stop(g.syncTask)
		g.syncTask = nil
	}
	g.state = next
	if next == stateEmpty {
		g.protocol = ""
		g.emptySince = c.clk.Now()
		g.subscribed = map[string]bool{}
	}
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
	case kindTxnCommit:
		g := c.groups[r.group]
		if g == nil {
			g = newGroup(r.group)
			c.groups[r.group] = g
		}
		offs := g.txnOffsets[r.producerID]
		if offs == nil {
			offs = map[topicPartition]*offset{}
			g.txnOffsets[r.producerID] = offs
		}
		offs[topicPartition{r.topic, r.partition}] = &offset{
			offset: r.offset, leaderEpoch: r.leaderEpoch, metadata: r.metadata,
			commitTime: r.commitTime, expireTime: r.expireTime,
		}
		if !loading {
			c.unpend(r)
		}
	case kindTxnEnd:
		g := c.groups[r.group]
		if g == nil {
			return
		}
		offs := g.txnOffsets[r.producerID]
		delete(g.txnOffsets, r.producerID)
		if r.commit {
			r.applied = r.applied[:0]
			for tp, o := range offs {
				g.offsets[tp] = o
				r.applied = append(r.applied, tp)
			}
		}
		c.dropIfIdle(g, loading)
	case kindDeleteOffset:
		if g := c.groups[r.group]; g != nil {
			delete(g.offsets, topicPartition{r.topic, r.partition})
			c.dropIfIdle(g, loading)
		}
	case kindDeleteGroup:
		if g := c.groups[r.group]; g != nil {
			clear(g.offsets)
			clear(g.txnOffsets)
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
			for pid, offs := range g.txnOffsets {
				for tp := range offs {
					if tp.topic == r.topic {
						delete(offs, tp)
					}
				}
				if len(offs) == 0 {
					delete(g.txnOffsets, pid)
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
	c.enter(g, stateDead)
	delete(c.groups, g.name)
}

// unpend undoes the pending count of a commit record once it is applied
// (or failed to be written).
func (c *Coordinator) unpend(r *record) {
	if r.kind != kindCommit && r.kind != kindTxnCommit {
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
